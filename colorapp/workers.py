"""Background work: jobs that run one at a time in a QThread.

A ``Job`` wraps a plain callable. ``WorkerThread`` runs submitted jobs in order in
its own QThread, so the UI thread does not wait for the engine, except in
``shutdown``. Each job then emits exactly one of ``finished(result)`` or
``failed(message)``, in the UI thread, after the worker's busy state is updated.
Jobs dropped by ``shutdown`` emit neither.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from engine.errors import ColorAppError

logger = logging.getLogger(__name__)

_live_worker_threads: weakref.WeakSet[WorkerThread] = weakref.WeakSet()


class Job(QObject):
    """One piece of background work and its outcome signals.

    ``description`` is a gerund phrase such as "Colorizing scan.jpg", used in the log
    and in the message of an unexpected error.
    """

    finished = Signal(object)
    failed = Signal(str)

    def __init__(self, description: str, function: Callable[[], object]) -> None:
        super().__init__()
        self.description = description
        self._function = function

    def execute(self) -> tuple[bool, object]:
        """Call the function in the worker thread; return (True, result) or (False, message)."""
        logger.info("%s: started", self.description)
        started = time.perf_counter()
        try:
            result = self._function()
        except ColorAppError as error:
            # Engine errors carry a message written for the user.
            logger.error("%s: failed: %s", self.description, error)
            return False, str(error)
        except Exception as error:
            logger.exception("%s: failed with an unexpected error", self.description)
            return False, (
                f"{self.description} failed: {type(error).__name__}: {error}. "
                "The log file has the details (Help > Open Log Folder)."
            )
        logger.info("%s: finished in %.2f s", self.description, time.perf_counter() - started)
        return True, result

    def deliver(self, succeeded: bool, value: object) -> None:
        """Emit the outcome that ``execute`` returned; called in the UI thread."""
        if succeeded:
            self.finished.emit(value)
        else:
            self.failed.emit(value)


class _JobRunner(QObject):
    """Lives in the worker thread and runs each job it receives."""

    job_done = Signal(object, bool, object)
    """The job and the (succeeded, value) pair its ``execute`` returned."""

    def __init__(self) -> None:
        super().__init__()
        self.stopping = threading.Event()

    @Slot(object)
    def run_job(self, job: Job) -> None:
        # Python calls the QThread "Dummy-N"; the Qt name makes log lines readable.
        threading.current_thread().name = QThread.currentThread().objectName()
        if self.stopping.is_set():
            logger.info("%s: skipped because the worker is stopping", job.description)
            return
        succeeded, value = job.execute()
        self.job_done.emit(job, succeeded, value)


class WorkerThread(QObject):
    """A QThread that runs submitted jobs one at a time, in submission order.

    Call ``shutdown`` before the owner is destroyed: Qt aborts the process when a
    running QThread is deleted.
    """

    busy_changed = Signal(bool)
    _job_submitted = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._pending: list[Job] = []

        self._thread = QThread(self)
        self._thread.setObjectName(name)
        self._runner = _JobRunner()
        self._runner.moveToThread(self._thread)

        self._job_submitted.connect(self._runner.run_job)
        self._runner.job_done.connect(self._on_job_done)

        app = QCoreApplication.instance()
        if app is not None:
            # Covers quitting without closing the owner, for example app.quit().
            app.aboutToQuit.connect(self.shutdown)
        self._thread.start()
        _live_worker_threads.add(self)
        logger.info("Worker thread %s started", name)

    @property
    def name(self) -> str:
        return self._name

    def is_running(self) -> bool:
        return self._thread.isRunning()

    def is_busy(self) -> bool:
        """Return whether a job is running or waiting."""
        return bool(self._pending)

    def submit(self, job: Job) -> None:
        """Queue a job; raise RuntimeError after ``shutdown``."""
        if not self._thread.isRunning() or self._runner.stopping.is_set():
            raise RuntimeError(f"Worker thread {self._name} is stopped; cannot run: {job.description}")
        # The list keeps the Job alive until its outcome has been delivered.
        self._pending.append(job)
        if len(self._pending) == 1:
            self.busy_changed.emit(True)
        self._job_submitted.emit(job)

    def shutdown(self) -> None:
        """Stop the thread and wait for it; the running job completes, queued jobs are dropped."""
        if not self._thread.isRunning():
            return
        if self._pending:
            logger.info(
                "Worker thread %s: waiting for %s to finish; %d queued job(s) dropped",
                self._name, self._pending[0].description, len(self._pending) - 1,
            )
        self._runner.stopping.set()
        self._thread.quit()
        self._thread.wait()
        was_busy = bool(self._pending)
        self._pending.clear()
        if was_busy:
            self.busy_changed.emit(False)
        logger.info("Worker thread %s stopped", self._name)

    @Slot(object, bool, object)
    def _on_job_done(self, job: Job, succeeded: bool, value: object) -> None:
        if job not in self._pending:
            # shutdown() dropped it while it ran; its owner is closing.
            logger.info("%s: outcome dropped because the worker has stopped", job.description)
            return
        self._pending.remove(job)
        if not self._pending:
            self.busy_changed.emit(False)
        job.deliver(succeeded, value)


def running_worker_threads() -> list[str]:
    """Names of WorkerThreads whose QThread still runs; tests check it is empty."""
    names = []
    for worker in list(_live_worker_threads):
        try:
            if worker.is_running():
                names.append(worker.name)
        except RuntimeError:
            # The C++ object is gone. Qt aborts before deleting a running QThread,
            # so this worker's thread had already stopped.
            continue
    return names
