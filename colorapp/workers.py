"""Background work: jobs that run one at a time in a QThread.

A ``Job`` wraps a plain callable. ``WorkerThread`` runs submitted jobs in its own
QThread, urgent ones first and the rest in submission order, so the UI thread
does not wait for the engine, except in ``shutdown``. Each job then emits exactly
one of ``finished(result)``, ``failed(message)`` or ``cancelled()``, in the UI
thread, after the worker's busy state is updated. Jobs dropped by ``shutdown``
emit none of them.

A job that reports progress or can be cancelled gets a ``JobControl``: the
function polls ``is_cancelled`` and calls ``progress``, ``notify`` and ``report``
in the worker thread, and the job re-emits them as signals in the UI thread.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from engine.errors import CancelledError, ColorAppError

logger = logging.getLogger(__name__)

_live_worker_threads: weakref.WeakSet[WorkerThread] = weakref.WeakSet()


class Outcome(enum.Enum):
    FINISHED = "finished"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobControl:
    """Cancel flag and progress callbacks shared by a job and the function it runs.

    Thread-safe. The worker connects the callbacks just before the function runs.
    """

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._on_progress: Callable[[int, int], None] | None = None
        self._on_notify: Callable[[str], None] | None = None
        self._on_report: Callable[[object], None] | None = None

    def cancel(self) -> None:
        self._cancel.set()

    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise ``engine.errors.CancelledError`` once ``cancel`` was called."""
        if self._cancel.is_set():
            raise CancelledError("Cancelled")

    def progress(self, done: int, total: int) -> None:
        """Report that ``done`` of ``total`` steps are complete."""
        if self._on_progress is not None:
            self._on_progress(done, total)

    def notify(self, message: str) -> None:
        """Report a note for the user, such as a fallback to the CPU."""
        if self._on_notify is not None:
            self._on_notify(message)

    def report(self, event: object) -> None:
        """Send an event object, such as a training step, to the job's ``event`` signal."""
        if self._on_report is not None:
            self._on_report(event)

    def connect(
        self,
        on_progress: Callable[[int, int], None],
        on_notify: Callable[[str], None],
        on_report: Callable[[object], None] | None = None,
    ) -> None:
        self._on_progress = on_progress
        self._on_notify = on_notify
        self._on_report = on_report


class Job(QObject):
    """One piece of background work and its outcome signals.

    ``description`` is a gerund phrase such as "Colorizing scan.jpg", used in the log
    and in the message of an unexpected error.
    """

    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    started = Signal()
    """The worker began running the job. Skipped jobs never send it."""
    progress = Signal(int, int)
    """Steps done and total steps, from ``JobControl.progress``."""
    note = Signal(str)
    """A message for the status bar, from ``JobControl.notify``."""
    event = Signal(object)
    """An event object from ``JobControl.report``, in the order the job sent them."""

    def __init__(
        self, description: str, function: Callable[[], object], control: JobControl | None = None
    ) -> None:
        super().__init__()
        self.description = description
        self._function = function
        self.control = control if control is not None else JobControl()

    def cancel(self) -> None:
        """Ask the job to stop: a waiting job is skipped, a running one stops at its next check."""
        self.control.cancel()

    def execute(self) -> tuple[Outcome, object]:
        """Call the function in the worker thread. Return the outcome and the result or message."""
        if self.control.is_cancelled():
            logger.info("%s: skipped because it was cancelled", self.description)
            return Outcome.CANCELLED, None
        logger.info("%s: started", self.description)
        started = time.perf_counter()
        try:
            result = self._function()
        except CancelledError:
            logger.info("%s: cancelled after %.2f s", self.description, time.perf_counter() - started)
            return Outcome.CANCELLED, None
        except ColorAppError as error:
            # Engine errors carry a message written for the user.
            logger.error("%s: failed: %s", self.description, error)
            return Outcome.FAILED, str(error)
        except Exception as error:
            logger.exception("%s: failed with an unexpected error", self.description)
            return Outcome.FAILED, (
                f"{self.description} failed: {type(error).__name__}: {error}. "
                "The log file has the details (Help > Show Log Folder)."
            )
        logger.info("%s: finished in %.2f s", self.description, time.perf_counter() - started)
        return Outcome.FINISHED, result

    def deliver(self, outcome: Outcome, value: object) -> None:
        """Emit the outcome that ``execute`` returned; called in the UI thread."""
        if outcome is Outcome.FINISHED:
            self.finished.emit(value)
        elif outcome is Outcome.FAILED:
            self.failed.emit(value)
        else:
            self.cancelled.emit()


class _JobRunner(QObject):
    """Lives in the worker thread and runs the next waiting job each time it is woken."""

    job_done = Signal(object, object, object)
    """The job and the (outcome, value) pair its ``execute`` returned."""
    job_started = Signal(object)
    job_progress = Signal(object, int, int)
    job_note = Signal(object, str)
    job_event = Signal(object, object)

    def __init__(self, take_next: Callable[[], Job | None]) -> None:
        super().__init__()
        self.stopping = threading.Event()
        self._take_next = take_next

    @Slot()
    def run_next(self) -> None:
        # Python calls the QThread "Dummy-N"; the Qt name makes log lines readable.
        threading.current_thread().name = QThread.currentThread().objectName()
        job = self._take_next()
        if job is None:
            return
        if self.stopping.is_set():
            logger.info("%s: skipped because the worker is stopping", job.description)
            return
        # Signals of this object, which lives in the worker thread, reach the
        # WorkerThread in the UI thread through queued connections.
        job.control.connect(
            lambda done, total: self.job_progress.emit(job, done, total),
            lambda message: self.job_note.emit(job, message),
            lambda event: self.job_event.emit(job, event),
        )
        if not job.control.is_cancelled():
            self.job_started.emit(job)
        outcome, value = job.execute()
        self.job_done.emit(job, outcome, value)


class WorkerThread(QObject):
    """A QThread that runs submitted jobs one at a time.

    Urgent jobs run before the waiting ones, and otherwise jobs run in submission order.

    Call ``shutdown`` before the owner is destroyed: Qt aborts the process when a
    running QThread is deleted.
    """

    busy_changed = Signal(bool)
    _job_submitted = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        # Jobs whose outcome is not delivered yet, running or waiting.
        self._pending: list[Job] = []
        # Jobs not started yet, shared with the worker thread under the lock.
        self._waiting: deque[Job] = deque()
        self._waiting_lock = threading.Lock()

        self._thread = QThread(self)
        self._thread.setObjectName(name)
        self._runner = _JobRunner(self._take_next)
        self._runner.moveToThread(self._thread)

        self._job_submitted.connect(self._runner.run_next)
        self._runner.job_done.connect(self._on_job_done)
        self._runner.job_started.connect(self._on_job_started)
        self._runner.job_progress.connect(self._on_job_progress)
        self._runner.job_note.connect(self._on_job_note)
        self._runner.job_event.connect(self._on_job_event)

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

    def submit(self, job: Job, urgent: bool = False) -> None:
        """Queue a job, before the waiting ones if ``urgent``. Raise RuntimeError after ``shutdown``."""
        if not self._thread.isRunning() or self._runner.stopping.is_set():
            raise RuntimeError(f"Worker thread {self._name} is stopped; cannot run: {job.description}")
        # The list keeps the Job alive until its outcome has been delivered.
        self._pending.append(job)
        with self._waiting_lock:
            if urgent:
                self._waiting.appendleft(job)
            else:
                self._waiting.append(job)
        if len(self._pending) == 1:
            self.busy_changed.emit(True)
        # One wake-up per job: each makes the runner take the first waiting job.
        self._job_submitted.emit()

    def cancel_all(self) -> None:
        """Cancel every job that is waiting or running."""
        for job in self._pending:
            job.cancel()

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
        with self._waiting_lock:
            self._waiting.clear()
        self._thread.quit()
        self._thread.wait()
        was_busy = bool(self._pending)
        self._pending.clear()
        if was_busy:
            self.busy_changed.emit(False)
        logger.info("Worker thread %s stopped", self._name)

    def _take_next(self) -> Job | None:
        # Called in the worker thread.
        with self._waiting_lock:
            return self._waiting.popleft() if self._waiting else None

    @Slot(object, object, object)
    def _on_job_done(self, job: Job, outcome: Outcome, value: object) -> None:
        if job not in self._pending:
            # shutdown() dropped it while it ran; its owner is closing.
            logger.info("%s: outcome dropped because the worker has stopped", job.description)
            return
        self._pending.remove(job)
        if not self._pending:
            self.busy_changed.emit(False)
        job.deliver(outcome, value)

    @Slot(object)
    def _on_job_started(self, job: Job) -> None:
        if job in self._pending:
            job.started.emit()

    @Slot(object, int, int)
    def _on_job_progress(self, job: Job, done: int, total: int) -> None:
        if job in self._pending:
            job.progress.emit(done, total)

    @Slot(object, str)
    def _on_job_note(self, job: Job, message: str) -> None:
        if job in self._pending:
            job.note.emit(message)

    @Slot(object, object)
    def _on_job_event(self, job: Job, event: object) -> None:
        if job in self._pending:
            job.event.emit(event)


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
