"""Side panel of the Colorize tab: photo facts, model, render settings, device, runs and export.

The panel only contains controls. ``ColorizeTab`` connects them to the work.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from colorapp.settings import RENDER_SIZES, WORKING_SIZES
from colorapp.widgets.device_combo import fill_device_combo
from colorapp.widgets.model_picker import ModelPicker


class ColorizePanel(QWidget):
    NO_PHOTO_TEXT = "No photo selected"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)

        self.photo_label = QLabel(self.NO_PHOTO_TEXT, self)
        self.photo_label.setWordWrap(True)
        self.photo_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.model_picker = ModelPicker(self)

        self._create_render_controls()
        self._create_run_controls()

        self.export_button = QPushButton("Export…", self)
        self.export_all_button = QPushButton("Export All…", self)

        photo_group = QGroupBox("Photo", self)
        QVBoxLayout(photo_group).addWidget(self.photo_label)

        model_group = QGroupBox("Model", self)
        QVBoxLayout(model_group).addWidget(self.model_picker)

        render_group = QGroupBox("Render settings", self)
        render_form = QFormLayout(render_group)
        render_form.addRow("Render size:", self.render_size_combo)
        render_form.addRow("Color strength:", self.strength_spin)
        render_form.addRow(self.keep_tone_check)
        render_form.addRow(self.tiled_check)
        render_form.addRow("Working size:", self.working_size_combo)
        render_form.addRow("Tile overlap:", self.tile_overlap_spin)
        render_form.addRow("Device:", self.device_combo)

        run_group = QGroupBox("Colorize", self)
        run_layout = QGridLayout(run_group)
        run_layout.addWidget(self.colorize_button, 0, 0)
        run_layout.addWidget(self.colorize_all_button, 0, 1)
        run_layout.addWidget(self.compare_button, 1, 0, 1, 2)
        # One container, so that hiding it leaves no empty rows behind.
        self.run_status = QWidget(run_group)
        status_layout = QVBoxLayout(self.run_status)
        status_layout.setContentsMargins(0, 0, 0, 0)
        status_layout.addWidget(self.run_label)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.run_progress, 1)
        progress_row.addWidget(self.cancel_button)
        status_layout.addLayout(progress_row)
        run_layout.addWidget(self.run_status, 2, 0, 1, 2)

        export_group = QGroupBox("Export", self)
        export_layout = QHBoxLayout(export_group)
        export_layout.addWidget(self.export_button)
        export_layout.addWidget(self.export_all_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for group in (photo_group, model_group, render_group, run_group, export_group):
            layout.addWidget(group)
        layout.addStretch(1)

        self.tiled_check.toggled.connect(self._update_tiled_enabled)
        self._update_tiled_enabled()
        self.show_run_progress(None)

    def _create_render_controls(self) -> None:
        self.render_size_combo = QComboBox(self)
        for size in RENDER_SIZES:
            self.render_size_combo.addItem(f"{size} × {size} px", size)
        self.render_size_combo.setToolTip(
            "Size of the square image the model colorizes. Larger sizes give finer color but take longer"
        )

        self.strength_spin = QSpinBox(self)
        self.strength_spin.setRange(0, 150)
        self.strength_spin.setSingleStep(10)
        self.strength_spin.setSuffix(" %")
        self.strength_spin.setToolTip(
            "Scales the predicted color: 0 % keeps the photo gray, 100 % is the model's prediction"
        )

        self.keep_tone_check = QCheckBox("Keep the scan's own tone (sepia)", self)
        self.keep_tone_check.setToolTip("Adds the photo's overall tint back to the result instead of removing it")

        self.tiled_check = QCheckBox("Tiled mode for large scans", self)
        self.tiled_check.setToolTip(
            "Colorizes overlapping 256-pixel tiles of the photo at the working size, for finer detail"
        )
        self.working_size_combo = QComboBox(self)
        for size in WORKING_SIZES:
            self.working_size_combo.addItem(f"{size} px", size)
        self.working_size_combo.setToolTip("Long side, in pixels, that the photo is scaled to before tiling")
        self.tile_overlap_spin = QSpinBox(self)
        self.tile_overlap_spin.setRange(0, 128)
        self.tile_overlap_spin.setSingleStep(16)
        self.tile_overlap_spin.setSuffix(" px")
        self.tile_overlap_spin.setToolTip("Pixels that neighbouring tiles share, blended to hide seams")

        self.device_combo = QComboBox(self)
        self.device_combo.setToolTip("Where the model runs; Automatic picks a GPU when there is one")

    def _create_run_controls(self) -> None:
        self.colorize_button = QPushButton("Colorize", self)
        self.colorize_all_button = QPushButton("Colorize All", self)
        self.compare_button = QPushButton("Compare Models…", self)
        self.run_label = QLabel(self)
        self.run_label.setWordWrap(True)
        self.run_progress = QProgressBar(self)
        self.run_progress.setRange(0, 1000)
        self.run_progress.setTextVisible(False)
        self.run_progress.setAccessibleName("Colorize progress")
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setToolTip("Stop colorizing; photos already done keep their results")

    # Values

    def render_size(self) -> int:
        return self.render_size_combo.currentData()

    def set_render_size(self, size: int) -> None:
        _select_data(self.render_size_combo, size)

    def working_size(self) -> int:
        return self.working_size_combo.currentData()

    def set_working_size(self, size: int) -> None:
        _select_data(self.working_size_combo, size)

    def set_devices(self, devices: Sequence[tuple[str, str]], selected: str) -> None:
        """List (device id, label) pairs and select ``selected``, or the first when it is not listed."""
        fill_device_combo(self.device_combo, devices, selected)

    def device(self) -> str:
        return self.device_combo.currentData() or "auto"

    def show_run_progress(self, text: str | None, fraction: float = 0.0) -> None:
        """Show a running batch's text and progress (0 to 1), or hide the progress with None."""
        running = text is not None
        if self.run_status.isVisibleTo(self) != running:
            self.run_status.setVisible(running)
            # NOTE: with PySide6 6.12 the group box kept its taller height after the
            # progress was hidden until its layout was invalidated by hand.
            group = self.run_status.parentWidget()
            group.layout().invalidate()
            group.updateGeometry()
        if running:
            self.run_label.setText(text)
            self.run_progress.setValue(round(fraction * self.run_progress.maximum()))

    def _update_tiled_enabled(self) -> None:
        tiled = self.tiled_check.isChecked()
        self.working_size_combo.setEnabled(tiled)
        self.tile_overlap_spin.setEnabled(tiled)


def _select_data(combo: QComboBox, value: object) -> None:
    index = combo.findData(value)
    if index < 0:
        raise ValueError(f"{value!r} is not one of the choices {[combo.itemData(i) for i in range(combo.count())]}")
    combo.setCurrentIndex(index)
