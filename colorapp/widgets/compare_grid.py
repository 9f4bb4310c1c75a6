"""The compare grid: one photo colorized by several models, side by side with the original.

All panes share one ``Viewport``, so zooming or panning any pane moves every pane
and they always show the same part of the photo.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QColor,
    QFontMetrics,
    QImage,
    QKeySequence,
    QPainter,
    QPainterPath,
    QPaintEvent,
)
from PySide6.QtWidgets import QDialog, QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from colorapp.viewport import Viewport
from colorapp.widgets.zoom_view import BACKGROUND, ImagePyramid, ZoomableImageView
from engine.catalog import ModelEntry

MAX_COMPARE_MODELS = 4
"""Most models the grid compares at once, beside the original."""


def choose_compare_models(entries: Sequence[ModelEntry], current: ModelEntry | None) -> list[ModelEntry]:
    """Pick up to MAX_COMPARE_MODELS models: the shipped ones first, then the current user model, then others."""
    shipped = [entry for entry in entries if entry.shipped]
    user = [entry for entry in entries if not entry.shipped]
    if current is not None and current in user:
        user.remove(current)
        user.insert(0, current)
    return (shipped + user)[:MAX_COMPARE_MODELS]


class ImagePane(ZoomableImageView):
    """One pane of the grid: a title, and an image or a message while there is none.

    Any left-button drag pans, because the pane has no divider.
    """

    def __init__(self, title: str, viewport: Viewport, parent: QWidget | None = None) -> None:
        super().__init__(viewport, parent)
        self._title = title
        self._caption = ""
        self._image: ImagePyramid | None = None
        self._message = ""
        self.setAccessibleName(title)

    def title(self) -> str:
        return self._title

    def caption(self) -> str:
        return self._caption

    def message(self) -> str:
        return self._message

    def image(self) -> QImage | None:
        return self._image.image if self._image is not None else None

    def set_image(self, image: QImage, caption: str = "") -> None:
        self._image = ImagePyramid(image)
        self._caption = caption
        self._message = ""
        self.update()

    def set_message(self, message: str) -> None:
        """Show a message in place of the image, such as progress or an error."""
        self._image = None
        self._message = message
        self.update()

    def left_button_pans(self, position) -> bool:
        return self._image is not None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        if self._image is not None:
            self.draw_image(painter, self._image)
        else:
            painter.setPen(QColor(210, 210, 210))
            painter.drawText(
                QRectF(self.rect()).adjusted(16, 16, -16, -16),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self._message,
            )
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = f"{self._title} · {self._caption}" if self._caption else self._title
        metrics = QFontMetrics(painter.font())
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(self.width() - 32, 20))
        box = QRectF(8, 8, metrics.horizontalAdvance(text) + 12, metrics.height() + 6)
        path = QPainterPath()
        path.addRoundedRect(box, 4, 4)
        painter.fillPath(path, QColor(0, 0, 0, 160))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class CompareGridDialog(QDialog):
    """The original and each model's result in a grid, zoomed and panned together.

    The owner fills the model panes with ``set_model_result`` or
    ``set_model_failed`` as the results arrive, and stops its work on ``closed``.
    """

    closed = Signal()

    def __init__(
        self,
        photo_name: str,
        original: QImage,
        models: Sequence[ModelEntry],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._closed_sent = False
        self.setWindowTitle(f"Compare Models – {photo_name}")
        self.viewport = Viewport()
        self.viewport.set_image_size((original.width(), original.height()))

        self.original_pane = ImagePane("Original", self.viewport, self)
        self.original_pane.set_image(original)
        self.model_panes: dict[str, ImagePane] = {}
        for model in models:
            pane = ImagePane(model.name, self.viewport, self)
            pane.set_message(f"Waiting to colorize with {model.name}…")
            self.model_panes[model.key] = pane

        panes = self.panes()
        columns = 2 if len(panes) <= 4 else 3
        grid = QGridLayout()
        grid.setSpacing(4)
        for number, pane in enumerate(panes):
            grid.addWidget(pane, number // columns, number % columns)
        for column in range(columns):
            grid.setColumnStretch(column, 1)
        for row in range(math.ceil(len(panes) / columns)):
            grid.setRowStretch(row, 1)

        self.zoom_label = QLabel(self)
        self.fit_button = QPushButton("Fit", self)
        self.fit_button.setToolTip("Show the whole photo (Ctrl+0)")
        self.actual_size_button = QPushButton("100 %", self)
        self.actual_size_button.setToolTip("One photo pixel per screen pixel (Ctrl+1)")
        self.fit_button.clicked.connect(self.original_pane.fit_to_view)
        self.actual_size_button.clicked.connect(self.original_pane.actual_size)
        hint = QLabel("Wheel: zoom · Drag: pan · All panes move together", self)
        toolbar = QHBoxLayout()
        toolbar.addWidget(self.fit_button)
        toolbar.addWidget(self.actual_size_button)
        toolbar.addWidget(self.zoom_label)
        toolbar.addStretch(1)
        toolbar.addWidget(hint)

        layout = QVBoxLayout(self)
        layout.addLayout(toolbar)
        layout.addLayout(grid, 1)

        self._add_shortcut("Zoom In", ("Ctrl+=", "Ctrl++"), self.original_pane.zoom_in)
        self._add_shortcut("Zoom Out", ("Ctrl+-",), self.original_pane.zoom_out)
        self._add_shortcut("Fit", ("Ctrl+0",), self.original_pane.fit_to_view)
        self._add_shortcut("Actual Size", ("Ctrl+1",), self.original_pane.actual_size)
        self.original_pane.zoom_changed.connect(self._show_zoom)
        self.resize(1100, 760)
        self._show_zoom()

    def panes(self) -> list[ImagePane]:
        """Return the original's pane, then one pane per model in the given order."""
        return [self.original_pane, *self.model_panes.values()]

    def set_model_running(self, model_key: str) -> None:
        pane = self.model_panes.get(model_key)
        if pane is not None:
            pane.set_message(f"Colorizing with {pane.title()}…")

    def set_model_result(self, model_key: str, image: QImage, caption: str) -> None:
        pane = self.model_panes.get(model_key)
        if pane is not None:
            pane.set_image(image, caption)

    def set_model_failed(self, model_key: str, message: str) -> None:
        pane = self.model_panes.get(model_key)
        if pane is not None:
            pane.set_message(f"Failed: {message}")

    def closeEvent(self, event: QCloseEvent) -> None:
        self._emit_closed()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        # Escape ends here, and the window's close button ends in closeEvent.
        self._emit_closed()
        super().done(result)

    def _emit_closed(self) -> None:
        if not self._closed_sent:
            self._closed_sent = True
            self.closed.emit()

    def _add_shortcut(self, text: str, keys: Sequence[str], slot) -> None:
        action = QAction(text, self)
        action.setShortcuts([QKeySequence(key) for key in keys])
        action.triggered.connect(slot)
        self.addAction(action)

    def _show_zoom(self, *_args) -> None:
        self.zoom_label.setText(f"{round(self.original_pane.scale() * 100)} %")
