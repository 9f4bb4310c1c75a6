"""Filling the compare grid: one engine job per model, results shown as they arrive."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from colorapp.photo_queue import QueueItem
from colorapp.tasks import ColorizerCache, CompareOutcome, colorize_for_compare
from colorapp.widgets.compare_grid import CompareGridDialog
from colorapp.workers import Job, JobControl, WorkerThread
from engine.catalog import ModelEntry
from engine.inference import RenderSettings

logger = logging.getLogger(__name__)


class CompareRunner(QObject):
    """Opens one compare grid at a time and cancels its remaining jobs when it closes."""

    finished = Signal()
    """Every pane of the open grid has its result or error."""
    note = Signal(str)
    """A message from the engine for the status bar."""

    def __init__(self, worker: WorkerThread, colorizers: ColorizerCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._worker = worker
        self._colorizers = colorizers
        self._jobs: dict[str, Job] = {}
        self.dialog: CompareGridDialog | None = None
        """The open grid, or None."""

    def open(
        self,
        item: QueueItem,
        original: QImage,
        models: Sequence[ModelEntry],
        settings: RenderSettings,
        device: str,
        parent: QWidget,
    ) -> CompareGridDialog:
        """Show a grid of ``original`` and colorize ``item`` with each model, ahead of waiting work."""
        self.close()
        dialog = CompareGridDialog(item.name, original, models, parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.closed.connect(partial(self._on_closed, dialog))
        self.dialog = dialog

        jobs = []
        for model in models:
            control = JobControl()
            job = Job(
                f"Colorizing {item.path} with {model.name} for the compare grid",
                partial(colorize_for_compare, self._colorizers, item.path, model, settings, device, control),
                control,
            )
            job.started.connect(partial(self._on_started, dialog, model.key))
            job.finished.connect(partial(self._on_result, dialog))
            job.failed.connect(partial(self._on_failed, dialog, model.key))
            job.note.connect(self.note)
            self._jobs[model.key] = job
            jobs.append(job)
        # Urgent jobs go to the front one by one, so they are submitted last to first.
        for job in reversed(jobs):
            self._worker.submit(job, urgent=True)
        dialog.show()
        return dialog

    def close(self) -> None:
        if self.dialog is not None:
            self.dialog.close()

    # A closed dialog may already be deleted when a queued signal arrives, so each
    # handler first checks that its dialog is still the open one.

    def _on_started(self, dialog: CompareGridDialog, model_key: str) -> None:
        if dialog is self.dialog:
            dialog.set_model_running(model_key)

    def _on_result(self, dialog: CompareGridDialog, outcome: CompareOutcome) -> None:
        if dialog is not self.dialog:
            return
        self._jobs.pop(outcome.model.key, None)
        dialog.set_model_result(outcome.model.key, outcome.image, f"{outcome.seconds:.1f} s on {outcome.device}")
        self._after_job()

    def _on_failed(self, dialog: CompareGridDialog, model_key: str, message: str) -> None:
        if dialog is not self.dialog:
            return
        self._jobs.pop(model_key, None)
        dialog.set_model_failed(model_key, message)
        self._after_job()

    def _after_job(self) -> None:
        if not self._jobs:
            self.finished.emit()

    def _on_closed(self, dialog: CompareGridDialog) -> None:
        if dialog is not self.dialog:
            return
        for job in self._jobs.values():
            job.cancel()
        if self._jobs:
            logger.info("Compare grid closed; cancelled %d model job(s)", len(self._jobs))
        self._jobs.clear()
        self.dialog = None
