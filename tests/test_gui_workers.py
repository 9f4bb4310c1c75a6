"""WorkerThread and Job: outcomes in the UI thread, errors, progress, cancel, priority, shutdown."""

from __future__ import annotations

import threading

import pytest

from colorapp.workers import Job, JobControl, WorkerThread, running_worker_threads
from engine.errors import ImageReadError

pytestmark = pytest.mark.usefixtures("no_leftover_threads")


@pytest.fixture
def worker(qapp):
    thread = WorkerThread("test-worker")
    yield thread
    thread.shutdown()


def test_job_outcome_in_ui_thread(worker, qtbot):
    ui_thread = threading.get_ident()
    job_threads = []
    delivered_threads = []

    def work():
        job_threads.append(threading.get_ident())
        return 42

    job = Job("Adding numbers", work)
    job.finished.connect(lambda value: delivered_threads.append(threading.get_ident()))
    with qtbot.waitSignal(job.finished, timeout=5000) as blocker:
        worker.submit(job)

    assert blocker.args == [42]
    assert job_threads[0] != ui_thread
    assert delivered_threads == [ui_thread]


def test_engine_error_message_passed_through(worker, qtbot):
    def fail():
        raise ImageReadError("scan.tif: file not found; it may have been moved or deleted")

    job = Job("Loading scan.tif", fail)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        worker.submit(job)

    assert blocker.args == ["scan.tif: file not found; it may have been moved or deleted"]


def test_unexpected_error_names_job_and_error(worker, qtbot):
    def crash():
        raise RuntimeError("out of memory")

    job = Job("Colorizing scan.tif", crash)
    with qtbot.waitSignal(job.failed, timeout=5000) as blocker:
        worker.submit(job)

    message = blocker.args[0]
    assert message.startswith("Colorizing scan.tif failed")
    assert "RuntimeError: out of memory" in message


def test_busy_state_follows_jobs(worker, qtbot):
    release = threading.Event()
    states = []
    worker.busy_changed.connect(states.append)

    first = Job("Waiting", lambda: release.wait(5))
    second = Job("Returning", lambda: "done")
    worker.submit(first)
    worker.submit(second)
    assert worker.is_busy()

    with qtbot.waitSignal(second.finished, timeout=5000):
        release.set()

    assert not worker.is_busy()
    assert states == [True, False]


def test_shutdown_drops_queued_jobs(qapp, qtbot):
    worker = WorkerThread("shutdown-worker")
    started = threading.Event()
    release = threading.Event()
    ran = []
    outcomes = []

    def block():
        started.set()
        release.wait(5)
        ran.append("first")

    first = Job("Blocking", block)
    second = Job("Queued", lambda: ran.append("second"))
    for job in (first, second):
        job.finished.connect(outcomes.append)
        worker.submit(job)
    assert started.wait(5)

    # shutdown() waits for the running job, so it must be released from another thread.
    threading.Timer(0.2, release.set).start()
    worker.shutdown()
    qapp.processEvents()

    assert ran == ["first"]
    assert outcomes == []
    assert not worker.is_running()
    assert "shutdown-worker" not in running_worker_threads()
    with pytest.raises(RuntimeError):
        worker.submit(Job("Too late", lambda: None))


def test_progress_and_notes_reach_ui_thread(worker, qtbot):
    ui_thread = threading.get_ident()
    control = JobControl()
    seen = []

    def work():
        for step in range(1, 4):
            control.progress(step, 3)
        control.notify("Out of GPU memory; continuing on the CPU")
        return "done"

    job = Job("Colorizing in steps", work, control)
    job.progress.connect(lambda done, total: seen.append((done, total, threading.get_ident())))
    job.note.connect(lambda message: seen.append((message, threading.get_ident())))
    with qtbot.waitSignal(job.finished, timeout=5000):
        worker.submit(job)

    assert seen == [
        (1, 3, ui_thread), (2, 3, ui_thread), (3, 3, ui_thread),
        ("Out of GPU memory; continuing on the CPU", ui_thread),
    ]


def test_cancel_stops_running_and_skips_waiting(worker, qtbot):
    started = threading.Event()
    ran = []

    def poll(control):
        started.set()
        while not control.is_cancelled():
            threading.Event().wait(0.01)
        control.raise_if_cancelled()

    first_control = JobControl()
    first = Job("Polling", lambda: poll(first_control), first_control)
    second = Job("Waiting", lambda: ran.append("second"))
    outcomes = []
    for job in (first, second):
        job.cancelled.connect(lambda job=job: outcomes.append(job.description))
        job.finished.connect(lambda _value, job=job: outcomes.append(f"{job.description} finished"))
        worker.submit(job)
    assert started.wait(5)

    with qtbot.waitSignal(second.cancelled, timeout=5000):
        worker.cancel_all()

    assert outcomes == ["Polling", "Waiting"]
    assert ran == []
    assert not worker.is_busy()


def test_urgent_job_runs_before_waiting_ones(worker, qtbot):
    release = threading.Event()
    order = []
    blocker_job = Job("Blocking", lambda: release.wait(5))
    normal = Job("Normal", lambda: order.append("normal"))
    urgent = Job("Urgent", lambda: order.append("urgent"))
    worker.submit(blocker_job)
    worker.submit(normal)
    worker.submit(urgent, urgent=True)

    with qtbot.waitSignal(normal.finished, timeout=5000):
        release.set()

    assert order == ["urgent", "normal"]
