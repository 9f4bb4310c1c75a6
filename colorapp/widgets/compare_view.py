"""Before/after view: the original left of a movable divider, the result right of it."""

from __future__ import annotations

import enum
import logging
import math

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import QWidget

from colorapp.viewport import FIT_MARGIN, Viewport
from colorapp.widgets.zoom_view import BACKGROUND, ImagePyramid, ZoomableImageView

logger = logging.getLogger(__name__)

_HINT_COLOR = QColor(200, 200, 200)
# Presses within this many pixels of the divider grab it.
_GRAB_DISTANCE = 8
_HANDLE_RADIUS = 14
_KEY_STEP = 0.01
_KEY_STEP_LARGE = 0.1


class CompareMode(enum.Enum):
    SPLIT = "split"
    """Original left of the divider, result right of it."""
    ORIGINAL = "original"
    """The whole original."""
    RESULT = "result"
    """The whole result."""


class CompareView(ZoomableImageView):
    """Shows a photo and its colorized result, aligned pixel for pixel, with zoom and pan.

    Before a result exists only the original is shown; without an original the
    view shows a hint. The divider position is a fraction of the visible image's
    width, 0.0 (all result) to 1.0 (all original). Drag it with the left mouse
    button, or move it with the arrow keys (Shift for larger steps), Home and End.
    The wheel zooms around the cursor. The middle button, Ctrl with the left
    button, or the left button away from the divider of a zoomed-in photo pans.
    """

    divider_moved = Signal(float)
    mode_changed = Signal(object)
    """The new CompareMode."""

    HINT = "Drop black-and-white photos or folders here, or press Ctrl+O"
    ORIGINAL_LABEL = "Original"
    RESULT_LABEL = "Colorized"

    def __init__(self, parent: QWidget | None = None, viewport: Viewport | None = None) -> None:
        super().__init__(viewport, parent)
        self._original: ImagePyramid | None = None
        self._result: ImagePyramid | None = None
        self._divider = 0.5
        self._mode = CompareMode.SPLIT
        self._dragging = False

        self.setMinimumSize(240, 180)
        self.setAccessibleName("Before and after view")
        self.setAccessibleDescription(
            "Original photo left of the divider, colorized result right of it. "
            "Arrow keys move the divider, and the mouse wheel zooms."
        )

    # Public API

    def set_original(self, image: QImage | None) -> None:
        """Show a new photo; this also removes any result.

        A photo of another size than the last one is fitted into the view.
        """
        self._original = None if image is None or image.isNull() else ImagePyramid(image)
        self._result = None
        self._dragging = False
        self._set_mode(CompareMode.SPLIT)
        self.unsetCursor()
        size = None if self._original is None else (self._original.size().width(), self._original.size().height())
        self.viewport_state.set_image_size(size)
        self.update()

    def set_result(self, image: QImage | None) -> None:
        """Show a result for the current original; ignored while no original is set."""
        if self._original is None and image is not None:
            logger.warning("Ignoring a result because no original photo is shown")
            return
        self._result = None if image is None or image.isNull() else ImagePyramid(image)
        if self._result is None:
            self._set_mode(CompareMode.SPLIT)
        self.update()

    def clear(self) -> None:
        self.set_original(None)

    def original(self) -> QImage | None:
        return self._original.image if self._original is not None else None

    def result(self) -> QImage | None:
        return self._result.image if self._result is not None else None

    def has_result(self) -> bool:
        return self._result is not None

    def mode(self) -> CompareMode:
        return self._mode

    def set_mode(self, mode: CompareMode) -> None:
        """Show the split view, the whole original or the whole result; a result is needed for RESULT."""
        if mode is CompareMode.RESULT and self._result is None:
            return
        self._set_mode(mode)

    def toggle_before_after(self) -> None:
        """Show the whole original, then the whole result, then the original again."""
        if self._result is None:
            return
        self._set_mode(CompareMode.RESULT if self._mode is CompareMode.ORIGINAL else CompareMode.ORIGINAL)

    def divider(self) -> float:
        """Return the divider position as a fraction of the visible image width, in [0, 1]."""
        return self._divider

    def set_divider(self, fraction: float) -> None:
        """Move the divider; values outside [0, 1] are clamped, NaN raises ValueError."""
        if math.isnan(fraction):
            raise ValueError("divider fraction must be a number in [0, 1], got NaN")
        fraction = min(max(float(fraction), 0.0), 1.0)
        if fraction == self._divider:
            return
        self._divider = fraction
        self.update()
        self.divider_moved.emit(fraction)

    def divider_x(self) -> int:
        """Return the divider's x position in widget coordinates."""
        rect = self.visible_image_rect()
        return rect.left() + round(self._divider * rect.width())

    def sizeHint(self) -> QSize:
        return QSize(720, 540)

    # Painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._original is None:
            self._paint_hint(painter)
            return

        rect = self.visible_image_rect()
        if rect.isEmpty():
            return
        if self._mode is CompareMode.RESULT and self._result is not None:
            self.draw_image(painter, self._result)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            self._paint_labels(painter, rect, rect.left())
            return
        self.draw_image(painter, self._original)
        if self._result is None or self._mode is CompareMode.ORIGINAL:
            if self._result is not None:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                self._paint_labels(painter, rect, rect.right() + 1)
            return

        # Both layers go through the same image rectangle, so they stay aligned at any zoom.
        x = self.divider_x()
        self.draw_image(painter, self._result, QRectF(x, rect.top(), rect.right() - x + 1, rect.height()))
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_labels(painter, rect, x)
        self._paint_divider(painter, rect, x)

    def _paint_hint(self, painter: QPainter) -> None:
        frame = QRectF(self.rect()).adjusted(FIT_MARGIN, FIT_MARGIN, -FIT_MARGIN, -FIT_MARGIN)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(_HINT_COLOR, 2, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(frame, 10, 10)

        font = painter.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        painter.setFont(font)
        text_rect = frame.adjusted(24, 24, -24, -24)
        painter.drawText(text_rect, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.HINT)

    def _paint_divider(self, painter: QPainter, rect: QRect, x: int) -> None:
        # A light line with a dark outline stays visible on any photo.
        painter.setPen(QPen(QColor(0, 0, 0, 140), 4))
        painter.drawLine(x, rect.top(), x, rect.bottom())
        painter.setPen(QPen(QColor(255, 255, 255), 2))
        painter.drawLine(x, rect.top(), x, rect.bottom())

        center = QPointF(x, rect.center().y())
        painter.setPen(QPen(QColor(0, 0, 0, 140), 1.5))
        painter.setBrush(QColor(255, 255, 255))
        painter.drawEllipse(center, _HANDLE_RADIUS, _HANDLE_RADIUS)

        # Two small arrowheads show that the handle moves sideways.
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(60, 60, 60))
        for direction in (-1, 1):
            tip = center + QPointF(direction * 9, 0)
            base = center + QPointF(direction * 3, 0)
            painter.drawPolygon(QPolygonF([tip, base + QPointF(0, -5), base + QPointF(0, 5)]))

    def _paint_labels(self, painter: QPainter, rect: QRect, x: int) -> None:
        """Label the original left of ``x`` and the result right of it, where each fits."""
        metrics = QFontMetrics(painter.font())
        padding = 6
        height = metrics.height() + padding
        top = rect.top() + 8

        left_width = metrics.horizontalAdvance(self.ORIGINAL_LABEL) + 2 * padding
        if x - rect.left() >= left_width + 16:
            self._paint_label(painter, QRectF(rect.left() + 8, top, left_width, height), self.ORIGINAL_LABEL)

        right_width = metrics.horizontalAdvance(self.RESULT_LABEL) + 2 * padding
        if rect.right() - x >= right_width + 16:
            label_rect = QRectF(rect.right() - 8 - right_width, top, right_width, height)
            self._paint_label(painter, label_rect, self.RESULT_LABEL)

    @staticmethod
    def _paint_label(painter: QPainter, box: QRectF, text: str) -> None:
        path = QPainterPath()
        path.addRoundedRect(box, 4, 4)
        painter.fillPath(path, QColor(0, 0, 0, 150))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)

    # Interaction

    def left_button_pans(self, position: QPointF) -> bool:
        # The divider stays draggable in a zoomed-in view: only presses away from it pan.
        return self.is_zoomed_beyond_view() and not self._near_divider(position)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if (
            event.button() == Qt.MouseButton.LeftButton
            and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
            and self._can_grab(event.position())
        ):
            self._dragging = True
            self._move_divider_to(event.position().x())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging:
            self._move_divider_to(event.position().x())
            event.accept()
            return
        if not self.is_panning():
            self._update_hover_cursor(event.position())
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._dragging:
            self._dragging = False
            event.accept()
            return
        super().mouseReleaseEvent(event)
        self._update_hover_cursor(event.position())

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Escape and self._mode is not CompareMode.SPLIT:
            self._set_mode(CompareMode.SPLIT)
            event.accept()
            return
        if self._result is None:
            super().keyPressEvent(event)
            return
        large = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        step = _KEY_STEP_LARGE if large else _KEY_STEP
        if key == Qt.Key.Key_Left:
            self._keyboard_divider(self._divider - step)
        elif key == Qt.Key.Key_Right:
            self._keyboard_divider(self._divider + step)
        elif key == Qt.Key.Key_Home:
            self._keyboard_divider(0.0)
        elif key == Qt.Key.Key_End:
            self._keyboard_divider(1.0)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _keyboard_divider(self, fraction: float) -> None:
        self._set_mode(CompareMode.SPLIT)
        self.set_divider(fraction)

    def _near_divider(self, position: QPointF) -> bool:
        if self._result is None or self._mode is not CompareMode.SPLIT:
            return False
        rect = self.visible_image_rect()
        inside_vertically = rect.top() <= position.y() <= rect.bottom()
        return inside_vertically and abs(position.x() - self.divider_x()) <= _GRAB_DISTANCE

    def _can_grab(self, position: QPointF) -> bool:
        """Return whether a left press here starts a divider drag.

        Near the divider it always does. Elsewhere on the image it does while the
        whole image is in view, and then the divider jumps to the press.
        """
        if self._near_divider(position):
            return True
        if self._result is None or self._mode is not CompareMode.SPLIT or self.is_zoomed_beyond_view():
            return False
        return self.visible_image_rect().contains(position.toPoint())

    def _update_hover_cursor(self, position: QPointF) -> None:
        if self._near_divider(position):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        elif self.is_zoomed_beyond_view() and self.visible_image_rect().contains(position.toPoint()):
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        else:
            self.unsetCursor()

    def _move_divider_to(self, x: float) -> None:
        rect = self.visible_image_rect()
        if rect.width() <= 0:
            return
        self.set_divider((x - rect.left()) / rect.width())

    def _set_mode(self, mode: CompareMode) -> None:
        if mode is self._mode:
            return
        self._mode = mode
        self.update()
        self.mode_changed.emit(mode)
