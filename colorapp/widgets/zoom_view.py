"""A widget that shows images through a ``Viewport``: wheel zoom around the cursor and drag pan.

``CompareView`` and the panes of the compare grid build on it. Several views can
share one Viewport, and then zooming or panning one moves all of them.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPixmap, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from colorapp.viewport import Viewport

BACKGROUND = QColor(45, 45, 45)
"""A neutral grey background, so that it does not tint how the photo's colors look."""

ZOOM_STEP = 1.25
"""Scale factor of one zoom-in step (Ctrl+=) and of one wheel notch."""
_WHEEL_NOTCH = 120
"""``QWheelEvent.angleDelta`` of one notch of a standard mouse wheel, in eighths of a degree."""
_SMOOTH_BELOW_SCALE = 2.0
"""Scale (screen pixels per image pixel) below which images are drawn smoothed, and above which as sharp blocks."""


class ImagePyramid:
    """An image and its halved copies, so that a zoomed-out view is drawn smoothly and fast.

    Level k is the image at 1 / 2**k of its size. Levels are made on first use, as
    QPixmaps, so this class is for the UI thread only.
    """

    def __init__(self, image: QImage) -> None:
        self.image = image
        self._levels: dict[int, QPixmap] = {}

    def size(self) -> QSize:
        return self.image.size()

    def level_for(self, device_scale: float) -> int:
        """Return the smallest level that still has at least one pixel per device pixel."""
        if device_scale >= 1.0:
            return 0
        level = int(math.floor(math.log2(1.0 / device_scale)))
        largest = int(math.floor(math.log2(max(min(self.image.width(), self.image.height()), 1))))
        return max(0, min(level, largest))

    def pixmap(self, level: int) -> QPixmap:
        pixmap = self._levels.get(level)
        if pixmap is None:
            if level == 0:
                pixmap = QPixmap.fromImage(self.image)
            else:
                source = self.image if level == 1 else self.pixmap(level - 1).toImage()
                width = max(1, math.ceil(source.width() / 2))
                height = max(1, math.ceil(source.height() / 2))
                scaled = source.scaled(
                    width, height, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
                pixmap = QPixmap.fromImage(scaled)
            self._levels[level] = pixmap
        return pixmap

    def draw(self, painter: QPainter, image_rect: QRectF, clip: QRectF, device_scale: float) -> None:
        """Draw the part of the image that falls inside ``clip``.

        ``image_rect`` is where the whole image lies in widget coordinates, and
        ``device_scale`` is device pixels per image pixel.
        """
        visible = clip.intersected(image_rect)
        if visible.isEmpty() or image_rect.width() <= 0 or image_rect.height() <= 0:
            return
        pixmap = self.pixmap(self.level_for(device_scale))
        # Pixels of the chosen level per widget pixel, for each axis.
        x_factor = pixmap.width() / image_rect.width()
        y_factor = pixmap.height() / image_rect.height()
        source = QRectF(
            (visible.left() - image_rect.left()) * x_factor,
            (visible.top() - image_rect.top()) * y_factor,
            visible.width() * x_factor,
            visible.height() * y_factor,
        )
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, device_scale < _SMOOTH_BELOW_SCALE)
        painter.drawPixmap(visible, pixmap, source)


class ZoomableImageView(QWidget):
    """Base view: maps images through a Viewport and handles wheel zoom and drag pan.

    The middle button, or the left button with Ctrl, always pans. The left button
    alone pans when ``left_button_pans`` returns True, and otherwise subclasses use
    it for their own dragging.
    """

    zoom_changed = Signal(float)
    """The new scale, screen pixels per image pixel (1.0 is 100 %)."""

    def __init__(self, viewport: Viewport | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._viewport = viewport if viewport is not None else Viewport()
        self._viewport.subscribe(self._on_viewport_changed)
        self._pan_start: QPointF | None = None

        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)

    # Viewport

    @property
    def viewport_state(self) -> Viewport:
        """The Viewport this view draws through. Views that share it zoom and pan together."""
        return self._viewport

    def view_size(self) -> tuple[float, float]:
        return (float(self.width()), float(self.height()))

    def scale(self) -> float:
        """Return screen pixels per image pixel, where 1.0 is 100 %."""
        return self._viewport.scale_for(self.view_size()) * self.devicePixelRatioF()

    def image_rectf(self) -> QRectF:
        """Return where the whole image lies in widget coordinates, larger than the view when zoomed in."""
        left, top, width, height = self._viewport.image_rect(self.view_size())
        return QRectF(left, top, width, height)

    def image_rect(self) -> QRect:
        """Return ``image_rectf`` rounded to whole pixels, or an empty rectangle without an image."""
        if self._viewport.image_size is None:
            return QRect()
        return _rounded(self.image_rectf())

    def visible_image_rect(self) -> QRect:
        """Return the part of the widget that shows the image."""
        return self.image_rect().intersected(self.rect())

    def map_to_image(self, point: QPointF) -> QPointF:
        x, y = self._viewport.map_to_image((point.x(), point.y()), self.view_size())
        return QPointF(x, y)

    def map_from_image(self, point: QPointF) -> QPointF:
        x, y = self._viewport.map_from_image((point.x(), point.y()), self.view_size())
        return QPointF(x, y)

    def is_zoomed_beyond_view(self) -> bool:
        """Return whether part of the image lies outside the view, so that panning moves it."""
        rect = self.image_rect()
        return not rect.isEmpty() and not self.rect().contains(rect)

    # Zoom actions

    def zoom_in(self) -> None:
        self._viewport.zoom_by(ZOOM_STEP, self.view_size())

    def zoom_out(self) -> None:
        self._viewport.zoom_by(1 / ZOOM_STEP, self.view_size())

    def fit_to_view(self) -> None:
        self._viewport.fit()

    def actual_size(self) -> None:
        """Show one image pixel per screen pixel."""
        self._viewport.set_scale(1.0 / self.devicePixelRatioF())

    # Painting helpers

    def draw_image(self, painter: QPainter, pyramid: ImagePyramid, clip: QRectF | None = None) -> None:
        """Draw an image through the viewport, limited to ``clip`` (the whole widget by default)."""
        image_rect = self.image_rectf()
        if image_rect.isEmpty():
            return
        clip = QRectF(self.rect()) if clip is None else clip
        # Scale through the image's own width, so a result of another size still lines up.
        device_scale = image_rect.width() / max(pyramid.size().width(), 1) * self.devicePixelRatioF()
        pyramid.draw(painter, image_rect, clip, device_scale)

    # Events

    def left_button_pans(self, position: QPointF) -> bool:
        """Return whether a left-button drag starting here pans. By default it does when zoomed beyond the view."""
        return self.is_zoomed_beyond_view()

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta().y() or event.angleDelta().x()
        if delta == 0 or self._viewport.image_size is None:
            event.ignore()
            return
        factor = ZOOM_STEP ** (delta / _WHEEL_NOTCH)
        position = event.position()
        self._viewport.zoom_at(factor, (position.x(), position.y()), self.view_size())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if self._starts_pan(event):
            self._pan_start = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._pan_start is not None:
            position = event.position()
            delta = position - self._pan_start
            self._pan_start = position
            self._viewport.pan(delta.x(), delta.y(), self.view_size())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._pan_start is not None and event.button() in (Qt.MouseButton.LeftButton, Qt.MouseButton.MiddleButton):
            self._pan_start = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._viewport.is_fit:
            # The fitted scale follows the view size.
            self.zoom_changed.emit(self.scale())

    def is_panning(self) -> bool:
        return self._pan_start is not None

    def _starts_pan(self, event: QMouseEvent) -> bool:
        if self._viewport.image_size is None:
            return False
        if event.button() == Qt.MouseButton.MiddleButton:
            return True
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return True
        return self.left_button_pans(event.position())

    def _on_viewport_changed(self) -> None:
        self.update()
        self.zoom_changed.emit(self.scale())


def _rounded(rect: QRectF) -> QRect:
    left = round(rect.left())
    top = round(rect.top())
    return QRect(left, top, round(rect.right()) - left, round(rect.bottom()) - top)
