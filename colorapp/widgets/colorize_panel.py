"""Side panel of the Colorize tab: photo facts, model, color strength and export options.

The panel only contains controls. ``ColorizeTab`` connects them to the work.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from colorapp.widgets.model_picker import ModelPicker

EXPORT_FORMATS = (("PNG", "png"), ("JPEG", "jpeg"))
"""Display name and ``export_photo`` format for each choice, in menu order."""


class ColorizePanel(QWidget):
    NO_PHOTO_TEXT = "No photo open"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

        self.photo_label = QLabel(self.NO_PHOTO_TEXT, self)
        self.photo_label.setWordWrap(True)
        self.photo_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.model_picker = ModelPicker(self)
        self.strength_spin = QSpinBox(self)
        self.strength_spin.setRange(0, 150)
        self.strength_spin.setSingleStep(10)
        self.strength_spin.setSuffix(" %")
        self.strength_spin.setToolTip(
            "Scales the predicted color: 0 % keeps the photo gray, 100 % is the model's prediction"
        )
        self.colorize_button = QPushButton("Colorize", self)

        self.format_combo = QComboBox(self)
        for label, fmt in EXPORT_FORMATS:
            self.format_combo.addItem(label, fmt)
        self.quality_spin = QSpinBox(self)
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setToolTip("JPEG quality, 1 (smallest file) to 100 (best)")
        self.export_button = QPushButton("Export…", self)
        self.format_combo.currentIndexChanged.connect(self._update_quality_enabled)

        photo_group = QGroupBox("Photo", self)
        photo_layout = QVBoxLayout(photo_group)
        photo_layout.addWidget(self.photo_label)

        model_group = QGroupBox("Colorize", self)
        model_form = QFormLayout(model_group)
        model_form.addRow(QLabel("Model:", model_group))
        model_form.addRow(self.model_picker)
        model_form.addRow("Color strength:", self.strength_spin)
        model_form.addRow(self.colorize_button)

        export_group = QGroupBox("Export", self)
        export_form = QFormLayout(export_group)
        export_form.addRow("Format:", self.format_combo)
        export_form.addRow("JPEG quality:", self.quality_spin)
        export_form.addRow(self.export_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(photo_group)
        layout.addWidget(model_group)
        layout.addWidget(export_group)
        layout.addStretch(1)

        self._update_quality_enabled()

    def export_format(self) -> str:
        """Return the chosen ``export_photo`` format: "png" or "jpeg"."""
        return self.format_combo.currentData()

    def set_export_format(self, fmt: str) -> None:
        index = self.format_combo.findData(fmt)
        if index < 0:
            raise ValueError(f"unknown export format {fmt!r}; expected one of {[f for _, f in EXPORT_FORMATS]}")
        self.format_combo.setCurrentIndex(index)

    def _update_quality_enabled(self) -> None:
        self.quality_spin.setEnabled(self.export_format() == "jpeg")
