"""Colorize and export runs over queue photos, one engine job per photo.

``RunController`` is the one place that turns job outcomes into queue states, so
a failed photo always shows its reason on its row and the run goes on with the
next photo. One run is active at a time, and ``cancel`` stops the running photo at
the engine's next check and skips the waiting ones.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtCore import QObject, Signal

from colorapp.batch import BatchProgress, RunKind
from colorapp.intake import failure_reason
from colorapp.photo_queue import ItemStatus, PhotoQueue, QueueItem
from colorapp.result_store import ResultStore
from colorapp.tasks import (
    ColorizeOutcome,
    ColorizeRequest,
    ColorizerCache,
    ExportOptions,
    ExportOutcome,
    colorize_item,
    export_item,
)
from colorapp.workers import Job, JobControl, WorkerThread
from engine.inference import RenderSettings

logger = logging.getLogger(__name__)

RequestFactory = Callable[[QueueItem], ColorizeRequest]
"""Builds the colorize request for a queue item from the current model and settings."""


def result_signature(model_key: str, settings: RenderSettings) -> tuple:
    """Return what makes two results of the same photo equal: the model and the render settings."""
    return (model_key, settings)


class RunController(QObject):
    """Runs colorize or export jobs for queue items in the engine worker and records their outcomes."""

    item_colorized = Signal(object)
    """A ColorizeOutcome, after the queue row shows it."""
    item_exported = Signal(object)
    """An ExportOutcome, after the queue row shows it."""
    item_failed = Signal(int, str)
    """Item id and the full error message."""
    progress_changed = Signal(object)
    """The BatchProgress of the active run."""
    run_finished = Signal(object)
    """The final BatchProgress."""
    note = Signal(str)
    """A message from the engine for the status bar, such as a fallback to the CPU."""

    def __init__(
        self,
        queue: PhotoQueue,
        worker: WorkerThread,
        cache: ColorizerCache,
        store: ResultStore,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._queue = queue
        self._worker = worker
        self._cache = cache
        self._store = store
        self._progress: BatchProgress | None = None
        self._jobs: dict[int, Job] = {}
        self._requests: dict[int, ColorizeRequest] = {}
        # Status of each item before the run touched it, restored when its job is cancelled.
        self._status_before: dict[int, ItemStatus] = {}

    @property
    def progress(self) -> BatchProgress | None:
        """The active run's progress, or None while no run is active."""
        return self._progress

    def is_running(self) -> bool:
        return self._progress is not None

    def start_colorize(self, items: Sequence[QueueItem], make_request: RequestFactory) -> bool:
        """Colorize the items in order. Return False if a run is already active or there are none."""
        return self._start(RunKind.COLORIZE, items, make_request, None)

    def start_export(self, items: Sequence[QueueItem], make_request: RequestFactory, options: ExportOptions) -> bool:
        """Export the items in order, colorizing those without a result first."""
        return self._start(RunKind.EXPORT, items, make_request, options)

    def cancel(self) -> None:
        """Stop the run: the running photo stops at the engine's next check, waiting ones are skipped."""
        if self._progress is None:
            return
        self._progress.cancel_requested = True
        for job in self._jobs.values():
            job.cancel()
        logger.info("Cancelling the %s run", self._progress.kind.value)
        self.progress_changed.emit(self._progress)

    def cancel_items(self, item_ids: Sequence[int]) -> None:
        """Stop the jobs of items that leave the queue."""
        for item_id in item_ids:
            job = self._jobs.get(item_id)
            if job is not None:
                job.cancel()

    # Internals

    def _start(
        self,
        kind: RunKind,
        items: Sequence[QueueItem],
        make_request: RequestFactory,
        options: ExportOptions | None,
    ) -> bool:
        if self._progress is not None or not items:
            return False
        self._progress = BatchProgress(kind, [item.item_id for item in items])
        logger.info("Starting a %s run over %d photo(s)", kind.value, len(items))
        for item in items:
            request = make_request(item)
            control = JobControl()
            if kind is RunKind.COLORIZE:
                function = partial(colorize_item, self._cache, self._store, request, control)
                description = f"Colorizing {item.path} with {request.model.name}"
            else:
                function = partial(export_item, self._cache, self._store, request, options, control)
                description = f"Exporting {item.path} into {options.folder}"
            job = Job(description, function, control)
            item_id = item.item_id
            job.started.connect(partial(self._on_started, item_id))
            job.progress.connect(partial(self._on_progress, item_id))
            job.note.connect(self.note)
            job.finished.connect(self._on_finished)
            job.failed.connect(partial(self._on_failed, item_id))
            job.cancelled.connect(partial(self._on_cancelled, item_id))
            self._jobs[item_id] = job
            self._requests[item_id] = request
            self._status_before[item_id] = item.status
            self._worker.submit(job)
        self.progress_changed.emit(self._progress)
        return True

    def _on_started(self, item_id: int) -> None:
        self._progress.start_item(item_id)
        item = self._queue.get(item_id)
        if item is not None and (self._progress.kind is RunKind.COLORIZE or item_id not in self._store):
            self._queue.update(item_id, status=ItemStatus.COLORIZING, progress=0.0, reason="")
        self.progress_changed.emit(self._progress)

    def _on_progress(self, item_id: int, done: int, total: int) -> None:
        fraction = done / total if total > 0 else 0.0
        self._progress.set_item_fraction(item_id, fraction)
        item = self._queue.get(item_id)
        if item is not None and item.status is ItemStatus.COLORIZING:
            self._queue.update(item_id, progress=fraction)
        self.progress_changed.emit(self._progress)

    def _on_finished(self, outcome: ColorizeOutcome | ExportOutcome) -> None:
        item_id = outcome.item_id
        if isinstance(outcome, ExportOutcome):
            if outcome.colorized is not None:
                self._record_colorized(outcome.colorized)
            if outcome.path is None:
                self._on_failed(item_id, outcome.error)
                return
            self._queue.update(item_id, status=ItemStatus.EXPORTED, exported_path=outcome.path, reason="")
            self._progress.finish_item(item_id)
            self.item_exported.emit(outcome)
        else:
            self._record_colorized(outcome)
            self._progress.finish_item(item_id)
            self.item_colorized.emit(outcome)
        self._after_item(item_id)

    def _record_colorized(self, outcome: ColorizeOutcome) -> None:
        request = self._requests[outcome.item_id]
        changes = dict(
            status=ItemStatus.DONE,
            progress=0.0,
            reason="",
            result_model=outcome.model.name,
            result_signature=result_signature(request.model.key, request.settings),
        )
        item = self._queue.get(outcome.item_id)
        if item is not None and item.size is None:
            changes["size"] = outcome.result.size
        if self._queue.update(outcome.item_id, **changes) is None:
            # The photo left the queue while it was colorized.
            self._store.discard(outcome.item_id)
        if self._progress.kind is RunKind.EXPORT:
            # The export step follows in the same job.
            self.item_colorized.emit(outcome)

    def _on_failed(self, item_id: int, message: str) -> None:
        item = self._queue.get(item_id)
        if item is not None:
            self._queue.update(
                item_id, status=ItemStatus.FAILED, progress=0.0, reason=failure_reason(message, item.path)
            )
        self._progress.finish_item(item_id, error=message)
        self.item_failed.emit(item_id, message)
        self._after_item(item_id)

    def _on_cancelled(self, item_id: int) -> None:
        item = self._queue.get(item_id)
        if item is not None:
            before = self._status_before.get(item_id, ItemStatus.WAITING)
            if item.has_result and before in (ItemStatus.WAITING, ItemStatus.FAILED):
                before = ItemStatus.DONE
            self._queue.update(item_id, status=before, progress=0.0)
        self._progress.finish_item(item_id, cancelled=True)
        self._after_item(item_id)

    def _after_item(self, item_id: int) -> None:
        self._jobs.pop(item_id, None)
        self._requests.pop(item_id, None)
        self._status_before.pop(item_id, None)
        progress = self._progress
        self.progress_changed.emit(progress)
        if progress.is_complete:
            self._progress = None
            logger.info("Finished the %s run: %s", progress.kind.value, progress.summary())
            self.run_finished.emit(progress)
