"""Preview photos of a training run: base model, current model and original side by side."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QImage, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

BASE, CURRENT, ORIGINAL = range(3)
COLUMNS = 3
HEADER_HEIGHT = 22
SPACING = 6
MIN_CELL = 64
PREFERRED_CELL = 170


class PreviewGrid(QWidget):
    """One row per preview photo, three columns, images scaled to fit; painted, not built from labels.

    Without a base model, the first column shows the black-and-white input instead.
    """

    BASE_HEADER = "Base model"
    INPUT_HEADER = "Black and white"
    EMPTY_TEXT = "Previews of your held-out photos appear here when training starts."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[list[QImage | None]] = []
        self._has_base_model = True
        self._headers = [self.BASE_HEADER, "Current model", "Original"]
        self._empty_cell_text = ["Computing…", "Waiting for the first validation", ""]
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(COLUMNS * MIN_CELL + (COLUMNS - 1) * SPACING, HEADER_HEIGHT + MIN_CELL)
        self.setAccessibleName("Training previews")

    def clear(self, has_base_model: bool = True) -> None:
        """Remove every image, for a new run."""
        self._rows = []
        self._has_base_model = has_base_model
        self._headers = [self.BASE_HEADER if has_base_model else self.INPUT_HEADER, "Current model", "Original"]
        self.update()

    def row_count(self) -> int:
        return len(self._rows)

    def header(self, column: int) -> str:
        return self._headers[column]

    def image(self, row: int, column: int) -> QImage | None:
        return self._rows[row][column]

    def set_base(self, rows: list[tuple[QImage, QImage, QImage]]) -> None:
        """Show the base model's result: per photo (input, base model's prediction, original)."""
        for index, (_gray, predicted, truth) in enumerate(rows):
            row = self._row(index)
            row[BASE], row[ORIGINAL] = predicted, truth
        self.update()

    def set_current(self, step: int, rows: list[tuple[QImage, QImage, QImage]]) -> None:
        """Show the model at ``step``: per photo (input, prediction, original)."""
        for index, (gray, predicted, truth) in enumerate(rows):
            row = self._row(index)
            row[CURRENT], row[ORIGINAL] = predicted, truth
            if not self._has_base_model:
                row[BASE] = gray
        self._headers[CURRENT] = f"Step {step:,}"
        self.update()

    def _row(self, index: int) -> list[QImage | None]:
        while len(self._rows) <= index:
            self._rows.append([None] * COLUMNS)
        return self._rows[index]

    def sizeHint(self) -> QSize:
        rows = max(1, len(self._rows))
        return QSize(
            COLUMNS * PREFERRED_CELL + (COLUMNS - 1) * SPACING,
            HEADER_HEIGHT + rows * (PREFERRED_CELL + SPACING),
        )

    def _cell_size(self) -> float:
        rows = max(1, len(self._rows))
        by_width = (self.width() - (COLUMNS - 1) * SPACING) / COLUMNS
        by_height = (self.height() - HEADER_HEIGHT) / rows - SPACING
        return max(16.0, min(by_width, by_height))

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        text_color = palette.color(QPalette.ColorRole.WindowText)
        placeholder = palette.color(QPalette.ColorRole.PlaceholderText)
        if not self._rows:
            painter.setPen(placeholder)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.EMPTY_TEXT)
            return

        cell = self._cell_size()
        left = (self.width() - (COLUMNS * cell + (COLUMNS - 1) * SPACING)) / 2
        painter.setPen(text_color)
        for column, title in enumerate(self._headers):
            x = left + column * (cell + SPACING)
            painter.drawText(QRectF(x, 0, cell, HEADER_HEIGHT), Qt.AlignmentFlag.AlignCenter, title)
        for row_index, row in enumerate(self._rows):
            y = HEADER_HEIGHT + row_index * (cell + SPACING)
            for column, image in enumerate(row):
                target = QRectF(left + column * (cell + SPACING), y, cell, cell)
                if image is not None:
                    painter.drawImage(target, image)
                    continue
                painter.fillRect(target, palette.color(QPalette.ColorRole.AlternateBase))
                painter.setPen(placeholder)
                painter.drawText(
                    target.adjusted(4, 4, -4, -4),
                    Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                    self._empty_cell_text[column],
                )
                painter.setPen(text_color)
