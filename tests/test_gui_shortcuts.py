"""Keyboard shortcuts of the main window, sent as key presses to the focused widget."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication

from colorapp.widgets.compare_view import CompareMode
from tests.conftest import COLORIZE_TIMEOUT_MS, OPEN_TIMEOUT_MS
from tests.helpers import real_photos, save_grayscale

pytestmark = pytest.mark.usefixtures("no_leftover_threads")

CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier


@pytest.fixture
def queued(gui, tmp_path):
    """Three photos in the queue, the first shown, the window active and the view focused."""
    photos = [save_grayscale(source, tmp_path / f"{number} {source.name}") for number, source in enumerate(real_photos()[:3])]
    gui.drop_and_wait(photos)
    gui.qtbot.waitUntil(lambda: gui.tab.view.original() is not None, timeout=OPEN_TIMEOUT_MS)
    gui.wait_until_read()
    gui.window.activateWindow()
    gui.qtbot.waitActive(gui.window)
    gui.tab.view.setFocus()
    return photos


def _press(gui, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    target = QApplication.focusWidget() or gui.window
    gui.qtbot.keyClick(target, key, modifiers)


def _press_and_show(gui, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    with gui.qtbot.waitSignal(gui.tab.photo_opened, timeout=OPEN_TIMEOUT_MS):
        _press(gui, key, modifiers)


def test_page_and_alt_arrows_move_through_queue(gui, queued):
    def shown():
        return gui.tab.current_item().path

    _press_and_show(gui, Qt.Key.Key_PageDown)
    assert shown() == queued[1]
    _press_and_show(gui, Qt.Key.Key_Right, ALT)
    assert shown() == queued[2]
    _press_and_show(gui, Qt.Key.Key_PageUp)
    assert shown() == queued[1]
    _press_and_show(gui, Qt.Key.Key_Left, ALT)
    assert shown() == queued[0]


def test_ctrl_r_colorizes_and_b_space_toggle(gui, queued):
    with gui.qtbot.waitSignal(gui.tab.colorize_finished, timeout=COLORIZE_TIMEOUT_MS):
        _press(gui, Qt.Key.Key_R, CTRL)
    assert gui.tab.view.has_result()

    _press(gui, Qt.Key.Key_B)
    assert gui.tab.view.mode() is CompareMode.ORIGINAL
    gui.tab.view.setFocus()
    _press(gui, Qt.Key.Key_Space)
    assert gui.tab.view.mode() is CompareMode.RESULT
    _press(gui, Qt.Key.Key_S)
    assert gui.tab.view.mode() is CompareMode.SPLIT


def test_space_still_clicks_focused_button(gui, queued):
    button = gui.tab.panel.colorize_button
    button.setFocus()

    with gui.qtbot.waitSignal(gui.tab.colorize_finished, timeout=COLORIZE_TIMEOUT_MS):
        gui.qtbot.keyClick(button, Qt.Key.Key_Space)


def test_zoom_shortcuts(gui, queued):
    view = gui.tab.view
    fitted = view.scale()

    _press(gui, Qt.Key.Key_Equal, CTRL)
    assert view.scale() == pytest.approx(fitted * 1.25)
    _press(gui, Qt.Key.Key_Minus, CTRL)
    _press(gui, Qt.Key.Key_Minus, CTRL)
    assert view.scale() == pytest.approx(fitted / 1.25)
    _press(gui, Qt.Key.Key_1, CTRL)
    assert view.scale() == pytest.approx(1.0)
    _press(gui, Qt.Key.Key_0, CTRL)
    assert view.viewport_state.is_fit


def test_export_shortcuts_open_dialogs(gui, queued):
    _press(gui, Qt.Key.Key_E, CTRL)
    assert gui.tab.export_dialog is None  # No result to export yet.

    gui.colorize_selected()
    gui.tab.view.setFocus()
    _press(gui, Qt.Key.Key_E, CTRL)
    assert gui.tab.export_dialog.windowTitle() == "Export Photo"
    gui.tab.export_dialog.reject()

    _press(gui, Qt.Key.Key_E, CTRL | SHIFT)
    assert gui.tab.export_dialog.windowTitle() == "Export 3 Photos"
    gui.tab.export_dialog.reject()


def test_ctrl_o_and_ctrl_v(gui, queued, tmp_path, monkeypatch):
    extra = save_grayscale(real_photos()[3], tmp_path / "opened with ctrl o.jpg")
    monkeypatch.setattr(gui.tab, "choose_open_paths", lambda: [extra])
    with gui.qtbot.waitSignal(gui.tab.photos_added, timeout=OPEN_TIMEOUT_MS) as blocker:
        _press(gui, Qt.Key.Key_O, CTRL)
    assert [item.path for item in blocker.args[0]] == [extra]

    image = QImage(64, 48, QImage.Format.Format_RGB888)
    image.fill(Qt.GlobalColor.gray)
    QGuiApplication.clipboard().setImage(image)
    gui.tab.view.setFocus()
    with gui.qtbot.waitSignal(gui.tab.photos_added, timeout=OPEN_TIMEOUT_MS) as blocker:
        _press(gui, Qt.Key.Key_V, CTRL)
    assert [item.name for item in blocker.args[0]] == ["Pasted 1"]


def test_delete_needs_queue_focus(gui, queued):
    gui.tab.view.setFocus()
    _press(gui, Qt.Key.Key_Delete)
    assert len(gui.tab.queue) == 3

    gui.tab.queue_panel.list_view.setFocus()
    _press(gui, Qt.Key.Key_Delete)
    assert len(gui.tab.queue) == 2
