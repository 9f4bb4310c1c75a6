"""The Colorize tab end to end: open, colorize in the worker, compare, export, errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from colorapp.workers import running_worker_threads
from tests.helpers import mean_chroma, real_photos, save_grayscale, sha256

pytestmark = pytest.mark.usefixtures("no_leftover_threads")

OPEN_TIMEOUT_MS = 30_000
# The first colorize imports the model and runs on the CPU of a busy test machine.
COLORIZE_TIMEOUT_MS = 180_000
EXPORT_TIMEOUT_MS = 30_000


@pytest.fixture
def gray_photo(tmp_path) -> Path:
    """Black-and-white copy of a real photograph."""
    return save_grayscale(real_photos()[0], tmp_path / "family_scan.jpg")


def _open(window, qtbot, path: Path) -> None:
    with qtbot.waitSignal(window.colorize_tab.photo_opened, timeout=OPEN_TIMEOUT_MS):
        window.open_paths([path])


def _colorize(window, qtbot):
    tab = window.colorize_tab
    with qtbot.waitSignal(tab.colorize_finished, timeout=COLORIZE_TIMEOUT_MS) as blocker:
        qtbot.mouseClick(tab.panel.colorize_button, Qt.MouseButton.LeftButton)
        # The job was submitted synchronously; its outcome needs the event loop.
        assert window.busy_indicator.isVisible()
        assert not tab.colorize_action.isEnabled()
    return blocker.args[0]


def _drop(window, paths: list[Path]) -> QDropEvent:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
    position = QPointF(window.rect().center())
    buttons = Qt.MouseButton.LeftButton
    modifiers = Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(position, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(position, Qt.DropAction.CopyAction, mime, buttons, modifiers)
    QApplication.sendEvent(window, drop)
    return drop


def _error_boxes(window, title: str) -> list[QMessageBox]:
    boxes = window.findChildren(QMessageBox, "error_message_box")
    return [box for box in boxes if box.isVisible() and box.windowTitle() == title]


def test_colorize_compare_and_export(main_window, qtbot, gray_photo, tmp_path, monkeypatch):
    tab = main_window.colorize_tab
    original_hash = sha256(gray_photo)
    with Image.open(gray_photo) as image:
        input_size = image.size

    _open(main_window, qtbot, gray_photo)
    assert tab.photo.size == input_size
    assert not tab.export_action.isEnabled()

    default_model = tab.panel.model_picker.current_entry()
    assert default_model is not None
    assert default_model.shipped
    outcome = _colorize(main_window, qtbot)
    assert outcome.model.key == default_model.key
    assert outcome.result.size == input_size
    assert tab.view.has_result()
    assert tab.export_action.isEnabled()
    assert not main_window.busy_indicator.isVisible()

    # Drag the divider from its middle position to a fifth of the image width.
    view = tab.view
    rect = view.image_rect()
    y = rect.center().y()
    before = view.divider()
    start = QPoint(view.divider_x(), y)
    target = QPoint(rect.left() + rect.width() // 5, y)
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(view, pos=QPoint((start.x() + target.x()) // 2, y))
    qtbot.mouseMove(view, pos=target)
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=target)
    assert before == 0.5
    assert view.divider() == pytest.approx(0.2, abs=0.01)

    export_folder = tmp_path / "exported"
    export_folder.mkdir()
    monkeypatch.setattr(tab, "choose_export_folder", lambda: export_folder)
    with qtbot.waitSignal(tab.export_finished, timeout=EXPORT_TIMEOUT_MS) as blocker:
        tab.export_action.trigger()
    exported = Path(blocker.args[0])

    assert exported.parent == export_folder
    assert exported.suffix == ".png"
    assert str(exported) in main_window.statusBar().currentMessage()
    with Image.open(exported) as image:
        assert image.size == input_size
    # JPEG noise in the gray input stays well below one Lab unit of chroma.
    assert mean_chroma(exported) > mean_chroma(gray_photo) + 1.0
    assert sha256(gray_photo) == original_hash


def test_dropped_text_file_rejected(main_window, qtbot, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")

    drop = _drop(main_window, [notes])

    assert drop.isAccepted()
    message = main_window.statusBar().currentMessage()
    assert "notes.txt" in message
    assert "not a supported image file" in message
    assert main_window.colorize_tab.photo is None
    assert not main_window.worker.is_busy()


def test_drop_reports_rejected_files(main_window, qtbot, gray_photo, tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")

    with qtbot.waitSignal(main_window.colorize_tab.photo_opened, timeout=OPEN_TIMEOUT_MS):
        _drop(main_window, [notes, gray_photo])

    assert main_window.colorize_tab.photo.source == gray_photo
    message = main_window.statusBar().currentMessage()
    assert gray_photo.name in message
    assert "notes.txt" in message


def test_export_disabled_before_result(main_window, qtbot, gray_photo):
    tab = main_window.colorize_tab
    assert not tab.export_action.isEnabled()
    assert not tab.panel.export_button.isEnabled()
    assert not tab.colorize_action.isEnabled()

    _open(main_window, qtbot, gray_photo)

    assert not tab.export_action.isEnabled()
    assert not tab.panel.export_button.isEnabled()
    assert tab.colorize_action.isEnabled()


def test_corrupt_photo_shows_error(main_window, qtbot, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"this is not a JPEG file")

    with qtbot.waitSignal(main_window.colorize_tab.open_failed, timeout=OPEN_TIMEOUT_MS) as blocker:
        main_window.open_paths([broken])

    assert "broken.jpg" in blocker.args[0]
    assert "broken.jpg" in main_window.statusBar().currentMessage()
    boxes = _error_boxes(main_window, "Cannot Open Photo")
    assert len(boxes) == 1
    assert "broken.jpg" in boxes[0].text()
    assert main_window.colorize_tab.photo is None


def test_open_action_uses_file_dialog(main_window, qtbot, gray_photo, monkeypatch):
    tab = main_window.colorize_tab
    monkeypatch.setattr(tab, "choose_open_path", lambda: gray_photo)

    with qtbot.waitSignal(tab.photo_opened, timeout=OPEN_TIMEOUT_MS):
        tab.open_action.trigger()

    assert tab.photo.source == gray_photo
    assert gray_photo.name in main_window.windowTitle()


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


def test_user_model_listed_and_used(main_window, qtbot, gray_photo, user_model_dir, tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    from engine.modelfile import ModelInfo, save_generator
    from engine.models import build_generator

    torch.manual_seed(0)
    generator = build_generator("unet", 8).eval()
    info = ModelInfo(name="My untrained test model", architecture="unet", width=8, recipe="pix2pix")
    save_generator(user_model_dir / "mine.safetensors", generator, info)

    tab = main_window.colorize_tab
    tab.reload_models()
    assert tab.panel.model_picker.select_key("user:mine")
    tab.panel.strength_spin.setValue(50)
    tab.panel.set_export_format("jpeg")
    _open(main_window, qtbot, gray_photo)

    outcome = _colorize(main_window, qtbot)
    assert outcome.model.key == "user:mine"
    assert outcome.model.name in main_window.statusBar().currentMessage()

    monkeypatch.setattr(tab, "choose_export_folder", lambda: tmp_path)
    with qtbot.waitSignal(tab.export_finished, timeout=EXPORT_TIMEOUT_MS) as blocker:
        tab.export_action.trigger()
    exported = Path(blocker.args[0])
    assert exported.suffix == ".jpg"
    assert exported != gray_photo


def test_export_into_missing_folder_shows_error(main_window, qtbot, gray_photo, tmp_path, monkeypatch):
    tab = main_window.colorize_tab
    _open(main_window, qtbot, gray_photo)
    _colorize(main_window, qtbot)
    missing = tmp_path / "no-such-folder"
    monkeypatch.setattr(tab, "choose_export_folder", lambda: missing)

    with qtbot.waitSignal(tab.export_failed, timeout=EXPORT_TIMEOUT_MS) as blocker:
        tab.export_action.trigger()

    assert str(missing) in blocker.args[0]
    assert len(_error_boxes(main_window, "Export Failed")) == 1


def test_close_stops_worker_thread(main_window, qtbot, gray_photo):
    _open(main_window, qtbot, gray_photo)
    assert main_window.worker.is_running()

    main_window.close()

    assert not main_window.worker.is_running()
    assert running_worker_threads() == []
    with pytest.raises(RuntimeError):
        main_window.colorize_tab.open_paths([gray_photo])


def test_settings_restored_in_new_window(qtbot, app_settings, user_model_dir):
    from colorapp.main_window import MainWindow
    from engine.catalog import ModelCatalog

    first = MainWindow(catalog=ModelCatalog(user_model_dir), settings=app_settings)
    qtbot.addWidget(first)
    first.colorize_tab.panel.strength_spin.setValue(120)
    first.colorize_tab.panel.set_export_format("jpeg")
    first.colorize_tab.panel.quality_spin.setValue(80)
    first.close()

    second = MainWindow(catalog=ModelCatalog(user_model_dir), settings=app_settings)
    qtbot.addWidget(second)
    panel = second.colorize_tab.panel
    assert panel.strength_spin.value() == 120
    assert panel.export_format() == "jpeg"
    assert panel.quality_spin.value() == 80
    assert panel.quality_spin.isEnabled()
    # pytest-qt keeps only weak references, so the window is closed here, before
    # garbage collection could delete it with its worker thread still running.
    second.close()
