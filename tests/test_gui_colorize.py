"""The Colorize tab end to end: open, colorize in the worker, compare, export, models, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMessageBox

from colorapp import settings as setting_keys
from colorapp.photo_queue import ItemStatus
from colorapp.tasks import ExportOptions
from colorapp.workers import running_worker_threads
from tests.conftest import COLORIZE_TIMEOUT_MS, OPEN_TIMEOUT_MS
from tests.helpers import mean_chroma, sha256

pytestmark = pytest.mark.usefixtures("no_leftover_threads")

EXPORT_TIMEOUT_MS = 60_000


def _error_boxes(window, title: str) -> list[QMessageBox]:
    boxes = window.findChildren(QMessageBox, "error_message_box")
    return [box for box in boxes if box.isVisible() and box.windowTitle() == title]


def _accept_export_dialog(gui, folder: Path, fmt: str = "png", bit_depth: int = 8):
    """Fill in the open export dialog, click Export and wait for the run to end."""
    dialog = gui.tab.export_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.set_format(fmt, bit_depth)
    dialog.folder_edit.setText(str(folder))
    with gui.qtbot.waitSignal(gui.tab.run_finished, timeout=EXPORT_TIMEOUT_MS) as blocker:
        gui.qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


def test_colorize_compare_and_export(gui, gray_photo, tmp_path):
    tab = gui.tab
    original_hash = sha256(gray_photo)
    with Image.open(gray_photo) as image:
        input_size = image.size

    photo = gui.open_and_show(gray_photo)
    assert photo.size == input_size
    assert tab.current_item().size == input_size
    assert not tab.export_action.isEnabled()

    default_model = tab.panel.model_picker.current_entry()
    assert default_model is not None
    assert default_model.shipped
    with gui.qtbot.waitSignal(tab.colorize_finished, timeout=COLORIZE_TIMEOUT_MS) as blocker:
        gui.qtbot.mouseClick(tab.panel.colorize_button, Qt.MouseButton.LeftButton)
        # The job was submitted synchronously; its outcome needs the event loop.
        assert gui.window.busy_indicator.isVisible()
        assert not tab.colorize_action.isEnabled()
        assert tab.current_item().status in (ItemStatus.WAITING, ItemStatus.COLORIZING)
    outcome = blocker.args[0]
    assert outcome.model.key == default_model.key
    assert outcome.result.size == input_size
    assert tab.view.has_result()
    assert tab.current_item().status is ItemStatus.DONE
    assert tab.current_item().status_text() == f"done ({default_model.name})"
    assert tab.queue_model.thumbnail(outcome.item_id) is not None
    gui.qtbot.waitUntil(lambda: not gui.window.busy_indicator.isVisible())
    assert tab.export_action.isEnabled()

    # Drag the divider from its middle position to a fifth of the image width.
    view = tab.view
    rect = view.image_rect()
    y = rect.center().y()
    before = view.divider()
    start = QPoint(view.divider_x(), y)
    target = QPoint(rect.left() + rect.width() // 5, y)
    gui.qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    gui.qtbot.mouseMove(view, pos=QPoint((start.x() + target.x()) // 2, y))
    gui.qtbot.mouseMove(view, pos=target)
    gui.qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=target)
    assert before == 0.5
    assert view.divider() == pytest.approx(0.2, abs=0.01)

    export_folder = tmp_path / "exported"
    export_folder.mkdir()
    tab.export_action.trigger()
    progress = _accept_export_dialog(gui, export_folder)

    assert progress.failed == {}
    exported = export_folder / "family_scan_colorized.png"
    assert exported.is_file()
    assert str(exported) in gui.window.statusBar().currentMessage()
    assert tab.current_item().status is ItemStatus.EXPORTED
    assert tab.current_item().status_text() == "exported: family_scan_colorized.png"
    with Image.open(exported) as image:
        assert image.size == input_size
    # JPEG noise in the gray input stays well below one Lab unit of chroma.
    assert mean_chroma(exported) > mean_chroma(gray_photo) + 1.0
    assert sha256(gray_photo) == original_hash


def test_dropped_text_file_rejected(gui, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")

    added = gui.drop_and_wait([notes])

    assert added == []
    message = gui.window.statusBar().currentMessage()
    assert "notes.txt" in message
    assert "not a supported image file" in message
    assert len(gui.tab.queue) == 0
    assert gui.tab.view.original() is None


def test_drop_reports_rejected_files(gui, gray_photo, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")

    with gui.qtbot.waitSignal(gui.tab.photo_opened, timeout=OPEN_TIMEOUT_MS):
        gui.drop([notes, gray_photo])

    assert gui.tab.current_item().path == gray_photo
    message = gui.window.statusBar().currentMessage()
    assert "Added 1 photo" in message
    assert "notes.txt" in message


def test_export_disabled_before_result(gui, gray_photo):
    tab = gui.tab
    assert not tab.export_action.isEnabled()
    assert not tab.panel.export_button.isEnabled()
    assert not tab.colorize_action.isEnabled()

    gui.open_and_show(gray_photo)

    assert not tab.export_action.isEnabled()
    assert not tab.panel.export_button.isEnabled()
    assert tab.colorize_action.isEnabled()
    assert tab.export_all_action.isEnabled()


def test_corrupt_photo_row_shows_reason(gui, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG file")

    with gui.qtbot.waitSignal(gui.tab.open_failed, timeout=OPEN_TIMEOUT_MS) as blocker:
        gui.window.open_paths([broken])

    assert "broken.jpg" in blocker.args[0]
    gui.qtbot.waitUntil(lambda: gui.tab.queue.item_at(0).status is ItemStatus.FAILED)
    row = gui.tab.queue.item_at(0)
    assert row.reason.startswith("not a readable image")
    assert "broken.jpg" in gui.window.statusBar().currentMessage()
    # A queue reports unreadable photos on their rows, not in message boxes.
    assert _error_boxes(gui.window, "Cannot Open Photo") == []
    assert gui.tab.view.original() is None
    assert not gui.tab.colorize_action.isEnabled()


def test_open_action_uses_file_dialog(gui, gray_photo, monkeypatch):
    tab = gui.tab
    monkeypatch.setattr(tab, "choose_open_paths", lambda: [gray_photo])

    with gui.qtbot.waitSignal(tab.photo_opened, timeout=OPEN_TIMEOUT_MS) as blocker:
        tab.open_action.trigger()

    assert blocker.args[0].source == gray_photo
    assert tab.current_item().path == gray_photo
    assert gray_photo.name in gui.window.windowTitle()
    assert gui.window.settings.get(setting_keys.LAST_OPEN_FOLDER) == str(gray_photo.parent)


def test_model_selector_lists_catalog(main_window, qtbot):
    picker = main_window.colorize_tab.panel.model_picker
    entries = picker.entries()

    assert entries
    assert picker.combo.count() == len(entries)
    assert picker.current_entry().key == "pix2pix"
    assert picker.combo.currentText() == entries[0].name

    dialog = picker.show_model_card()
    assert dialog.isVisible()
    assert entries[0].name in dialog.windowTitle()
    assert str(entries[0].path) in dialog.browser.toPlainText()
    dialog.close()


def test_switching_models_recolorizes(gui, gray_photo, untrained_user_models):
    tab = gui.tab
    tab.reload_models()
    gui.open_and_show(gray_photo)
    shipped = gui.colorize_selected()
    assert shipped.model.key == "pix2pix"
    shipped_pixels = tab.view.result().copy()

    assert tab.panel.model_picker.select_key(untrained_user_models[0])
    tab.panel.strength_spin.setValue(50)
    user = gui.colorize_selected()

    assert user.model.key == untrained_user_models[0]
    assert user.settings.strength == 0.5
    assert user.model.name in gui.window.statusBar().currentMessage()
    assert tab.current_item().status_text() == f"done ({user.model.name})"
    assert tab.view.result() != shipped_pixels


def test_colorize_all_skips_up_to_date(gui, gray_photo):
    gui.open_and_show(gray_photo)
    first = gui.run_to_end(gui.tab.colorize_all)
    assert first.succeeded == [gui.tab.current_item().item_id]

    assert gui.tab.colorize_all() is False
    assert "already colorized" in gui.window.statusBar().currentMessage()

    # Other render settings make the result out of date.
    gui.tab.panel.set_render_size(512)
    second = gui.run_to_end(gui.tab.colorize_all)
    assert second.succeeded == first.succeeded


def test_export_into_missing_folder_shows_error(gui, gray_photo, tmp_path):
    tab = gui.tab
    gui.open_and_show(gray_photo)
    gui.colorize_selected()
    missing = tmp_path / "no-such-folder"

    with gui.qtbot.waitSignal(tab.export_failed, timeout=EXPORT_TIMEOUT_MS) as blocker:
        assert tab.export_items([tab.current_item().item_id], ExportOptions(folder=missing))

    assert str(missing) in blocker.args[0]
    gui.qtbot.waitUntil(lambda: len(_error_boxes(gui.window, "Export Failed")) == 1)
    assert tab.current_item().status is ItemStatus.FAILED
    assert "output folder not found" in tab.current_item().reason


def test_import_model_selects_it(gui, tmp_path, untrained_user_models, user_model_dir):
    tab = gui.tab
    outside = tmp_path / "downloads"
    outside.mkdir()
    source = user_model_dir / "untrained2.safetensors"
    model_file = outside / "grandma's model.safetensors"
    model_file.write_bytes(source.read_bytes())
    source.unlink()
    tab.reload_models()

    with gui.qtbot.waitSignal(tab.model_imported, timeout=COLORIZE_TIMEOUT_MS) as blocker:
        tab.import_model(model_file)

    entry = blocker.args[0]
    assert entry.path.parent == user_model_dir
    assert tab.panel.model_picker.current_entry().key == entry.key
    assert entry.key in [listed.key for listed in tab.panel.model_picker.entries()]


def test_import_invalid_model_shows_error(gui, tmp_path, monkeypatch):
    tab = gui.tab
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"not a safetensors file")
    monkeypatch.setattr(tab, "choose_model_file", lambda: bogus)
    before = tab.panel.model_picker.current_entry().key

    with gui.qtbot.waitSignal(tab.import_failed, timeout=COLORIZE_TIMEOUT_MS) as blocker:
        tab.import_model_action.trigger()

    assert "bogus.safetensors" in blocker.args[0]
    gui.qtbot.waitUntil(lambda: len(_error_boxes(gui.window, "Model Import Failed")) == 1)
    assert tab.panel.model_picker.current_entry().key == before


def test_close_stops_worker_threads(gui, gray_photo):
    gui.open_and_show(gray_photo)
    assert gui.window.worker.is_running()
    assert gui.window.loader.is_running()

    gui.window.close()

    assert not gui.window.worker.is_running()
    assert not gui.window.loader.is_running()
    assert running_worker_threads() == []
    with pytest.raises(RuntimeError):
        gui.tab.colorize_all()


def test_settings_restored_in_new_window(qtbot, app_settings, user_model_dir, untrained_user_models):
    from colorapp.main_window import MainWindow
    from engine.catalog import ModelCatalog

    first = MainWindow(catalog=ModelCatalog(user_model_dir), settings=app_settings)
    qtbot.addWidget(first)
    first.show()
    panel = first.colorize_tab.panel
    panel.model_picker.select_key(untrained_user_models[1])
    panel.strength_spin.setValue(120)
    panel.set_render_size(768)
    panel.keep_tone_check.setChecked(True)
    panel.tiled_check.setChecked(True)
    panel.set_working_size(2048)
    panel.tile_overlap_spin.setValue(32)
    panel.device_combo.setCurrentIndex(panel.device_combo.findData("cpu"))
    first.colorize_tab.splitter.setSizes([300, 600, 320])
    # The offscreen screen is 800 x 800 pixels, and restoreGeometry keeps windows on the screen.
    first.resize(790, 650)
    window_size = first.size()
    sizes = first.colorize_tab.splitter.sizes()
    first.close()

    second = MainWindow(catalog=ModelCatalog(user_model_dir), settings=app_settings)
    qtbot.addWidget(second)
    second.show()
    panel = second.colorize_tab.panel
    assert panel.model_picker.current_entry().key == untrained_user_models[1]
    assert panel.strength_spin.value() == 120
    assert panel.render_size() == 768
    assert panel.keep_tone_check.isChecked()
    assert panel.tiled_check.isChecked()
    assert panel.working_size() == 2048
    assert panel.tile_overlap_spin.value() == 32
    assert panel.working_size_combo.isEnabled()
    assert panel.device() == "cpu"
    assert second.colorize_tab.render_settings().tile_overlap == 32
    assert second.size() == window_size
    assert second.colorize_tab.splitter.sizes() == sizes
    # pytest-qt keeps only weak references, so the window is closed here, before
    # garbage collection could delete it with its worker threads still running.
    second.close()


def test_tiled_mode_colorizes_full_size(gui, gray_photo):
    panel = gui.tab.panel
    panel.tiled_check.setChecked(True)
    panel.set_working_size(512)
    panel.tile_overlap_spin.setValue(32)
    photo = gui.open_and_show(gray_photo)

    outcome = gui.colorize_selected()

    assert outcome.settings.tiled
    assert outcome.settings.working_size == 512
    assert outcome.result.size == photo.size
    assert gui.tab.current_item().status is ItemStatus.DONE


def test_engine_note_shown_in_status_bar(gui, gray_photo, monkeypatch):
    from engine.inference import Colorizer

    original = Colorizer.colorize

    def colorize_with_fallback(self, photo, settings=None, **options):
        options["notify"]("Out of GPU memory; finishing scan on the CPU")
        return original(self, photo, settings, **options)

    monkeypatch.setattr(Colorizer, "colorize", colorize_with_fallback)
    gui.open_and_show(gray_photo)
    messages = []
    gui.window.statusBar().messageChanged.connect(messages.append)

    gui.colorize_selected()

    assert "Out of GPU memory; finishing scan on the CPU" in messages
