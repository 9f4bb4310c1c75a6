"""Before/after view: the original left of a movable divider, the result right of it."""

from __future__ import annotations

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
    QPixmap,
    QPolygonF,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

logger = logging.getLogger(__name__)

# A neutral grey background, so that it does not tint how the photo's colors look.
_BACKGROUND = QColor(45, 45, 45)
_HINT_COLOR = QColor(200, 200, 200)
_MARGIN = 12
# Presses within this many pixels of the divider grab it.
_GRAB_DISTANCE = 8
_HANDLE_RADIUS = 14
_KEY_STEP = 0.01
_KEY_STEP_LARGE = 0.1


class CompareView(QWidget):
    """Shows a photo scaled to fit, aspect ratio kept, and its colorized result.

    Before a result exists only the original is shown; without an original the
    view shows a hint. The divider position is a fraction of the displayed image's
    width, 0.0 (all result) to 1.0 (all original). Drag it with the left mouse
    button, or move it with the arrow keys (Shift for larger steps), Home and End.
    """

    divider_moved = Signal(float)

    HINT = "Drop a black-and-white photo here, or press Ctrl+O"
    ORIGINAL_LABEL = "Original"
    RESULT_LABEL = "Colorized"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._original: QImage | None = None
        self._result: QImage | None = None
        self._divider = 0.5
        self._dragging = False
        # Scaled copies of both images for the current display size; see _scaled_pixmap.
        self._pixmaps: dict[str, QPixmap] = {}

        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 180)
        self.setAccessibleName("Before and after view")
        self.setAccessibleDescription(
            "Original photo left of the divider, colorized result right of it. "
            "Arrow keys move the divider."
        )

    # Public API

    def set_original(self, image: QImage | None) -> None:
        """Show a new photo; this also removes any result."""
        self._original = None if image is None or image.isNull() else image
        self._result = None
        self._dragging = False
        self._pixmaps.clear()
        self.unsetCursor()
        self.update()

    def set_result(self, image: QImage | None) -> None:
        """Show a result for the current original; ignored while no original is set."""
        if self._original is None and image is not None:
            logger.warning("Ignoring a result because no original photo is shown")
            return
        self._result = None if image is None or image.isNull() else image
        self._pixmaps.pop("result", None)
        self.update()

    def clear(self) -> None:
        self.set_original(None)

    def original(self) -> QImage | None:
        return self._original

    def result(self) -> QImage | None:
        return self._result

    def has_result(self) -> bool:
        return self._result is not None

    def divider(self) -> float:
        """Return the divider position as a fraction of the image width, in [0, 1]."""
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

    def image_rect(self) -> QRect:
        """Return where the image is drawn, in widget coordinates; empty without a photo."""
        if self._original is None:
            return QRect()
        available = self.rect().adjusted(_MARGIN, _MARGIN, -_MARGIN, -_MARGIN)
        if available.width() <= 0 or available.height() <= 0:
            return QRect()
        size = self._original.size().scaled(available.size(), Qt.AspectRatioMode.KeepAspectRatio)
        size = size.expandedTo(QSize(1, 1))
        left = available.left() + (available.width() - size.width()) // 2
        top = available.top() + (available.height() - size.height()) // 2
        return QRect(left, top, size.width(), size.height())

    def divider_x(self) -> int:
        """Return the divider's x position in widget coordinates."""
        rect = self.image_rect()
        return rect.left() + round(self._divider * rect.width())

    def sizeHint(self) -> QSize:
        return QSize(720, 540)

    # Painting

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), _BACKGROUND)
        if self._original is None:
            self._paint_hint(painter)
            return

        rect = self.image_rect()
        if rect.isEmpty():
            return
        painter.drawPixmap(rect, self._scaled_pixmap("original", self._original, rect.size()))
        if self._result is None:
            return

        x = self.divider_x()
        painter.save()
        painter.setClipRect(QRect(x, rect.top(), rect.right() - x + 1, rect.height()))
        painter.drawPixmap(rect, self._scaled_pixmap("result", self._result, rect.size()))
        painter.restore()

        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._paint_labels(painter, rect, x)
        self._paint_divider(painter, rect, x)

    def _paint_hint(self, painter: QPainter) -> None:
        frame = QRectF(self.rect()).adjusted(_MARGIN, _MARGIN, -_MARGIN, -_MARGIN)
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

    def _scaled_pixmap(self, name: str, image: QImage, size: QSize) -> QPixmap:
        # Scaling a large scan on every repaint is slow, so the smooth scaled copy
        # is cached until the display size or the image changes.
        ratio = self.devicePixelRatioF()
        pixmap = self._pixmaps.get(name)
        device_size = QSize(round(size.width() * ratio), round(size.height() * ratio))
        if pixmap is None or pixmap.size() != device_size:
            scaled = image.scaled(
                device_size, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            pixmap = QPixmap.fromImage(scaled)
            pixmap.setDevicePixelRatio(ratio)
            self._pixmaps[name] = pixmap
        return pixmap

    # Interaction

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._can_grab(event.position()):
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
        if self._result is not None and abs(event.position().x() - self.divider_x()) <= _GRAB_DISTANCE:
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.unsetCursor()
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self._dragging:
            self._dragging = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if self._result is None:
            super().keyPressEvent(event)
            return
        large = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        step = _KEY_STEP_LARGE if large else _KEY_STEP
        key = event.key()
        if key == Qt.Key.Key_Left:
            self.set_divider(self._divider - step)
        elif key == Qt.Key.Key_Right:
            self.set_divider(self._divider + step)
        elif key == Qt.Key.Key_Home:
            self.set_divider(0.0)
        elif key == Qt.Key.Key_End:
            self.set_divider(1.0)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _can_grab(self, position: QPointF) -> bool:
        """Return whether a press at this point starts a divider drag: anywhere on the image, or near the divider."""
        if self._result is None:
            return False
        rect = self.image_rect()
        near_divider = abs(position.x() - self.divider_x()) <= _GRAB_DISTANCE
        inside_vertically = rect.top() <= position.y() <= rect.bottom()
        return inside_vertically and (near_divider or rect.contains(position.toPoint()))

    def _move_divider_to(self, x: float) -> None:
        rect = self.image_rect()
        if rect.width() <= 0:
            return
        self.set_divider((x - rect.left()) / rect.width())
