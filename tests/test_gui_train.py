"""The Train tab: dataset check, fine-tuning with pause, resume and stop, and resuming after a restart."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from colorapp import settings as setting_keys
from colorapp.train_tab import ResumeChoice, TrainTab
from colorapp.widgets.preview_grid import BASE, CURRENT, ORIGINAL
from engine import paths
from engine.training.session import INTERRUPTED, read_run_record
from tests.helpers import make_training_folder

pytestmark = pytest.mark.usefixtures("no_leftover_threads")

CHECK_TIMEOUT_MS = 60_000
# A step of the compact model at batch 2 takes up to a few seconds on a busy CPU.
TRAIN_TIMEOUT_MS = 300_000
PAUSE_OBSERVATION_MS = 3_000
"""How long a paused run is watched for steps; several steps' time on a GPU, about one on a slow CPU."""


@pytest.fixture
def run_root(tmp_path, monkeypatch):
    """Run folders of this test, instead of the user data folder."""
    root = tmp_path / "runs"
    monkeypatch.setattr(paths, "checkpoint_dir", lambda: root)
    return root


@pytest.fixture
def train_windows(monkeypatch):
    """Closing chooses "stop and save"; a window still training at teardown stops its run and waits.

    The list collects the MainWindows whose runs must be stopped.
    """
    monkeypatch.setattr(TrainTab, "confirm_stop_for_close", lambda self: True)
    windows = []
    yield windows
    for window in windows:
        if window.train_tab.is_training():
            window.train_tab.shutdown()


RUN_EPOCHS = 100
"""Epochs of 3 steps each: more than the tests wait for, so that Stop always comes before the end."""


def _choose_small_run(qtbot, tab, folder) -> None:
    """Set the folder and a run of 100 epochs of 3 steps at batch 2 on the CPU, previews every 2 steps."""
    tab.set_folder(folder)
    panel = tab.panel
    panel.epochs_spin.setValue(RUN_EPOCHS)
    panel.batch_spin.setValue(2)
    panel.validate_spin.setValue(2)
    panel.device_combo.setCurrentIndex(panel.device_combo.findData("cpu"))
    panel.name_edit.clear()
    qtbot.keyClicks(panel.name_edit, "Family rooms")


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_check_lists_skipped_files(main_window, qtbot, tmp_path, run_root):
    tab = main_window.train_tab
    main_window.tabs.setCurrentWidget(tab)
    tab.set_folder(make_training_folder(tmp_path / "photos"))

    with qtbot.waitSignal(tab.check_finished, timeout=CHECK_TIMEOUT_MS) as blocker:
        _click(qtbot, tab.panel.check_button)

    report = blocker.args[0]
    assert len(report.usable) == 8
    rows = {name: (reason, detail) for name, reason, detail in tab.panel.skipped_rows()}
    assert sorted(rows) == ["broken.jpg", "grayscale.jpg", "sepia.jpg", "tiny.jpg"]
    assert rows["broken.jpg"][0] == "broken"
    assert rows["grayscale.jpg"] == ("grayscale", "mode L")
    assert rows["sepia.jpg"][0] == "sepia"
    assert rows["sepia.jpg"][1].startswith("one tint")
    assert rows["tiny.jpg"] == ("too small", "40x30")
    text = tab.panel.report_label.text()
    assert "8 usable colour photos: 7 for training, 1 held out for previews" in text
    assert "Skipped 4" in text
    # The recipe's batch of 8 needs 17 usable photos for two batches.
    assert tab.panel.batch_spin.value() == 8
    assert "there are 17 usable ones" in tab.panel.warning_label.text()
    assert "cannot start" in tab.panel.warning_label.text()
    tab.panel.batch_spin.setValue(2)
    assert tab.panel.warning_label.isHidden()


def test_too_few_photos_refuse_start(main_window, qtbot, tmp_path, run_root):
    tab = main_window.train_tab
    folder = make_training_folder(tmp_path / "photos")
    for photo in sorted(folder.glob("mirrored_*")):
        photo.unlink()
    tab.set_folder(folder)
    tab.panel.batch_spin.setValue(4)

    with qtbot.waitSignal(main_window.train_tab.error_occurred, timeout=CHECK_TIMEOUT_MS) as blocker:
        assert tab.start_training()

    title, message = blocker.args
    assert title == "Too Few Photos"
    assert "Only 4 usable colour photos: 3 for training" in message
    assert not tab.is_training()
    assert not run_root.exists()


def test_base_model_fixes_recipes(main_window):
    panel = main_window.train_tab.panel

    assert panel.base_key() == "pix2pix"
    assert [panel.recipe_combo.itemData(i) for i in range(panel.recipe_combo.count())] == ["pix2pix"]
    assert not panel.width_combo.isEnabled()
    assert panel.lr_spin.value() == pytest.approx(2e-5)

    panel.base_combo.setCurrentIndex(panel.base_combo.findData("scratch"))

    recipes = [panel.recipe_combo.itemData(i) for i in range(panel.recipe_combo.count())]
    assert recipes == ["pix2pix", "pix2pix-class", "wgan-gp-class"]
    assert panel.width_combo.isEnabled()
    assert panel.lr_spin.value() == pytest.approx(2e-4)
    panel.recipe_combo.setCurrentIndex(panel.recipe_combo.findData("wgan-gp-class"))
    assert panel.lr_spin.value() == pytest.approx(1e-5)


def test_fine_tune_pause_stop_and_colorize(
    gui, qtbot, tmp_path, run_root, user_model_dir, gray_photo, app_settings, train_windows
):
    window = gui.window
    train_windows.append(window)
    tab = window.train_tab
    window.tabs.setCurrentWidget(tab)
    _choose_small_run(qtbot, tab, make_training_folder(tmp_path / "photos", sepia=False, too_small=False))

    with qtbot.waitSignal(tab.check_finished, timeout=CHECK_TIMEOUT_MS) as checked:
        _click(qtbot, tab.panel.check_button)
    skipped = {(name, reason) for name, reason, _detail in tab.panel.skipped_rows()}
    assert skipped == {("broken.jpg", "broken"), ("grayscale.jpg", "grayscale")}
    assert checked.args[0].training_count == 7
    assert tab.panel.warning_label.isHidden()

    with qtbot.waitSignal(tab.training_started, timeout=TRAIN_TIMEOUT_MS) as started:
        _click(qtbot, tab.panel.start_button)
    assert started.args[0].step == 0
    assert started.args[0].total_steps == 3 * RUN_EPOCHS
    assert tab.monitor.progress_bar.maximum() == 3 * RUN_EPOCHS
    assert not tab.panel.model_group.isEnabled()
    assert not tab.panel.check_button.isEnabled()
    assert app_settings.get(setting_keys.TRAIN_RUN_FOLDER).startswith(str(run_root))
    # The base model's previews come before the first step.
    assert tab.monitor.previews.row_count() == 1
    for column in (BASE, ORIGINAL):
        assert tab.monitor.previews.image(0, column).size().width() == 256
    assert tab.monitor.previews.image(0, CURRENT) is None

    qtbot.waitUntil(lambda: tab.monitor.last_step >= 1, timeout=TRAIN_TIMEOUT_MS)
    assert "Step" in tab.monitor.progress_label.text()
    assert "images/s" in tab.monitor.progress_label.text()
    assert "left" in tab.monitor.progress_label.text()

    with qtbot.waitSignal(tab.runner.pause_changed, timeout=TRAIN_TIMEOUT_MS) as paused:
        _click(qtbot, tab.panel.pause_button)
    assert paused.args == [True]
    paused_at = tab.monitor.last_step
    assert tab.panel.pause_button.text() == "Resume"
    assert tab.monitor.status_label.text() == f"Paused at step {paused_at:,}."
    with qtbot.assertNotEmitted(tab.runner.step_finished, wait=PAUSE_OBSERVATION_MS):
        pass
    assert tab.monitor.last_step == paused_at

    with qtbot.waitSignal(tab.runner.step_finished, timeout=TRAIN_TIMEOUT_MS) as resumed:
        _click(qtbot, tab.panel.pause_button)
    assert resumed.args[0].step == paused_at + 1
    assert tab.panel.pause_button.text() == "Pause"

    qtbot.waitUntil(lambda: tab.monitor.previews.image(0, CURRENT) is not None, timeout=TRAIN_TIMEOUT_MS)
    assert tab.monitor.previews.header(CURRENT).startswith("Step ")
    qtbot.waitUntil(
        lambda: "Validation ab error" in tab.monitor.loss_chart.chart_titles(), timeout=TRAIN_TIMEOUT_MS
    )
    titles = tab.monitor.loss_chart.chart_titles()
    for title in ("Generator loss (total)", "Discriminator loss", "Reconstruction loss (ab)",
                  "Adversarial loss (generator)"):
        assert title in titles
    assert len(tab.monitor.loss_chart.series_points("Generator loss (total)")) >= 2

    with qtbot.waitSignal(tab.run_ended, timeout=TRAIN_TIMEOUT_MS) as ended:
        _click(qtbot, tab.panel.stop_button)
    result = ended.args[0]
    assert result.reason == "stopped"
    assert paused_at + 1 <= result.step < 3 * RUN_EPOCHS
    assert result.model_path.parent == user_model_dir
    assert result.model_path.with_suffix(".md").is_file()
    assert app_settings.get(setting_keys.TRAIN_RUN_FOLDER) == ""
    assert tab.panel.model_group.isEnabled()
    assert tab.banner.isHidden()

    colorize = window.colorize_tab
    key = f"user:{result.model_path.stem}"
    assert key in [entry.key for entry in colorize.panel.model_picker.entries()]
    assert colorize.panel.model_picker.select_key(key)
    gui.open_and_show(gray_photo)
    outcome = gui.colorize_selected()
    assert outcome.model.key == key
    assert outcome.model.name == "Family rooms"
    assert colorize.view.has_result()
    # The new model is also offered as a base for the next run.
    assert tab.panel.base_combo.findData(key) >= 0


def test_reopened_window_resumes_run(qtbot, tmp_path, app_settings, user_model_dir, run_root,
                                     monkeypatch, train_windows):
    from colorapp.main_window import MainWindow
    from engine.catalog import ModelCatalog

    first = MainWindow(catalog=ModelCatalog(user_model_dir), settings=app_settings)
    qtbot.addWidget(first)
    train_windows.append(first)
    first.show()
    tab = first.train_tab
    _choose_small_run(qtbot, tab, make_training_folder(tmp_path / "photos"))

    # Without a check, Start checks the folder first and then starts.
    with qtbot.waitSignal(tab.training_started, timeout=TRAIN_TIMEOUT_MS):
        assert tab.start_training()
    with qtbot.waitSignal(tab.runner.checkpoint_saved, timeout=TRAIN_TIMEOUT_MS) as saved:
        pass
    assert saved.args[0].step == 2

    monkeypatch.setattr(TrainTab, "confirm_stop_for_close", lambda self: False)
    first.close()
    assert first.isVisible()
    assert tab.is_training()

    monkeypatch.setattr(TrainTab, "confirm_stop_for_close", lambda self: True)
    first.close()
    qtbot.waitUntil(lambda: not first.isVisible(), timeout=TRAIN_TIMEOUT_MS)
    assert not tab.is_training()
    run_dir = app_settings.get(setting_keys.TRAIN_RUN_FOLDER)
    record = read_run_record(run_dir)
    assert record.status == INTERRUPTED
    assert record.step >= 2
    assert record.resumable
    assert list(user_model_dir.iterdir()) == []

    offered = []

    def answer_resume(self, pending):
        offered.append(pending)
        return ResumeChoice.RESUME

    monkeypatch.setattr(TrainTab, "ask_resume", answer_resume)
    second = MainWindow(catalog=ModelCatalog(user_model_dir), settings=app_settings)
    qtbot.addWidget(second)
    train_windows.append(second)
    tab = second.train_tab
    assert not tab.banner.isHidden()
    assert "Family rooms" in tab.banner_label.text()
    with qtbot.waitSignal(tab.training_started, timeout=TRAIN_TIMEOUT_MS) as started:
        second.show()
    assert [pending.run_dir for pending in offered] == [record.run_dir]
    assert started.args[0].step == record.step
    assert tab.monitor.progress_bar.value() == record.step
    assert tab.panel.name_edit.text() == "Family rooms"
    assert tab.panel.folder_edit.text() == str(tmp_path / "photos")
    assert not tab.panel.training_group.isEnabled()
    assert tab.banner.isHidden()

    with qtbot.waitSignal(tab.runner.step_finished, timeout=TRAIN_TIMEOUT_MS) as stepped:
        pass
    assert stepped.args[0].step == record.step + 1

    # Closing after Stop opens no question, because the run ends anyway and its model is still saved.
    close_questions = []
    monkeypatch.setattr(TrainTab, "confirm_stop_for_close", lambda self: close_questions.append(1) or True)
    with qtbot.waitSignal(tab.run_ended, timeout=TRAIN_TIMEOUT_MS) as ended:
        tab.stop_training()
        second.close()
    qtbot.waitUntil(lambda: not second.isVisible(), timeout=TRAIN_TIMEOUT_MS)
    assert close_questions == []
    result = ended.args[0]
    assert result.reason == "stopped"
    assert result.step > record.step
    assert result.model_path.parent == user_model_dir
    assert app_settings.get(setting_keys.TRAIN_RUN_FOLDER) == ""


def test_unfinished_run_saved_as_is(qtbot, tmp_path, app_settings, user_model_dir, run_root, monkeypatch,
                                    train_windows):
    from colorapp.main_window import MainWindow
    from engine.catalog import ModelCatalog
    from engine.training.callbacks import StepEvent
    from engine.training.session import FineTuneSession, FineTuneSettings

    settings = FineTuneSettings(
        data_dir=make_training_folder(tmp_path / "photos"), model_name="Summer house",
        base_model=ModelCatalog().find("pix2pix").path, batch_size=2, device="cpu", validate_every=1,
    )
    session = FineTuneSession.create(settings, run_root, user_model_dir)

    def stop_after_first_step(event):
        if isinstance(event, StepEvent):
            session.stop(export_model=False)

    session.on_event = stop_after_first_step
    assert session.run().reason == "interrupted"
    app_settings.set(setting_keys.TRAIN_RUN_FOLDER, str(session.run_dir))
    monkeypatch.setattr(TrainTab, "ask_resume", lambda self, pending: ResumeChoice.EXPORT)

    window = MainWindow(catalog=ModelCatalog(user_model_dir), settings=app_settings)
    qtbot.addWidget(window)
    train_windows.append(window)
    with qtbot.waitSignal(window.train_tab.model_exported, timeout=TRAIN_TIMEOUT_MS) as exported:
        window.show()

    model_path = exported.args[0]
    assert model_path == user_model_dir / "Summer_house.safetensors"
    assert app_settings.get(setting_keys.TRAIN_RUN_FOLDER) == ""
    assert window.train_tab.banner.isHidden()
    entries = window.colorize_tab.panel.model_picker.entries()
    assert "user:Summer_house" in [entry.key for entry in entries]
    window.close()


def test_loss_history_downsamples_and_smooths():
    from colorapp.training_runs import LossHistory, downsample

    history = LossHistory()
    for step in range(1, 1001):
        history.add_step(step, {"generator": float(step % 2), "discriminator": float("nan")})

    assert history.names() == ["generator"]
    assert len(history) == 1000
    points = history.points("generator", max_points=100)
    assert len(points) == 100
    assert points[0] == (5.5, 0.5)
    smoothed = history.curve("generator").smoothed
    assert smoothed[0] == pytest.approx(1.0)
    assert smoothed[-1] == pytest.approx(0.5, abs=0.06)
    assert downsample([1, 2, 3], [1.0, 2.0, 3.0], 5) == [(1.0, 1.0), (2.0, 2.0), (3.0, 3.0)]


def test_progress_line_states_rate_and_eta():
    from colorapp.training_runs import describe_step

    line = describe_step(120, 600, 4, 24, 3.26, 185)

    assert line == "Step 120 of 600 · epoch 5 of 25 · 3.3 images/s · about 3 min 5 s left"
    assert "left" not in describe_step(600, 600, 24, 24, 3.0, 0)
