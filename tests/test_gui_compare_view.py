"""CompareView: layout, rendering either side of the divider, zoom, pan, mouse and keyboard."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QImage, QKeyEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from colorapp.widgets.compare_view import CompareMode, CompareView
from colorapp.widgets.zoom_view import ZOOM_STEP

RED = QColor(220, 30, 30)
BLUE = QColor(30, 30, 220)


def _solid_image(width: int, height: int, color: QColor) -> QImage:
    image = QImage(width, height, QImage.Format.Format_RGB888)
    image.fill(color)
    return image


@pytest.fixture
def view(qtbot):
    widget = CompareView()
    widget.resize(640, 480)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def compared(view):
    """A view that shows a red original and a blue result of 400 x 200 pixels."""
    view.set_original(_solid_image(400, 200, RED))
    view.set_result(_solid_image(400, 200, BLUE))
    return view


def _rendered_color(view: CompareView, x: int, y: int) -> QColor:
    return view.grab().toImage().pixelColor(x, y)


def _is_close(actual: QColor, expected: QColor, tolerance: int = 12) -> bool:
    return all(
        abs(a - e) <= tolerance
        for a, e in zip(actual.getRgb()[:3], expected.getRgb()[:3])
    )


def test_empty_view_has_hint_and_no_image(view):
    assert view.original() is None
    assert view.image_rect().isEmpty()
    assert "Ctrl+O" in view.HINT
    # Painting the hint must work at any size, even smaller than the text.
    view.resize(50, 30)
    assert not view.grab().isNull()


def test_image_rect_keeps_aspect_ratio_and_fits(view):
    view.set_original(_solid_image(400, 200, RED))

    rect = view.image_rect()

    assert view.rect().contains(rect)
    assert abs(rect.width() / rect.height() - 2.0) < 0.02
    # The image is scaled up to fill the width, and centered vertically.
    assert rect.width() > 400
    assert abs(rect.center().y() - view.rect().center().y()) <= 1


def test_original_alone_before_result(view):
    view.set_original(_solid_image(400, 200, RED))

    rect = view.image_rect()
    for x in (rect.left() + 5, rect.center().x(), rect.right() - 5):
        assert _is_close(_rendered_color(view, x, rect.center().y()), RED)


def test_result_drawn_right_of_divider(compared):
    compared.set_divider(0.25)
    rect = compared.image_rect()
    y = rect.top() + rect.height() // 4
    divider_x = compared.divider_x()

    assert _is_close(_rendered_color(compared, divider_x - 10, y), RED)
    assert _is_close(_rendered_color(compared, divider_x + 10, y), BLUE)
    assert _is_close(_rendered_color(compared, rect.right() - 5, y), BLUE)


def test_set_divider_clamps_and_signals(compared, qtbot):
    with qtbot.waitSignal(compared.divider_moved) as blocker:
        compared.set_divider(1.7)
    assert blocker.args == [1.0]
    assert compared.divider() == 1.0

    compared.set_divider(-0.3)
    assert compared.divider() == 0.0

    with pytest.raises(ValueError):
        compared.set_divider(float("nan"))


def test_mouse_drag_moves_divider(compared, qtbot):
    compared.set_divider(0.5)
    rect = compared.image_rect()
    y = rect.center().y()
    start = QPoint(compared.divider_x(), y)
    target = QPoint(rect.left() + rect.width() // 5, y)

    qtbot.mousePress(compared, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(compared, pos=QPoint((start.x() + target.x()) // 2, y))
    qtbot.mouseMove(compared, pos=target)
    qtbot.mouseRelease(compared, Qt.MouseButton.LeftButton, pos=target)

    assert compared.divider() == pytest.approx(0.2, abs=0.01)

    # After the release, moving the mouse no longer drags.
    qtbot.mouseMove(compared, pos=QPoint(rect.right() - 2, y))
    assert compared.divider() == pytest.approx(0.2, abs=0.01)


def test_drag_past_edge_clamps(compared, qtbot):
    rect = compared.image_rect()
    y = rect.center().y()

    qtbot.mousePress(compared, Qt.MouseButton.LeftButton, pos=QPoint(compared.divider_x(), y))
    qtbot.mouseMove(compared, pos=QPoint(compared.width() - 1, y))
    qtbot.mouseRelease(compared, Qt.MouseButton.LeftButton, pos=QPoint(compared.width() - 1, y))

    assert compared.divider() == 1.0


def test_mouse_ignored_without_result(view, qtbot):
    view.set_original(_solid_image(400, 200, RED))
    rect = view.image_rect()
    y = rect.center().y()

    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 10, y))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(rect.left() + 10, y))

    assert view.divider() == 0.5


def test_arrow_keys_move_divider(compared, qtbot):
    compared.set_divider(0.5)

    qtbot.keyClick(compared, Qt.Key.Key_Left)
    assert compared.divider() == pytest.approx(0.49)
    qtbot.keyClick(compared, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert compared.divider() == pytest.approx(0.59)
    qtbot.keyClick(compared, Qt.Key.Key_Home)
    assert compared.divider() == 0.0
    qtbot.keyClick(compared, Qt.Key.Key_End)
    assert compared.divider() == 1.0


def test_new_original_removes_result(compared):
    compared.set_original(_solid_image(300, 300, RED))

    assert not compared.has_result()
    rect = compared.image_rect()
    assert _is_close(_rendered_color(compared, rect.right() - 5, rect.center().y()), RED)


def test_result_without_original_ignored(view):
    view.set_result(_solid_image(10, 10, BLUE))

    assert not view.has_result()


# Zoom and pan


def _gradient_image(x_channel: int) -> QImage:
    """A 256 x 128 image whose ``x_channel`` (0 red, 1 green) is the x coordinate and blue the y coordinate."""
    pixels = np.zeros((128, 256, 3), dtype=np.uint8)
    pixels[..., x_channel] = np.arange(256, dtype=np.uint8)[None, :]
    pixels[..., 2] = np.arange(128, dtype=np.uint8)[:, None] * 2
    return QImage(pixels.tobytes(), 256, 128, 256 * 3, QImage.Format.Format_RGB888).copy()


def _wheel(view: CompareView, position: QPointF, notches: int = 1) -> None:
    event = QWheelEvent(
        position,
        view.mapToGlobal(position),
        QPoint(0, 0),
        QPoint(0, 120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view, event)


@pytest.mark.parametrize("x, y", [(200, 240), (320, 240), (500, 180)])
def test_wheel_zoom_keeps_pixel_under_cursor(compared, x, y):
    position = QPointF(x, y)
    before = compared.map_to_image(position)
    scale = compared.scale()

    _wheel(compared, position, notches=2)

    after = compared.map_to_image(position)
    assert compared.scale() == pytest.approx(scale * ZOOM_STEP**2)
    assert after.x() == pytest.approx(before.x(), abs=1e-6)
    assert after.y() == pytest.approx(before.y(), abs=1e-6)
    assert compared.is_zoomed_beyond_view()


def test_zoomed_halves_stay_aligned(view, qtbot):
    view.set_original(_gradient_image(0))
    view.set_result(_gradient_image(1))
    _wheel(view, QPointF(250, 200), notches=6)
    qtbot.mousePress(view, Qt.MouseButton.MiddleButton, pos=QPoint(300, 300))
    qtbot.mouseMove(view, pos=QPoint(260, 330))
    qtbot.mouseRelease(view, Qt.MouseButton.MiddleButton, pos=QPoint(260, 330))
    view.set_divider(0.5)
    assert view.scale() > 2

    frame = view.grab().toImage()
    x = view.divider_x()
    for y in (60, 200, 420):
        left = frame.pixelColor(x - 4, y)
        right = frame.pixelColor(x + 4, y)
        # The original's red and the result's green both encode the image column.
        assert abs(left.red() - right.green()) <= 2
        assert left.blue() == right.blue()
        assert left.green() == 0
        assert right.red() == 0


def test_drag_pans_zoomed_view_but_divider_still_drags(compared, qtbot):
    compared.zoom_in()
    compared.zoom_in()
    y = compared.height() // 2
    start = compared.image_rectf().topLeft()

    qtbot.mousePress(compared, Qt.MouseButton.LeftButton, pos=QPoint(100, y))
    qtbot.mouseMove(compared, pos=QPoint(140, y + 10))
    qtbot.mouseRelease(compared, Qt.MouseButton.LeftButton, pos=QPoint(140, y + 10))

    moved = compared.image_rectf().topLeft()
    assert moved.x() - start.x() == pytest.approx(40)
    assert moved.y() - start.y() == pytest.approx(10)
    assert compared.divider() == 0.5

    handle = QPoint(compared.divider_x(), y)
    target = QPoint(compared.width() // 4, y)
    qtbot.mousePress(compared, Qt.MouseButton.LeftButton, pos=handle)
    qtbot.mouseMove(compared, pos=target)
    qtbot.mouseRelease(compared, Qt.MouseButton.LeftButton, pos=target)
    assert compared.divider() == pytest.approx(0.25, abs=0.01)
    assert compared.image_rectf().topLeft() == moved


def test_ctrl_drag_pans_fitted_view(compared, qtbot):
    start = compared.image_rectf().topLeft()
    y = compared.height() // 2

    qtbot.mousePress(compared, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, QPoint(100, y))
    qtbot.mouseMove(compared, pos=QPoint(80, y))
    qtbot.mouseRelease(compared, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, QPoint(80, y))

    assert compared.image_rectf().left() == pytest.approx(start.x() - 20)
    assert compared.divider() == 0.5


def test_fit_and_actual_size(compared):
    compared.actual_size()
    assert compared.scale() == pytest.approx(1.0)
    assert compared.image_rect().width() == 400

    compared.fit_to_view()
    assert compared.viewport_state.is_fit
    assert compared.rect().contains(compared.image_rect())


def test_toggle_shows_whole_original_then_result(compared):
    rect = compared.image_rect()
    y = rect.center().y()
    left, right = rect.left() + 5, rect.right() - 5

    compared.toggle_before_after()
    assert compared.mode() is CompareMode.ORIGINAL
    assert _is_close(_rendered_color(compared, right, y), RED)

    compared.toggle_before_after()
    assert compared.mode() is CompareMode.RESULT
    assert _is_close(_rendered_color(compared, left, y), BLUE)

    compared.set_divider(0.3)
    escape = QKeyEvent(QKeyEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(compared, escape)
    assert compared.mode() is CompareMode.SPLIT
    assert _is_close(_rendered_color(compared, left, y), RED)
