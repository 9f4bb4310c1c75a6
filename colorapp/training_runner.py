"""Runs dataset checks and fine-tuning sessions in their own worker thread.

A training run blocks its thread for minutes to days, so it gets a ``WorkerThread``
of its own and never holds up colorizing. The session's events travel through
``JobControl.report`` and arrive here in the UI thread, where each kind becomes
its own signal.
"""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Signal, Slot

from colorapp.workers import Job, JobControl, WorkerThread
from engine.training.callbacks import StepEvent, ValidationEvent
from engine.training.session import (
    BasePreviewEvent,
    CheckpointEvent,
    FineTuneSession,
    FineTuneSettings,
    PauseEvent,
    RunRecord,
    StageEvent,
    StartEvent,
    check_dataset,
)

logger = logging.getLogger(__name__)


class TrainingRunner(QObject):
    """Starts, pauses and stops one fine-tuning session at a time; every signal arrives in the UI thread.

    Call ``shutdown`` before the owner is destroyed. It stops a running session
    without exporting and waits until its checkpoint is written.
    """

    check_progress = Signal(int, int)
    check_finished = Signal(object)
    """The DatasetReport of the checked folder."""
    check_failed = Signal(str)
    check_cancelled = Signal()
    stage_changed = Signal(str)
    """A status message: reading photos, preparing models, exporting."""
    base_previews_ready = Signal(object)
    """A BasePreviewEvent, before the first step."""
    training_started = Signal(object)
    """A StartEvent; its step is the checkpoint's when resuming."""
    step_finished = Signal(object)
    """A StepEvent."""
    validated = Signal(object)
    """A ValidationEvent with previews."""
    pause_changed = Signal(bool)
    """True once the trainer waits between steps, False when it goes on or stops."""
    checkpoint_saved = Signal(object)
    """A CheckpointEvent."""
    run_finished = Signal(object)
    """The SessionResult of a run that ended without an error."""
    run_failed = Signal(str)
    run_cancelled = Signal()
    """The run was stopped before its first step."""
    exported = Signal(object)
    """(model path, card path) of :meth:`export_run`."""
    export_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        app = QCoreApplication.instance()
        if app is not None:
            # Connected before the worker exists, so that on quit the session stops
            # before the worker's own aboutToQuit handler waits for the job to end.
            app.aboutToQuit.connect(self._stop_for_quit)
        self.worker = WorkerThread("colorapp-trainer", self)
        self.session: FineTuneSession | None = None
        self._check_job: Job | None = None
        self._last_report = None
        """The latest finished dataset check; the session reuses it when it covers the run's folder."""
        self._run_job: Job | None = None
        self._export_job: Job | None = None

    def is_checking(self) -> bool:
        return self._check_job is not None

    def is_exporting(self) -> bool:
        return self._export_job is not None

    def is_training(self) -> bool:
        """Return whether a session runs, from reading the photos until it has ended."""
        return self._run_job is not None

    # Dataset check

    def check(self, folder: Path) -> None:
        """Screen the photos of ``folder`` in the background; ``check_finished`` or ``check_failed`` follows."""
        self.cancel_check()
        control = JobControl()
        job = Job(f"Checking the photos in {folder}", partial(_check, folder, control), control)
        job.progress.connect(self.check_progress)
        job.finished.connect(partial(self._on_check_finished, job))
        job.failed.connect(partial(self._on_check_failed, job))
        job.cancelled.connect(partial(self._on_check_cancelled, job))
        self._check_job = job
        self.worker.submit(job)

    def cancel_check(self) -> None:
        if self._check_job is not None:
            self._check_job.cancel()

    def _forget_check(self, job: Job) -> None:
        # A cancelled check may end after a newer one has started.
        if job is self._check_job:
            self._check_job = None

    def _on_check_finished(self, job: Job, report) -> None:
        self._forget_check(job)
        self._last_report = report
        self.check_finished.emit(report)

    def _on_check_failed(self, job: Job, message: str) -> None:
        self._forget_check(job)
        self.check_failed.emit(message)

    def _on_check_cancelled(self, job: Job) -> None:
        self._forget_check(job)
        self.check_cancelled.emit()

    # Training

    def start(self, settings: FineTuneSettings, runs_root: Path, user_model_dir: Path) -> Path:
        """Create a run folder and start training in it; return the folder.

        Raises:
            RuntimeError: a session is running already.
            TrainingError: the run folder cannot be created.
        """
        self._ensure_idle()
        session = FineTuneSession.create(settings, runs_root, user_model_dir, report=self._last_report)
        self._submit(session, resume=False)
        return session.run_dir

    def resume(self, record: RunRecord, user_model_dir: Path) -> None:
        """Continue an unfinished run from its last checkpoint."""
        self._ensure_idle()
        self._submit(FineTuneSession(record, user_model_dir), resume=True)

    def pause(self) -> None:
        if self.session is not None:
            self.session.pause()

    def unpause(self) -> None:
        if self.session is not None:
            self.session.unpause()

    def stop(self, export_model: bool = True) -> None:
        """Stop after the current step; export the model unless ``export_model`` is False."""
        if self.session is not None:
            logger.info("Stopping the training run %s (export: %s)", self.session.run_dir, export_model)
            self.session.stop(export_model=export_model)

    def export_run(self, record: RunRecord, user_model_dir: Path) -> None:
        """Export an unfinished run's last checkpoint as a model; ``exported`` or ``export_failed`` follows."""
        self._ensure_idle()
        session = FineTuneSession(record, user_model_dir)
        job = Job(f"Saving the model {record.settings.model_name}", session.export)
        job.finished.connect(self._on_exported)
        job.failed.connect(self._on_export_failed)
        self._export_job = job
        self.worker.submit(job)

    @Slot(object)
    def _on_exported(self, written) -> None:
        self._export_job = None
        self.exported.emit(written)

    @Slot(str)
    def _on_export_failed(self, message: str) -> None:
        self._export_job = None
        self.export_failed.emit(message)

    def shutdown(self) -> None:
        """Stop a running session without exporting, wait for its checkpoint and stop the thread."""
        self.cancel_check()
        self.stop(export_model=False)
        self.worker.shutdown()

    def _ensure_idle(self) -> None:
        if self._run_job is not None or self._export_job is not None:
            raise RuntimeError("a training run or export is already in progress; wait for it to end")

    def _submit(self, session: FineTuneSession, resume: bool) -> None:
        control = JobControl()
        session.on_event = control.report
        verb = "Resuming" if resume else "Training"
        job = Job(f"{verb} the model {session.settings.model_name}", partial(session.run, resume), control)
        job.event.connect(self._on_event)
        job.finished.connect(self._on_run_finished)
        job.failed.connect(self._on_run_failed)
        job.cancelled.connect(self._on_run_cancelled)
        self.session = session
        self._run_job = job
        self.worker.submit(job)

    @Slot(object)
    def _on_event(self, event: object) -> None:
        if isinstance(event, StepEvent):
            self.step_finished.emit(event)
        elif isinstance(event, ValidationEvent):
            self.validated.emit(event)
        elif isinstance(event, PauseEvent):
            self.pause_changed.emit(event.paused)
        elif isinstance(event, StartEvent):
            self.training_started.emit(event)
        elif isinstance(event, BasePreviewEvent):
            self.base_previews_ready.emit(event)
        elif isinstance(event, CheckpointEvent):
            self.checkpoint_saved.emit(event)
        elif isinstance(event, StageEvent):
            self.stage_changed.emit(event.message)

    def _end_run(self) -> None:
        self._run_job = None
        self.session = None

    @Slot(object)
    def _on_run_finished(self, result) -> None:
        self._end_run()
        self.run_finished.emit(result)

    @Slot(str)
    def _on_run_failed(self, message: str) -> None:
        self._end_run()
        self.run_failed.emit(message)

    @Slot()
    def _on_run_cancelled(self) -> None:
        self._end_run()
        self.run_cancelled.emit()

    @Slot()
    def _stop_for_quit(self) -> None:
        self.cancel_check()
        self.stop(export_model=False)


def _check(folder: Path, control: JobControl):
    return check_dataset(folder, progress=control.progress, cancelled=control.is_cancelled)
