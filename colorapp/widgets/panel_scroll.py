"""A vertical scroll area for a tab's settings panel."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea, QWidget


def scrolling_panel(panel: QWidget, parent: QWidget, minimum_width: int) -> QScrollArea:
    """Wrap ``panel`` in a frameless scroll area that scrolls vertically only."""
    area = QScrollArea(parent)
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setMinimumWidth(minimum_width)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area
