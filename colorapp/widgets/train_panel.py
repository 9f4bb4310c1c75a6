"""Controls of the Train tab: photo folder and its check, model, recipe, training settings, run buttons.

The panel only contains controls. ``TrainTab`` connects them to the work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from colorapp.settings import TRAIN_WIDTHS
from colorapp.widgets.device_combo import fill_device_combo
from engine.catalog import ModelEntry

SCRATCH_KEY = "scratch"
"""Base model choice that trains a new generator from random weights."""
_LADDER = (1.0, 2.0, 5.0)


class LearningRateSpinBox(QDoubleSpinBox):
    """A learning rate in scientific notation ("2e-05"); the arrows step through 1, 2, 5 x 10^k."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(1e-8, 1e-2)
        self.setValue(2e-4)

    def textFromValue(self, value: float) -> str:
        return f"{value:.3g}"

    def valueFromText(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text: str, position: int):
        try:
            value = float(text)
        except ValueError:
            # Partial input such as "2e-" may still become a number.
            partial = all(character in "0123456789.eE-+" for character in text)
            state = QValidator.State.Intermediate if partial else QValidator.State.Invalid
            return state, text, position
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, position
        return QValidator.State.Intermediate, text, position

    def stepBy(self, steps: int) -> None:
        value = self.value()
        exponent = math.floor(math.log10(value))
        mantissa = value / 10**exponent
        index = max(i for i, rung in enumerate(_LADDER) if rung <= mantissa + 1e-9)
        if steps < 0 and not math.isclose(mantissa, _LADDER[index], rel_tol=1e-6):
            index += 1  # Between two rungs, a step down lands on the lower one.
        position = exponent * len(_LADDER) + index + steps
        rung, power = _LADDER[position % len(_LADDER)], position // len(_LADDER)
        self.setValue(min(max(rung * 10.0**power, self.minimum()), self.maximum()))


class TrainPanel(QWidget):
    SKIPPED_COLUMNS = ("File", "Reason", "Detail")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._create_photo_group()
        self._create_model_group()
        self._create_training_group()

        self.start_button = QPushButton("Start Training", self)
        self.start_button.setToolTip("Check the photos if needed, then train a new model on them")
        self.pause_button = QPushButton("Pause", self)
        self.pause_button.setToolTip("Hold training after the current step; Resume continues it")
        self.pause_button.setCheckable(True)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setToolTip("End training after the current step and save the model as it is")
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button, 2)
        buttons.addWidget(self.pause_button, 1)
        buttons.addWidget(self.stop_button, 1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.photo_group)
        layout.addWidget(self.model_group)
        layout.addWidget(self.training_group)
        layout.addLayout(buttons)
        layout.addStretch(1)

    def _create_photo_group(self) -> None:
        self.photo_group = QGroupBox("Your photos", self)
        self.folder_edit = QLineEdit(self)
        self.folder_edit.setPlaceholderText("Folder of your colour photos")
        self.folder_edit.setAccessibleName("Photo folder")
        self.browse_button = QPushButton("Choose…", self)
        self.browse_button.setToolTip("Choose the folder; its subfolders are searched too")
        self.check_button = QPushButton("Check Photos", self)
        self.check_button.setToolTip(
            "Count the colour photos that can teach the model; grayscale, sepia, tiny and broken files are skipped"
        )
        self.check_progress = QProgressBar(self)
        self.check_progress.setTextVisible(False)
        self.check_progress.setMaximumHeight(8)
        self.check_progress.hide()
        self.report_label = QLabel("Not checked yet.", self)
        self.report_label.setWordWrap(True)
        self.report_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning_label = QLabel(self)
        self.warning_label.setWordWrap(True)
        self.warning_label.setObjectName("train_warning")
        self.warning_label.setStyleSheet("color: #b35900;")
        self.warning_label.hide()
        self.skipped_list = QTreeWidget(self)
        self.skipped_list.setHeaderLabels(list(self.SKIPPED_COLUMNS))
        self.skipped_list.setRootIsDecorated(False)
        self.skipped_list.setAlternatingRowColors(True)
        self.skipped_list.setAccessibleName("Skipped files")
        self.skipped_list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.skipped_list.header().setStretchLastSection(False)
        self.skipped_list.hide()

        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        layout = QVBoxLayout(self.photo_group)
        layout.addLayout(folder_row)
        layout.addWidget(self.check_button)
        layout.addWidget(self.check_progress)
        layout.addWidget(self.report_label)
        layout.addWidget(self.warning_label)
        layout.addWidget(self.skipped_list)

    def _create_model_group(self) -> None:
        self.model_group = QGroupBox("Model", self)
        self.base_combo = QComboBox(self)
        self.base_combo.setAccessibleName("Base model")
        self.base_combo.setToolTip("The model to start from; its architecture decides which recipes fit")
        self.recipe_combo = QComboBox(self)
        self.recipe_combo.setAccessibleName("Recipe")
        self.recipe_combo.setToolTip("Losses and optimizer settings of the training")
        self.width_combo = QComboBox(self)
        for width in TRAIN_WIDTHS:
            self.width_combo.addItem(f"{width}", width)
        self.width_combo.setToolTip(
            "Channels of the generator's first layer when training from scratch: "
            "16 is compact and fast, 64 is the full size"
        )
        self.name_edit = QLineEdit(self)
        self.name_edit.setAccessibleName("New model name")
        self.name_edit.setPlaceholderText("Name of the new model")
        form = QFormLayout(self.model_group)
        form.addRow("Start from:", self.base_combo)
        form.addRow("Recipe:", self.recipe_combo)
        form.addRow("Width:", self.width_combo)
        form.addRow("New model name:", self.name_edit)

    def _create_training_group(self) -> None:
        self.training_group = QGroupBox("Training", self)
        self.epochs_spin = QSpinBox(self)
        self.epochs_spin.setRange(1, 1000)
        self.epochs_spin.setToolTip("Passes over your photos")
        self.batch_spin = QSpinBox(self)
        self.batch_spin.setRange(2, 256)
        self.batch_spin.setToolTip(
            "Photos per training step; at least 2, because the generator's innermost layer uses BatchNorm"
        )
        self.lr_spin = LearningRateSpinBox(self)
        self.lr_spin.setToolTip(
            "Learning rate of the generator and the discriminator at the start; "
            "fine-tuning defaults to the recipe's rate times its fine-tuning scale"
        )
        self.device_combo = QComboBox(self)
        self.device_combo.setAccessibleName("Training device")
        self.validate_spin = QSpinBox(self)
        self.validate_spin.setRange(1, 100_000)
        self.validate_spin.setSuffix(" steps")
        self.validate_spin.setToolTip(
            "How often to refresh the previews, compute the validation error and save a checkpoint"
        )
        form = QFormLayout(self.training_group)
        form.addRow("Epochs:", self.epochs_spin)
        form.addRow("Batch size:", self.batch_spin)
        form.addRow("Learning rate:", self.lr_spin)
        form.addRow("Device:", self.device_combo)
        form.addRow("Preview every:", self.validate_spin)

    # Values

    def set_base_models(self, entries: Sequence[ModelEntry], selected_key: str) -> None:
        """List the models and "from scratch"; select ``selected_key``, else the first model."""
        self.base_combo.blockSignals(True)
        self.base_combo.clear()
        for entry in entries:
            self.base_combo.addItem(entry.name if entry.shipped else f"{entry.name} – yours", entry.key)
            origin = "Shipped with ColorApp" if entry.shipped else "Your model"
            self.base_combo.setItemData(
                self.base_combo.count() - 1, f"{origin}: {entry.path}", Qt.ItemDataRole.ToolTipRole
            )
        self.base_combo.addItem("Nothing: train from scratch", SCRATCH_KEY)
        index = self.base_combo.findData(selected_key)
        self.base_combo.setCurrentIndex(index if index >= 0 else 0)
        self.base_combo.blockSignals(False)

    def base_key(self) -> str:
        return self.base_combo.currentData() or SCRATCH_KEY

    def set_recipes(self, names: Sequence[str], selected: str) -> None:
        self.recipe_combo.blockSignals(True)
        self.recipe_combo.clear()
        for name in names:
            self.recipe_combo.addItem(name, name)
        index = self.recipe_combo.findData(selected)
        self.recipe_combo.setCurrentIndex(index if index >= 0 else 0)
        self.recipe_combo.blockSignals(False)

    def recipe(self) -> str:
        return self.recipe_combo.currentData()

    def set_width(self, width: int) -> None:
        index = self.width_combo.findData(width)
        if index < 0:
            # A base model of an unlisted width shows it as its own, fixed entry.
            self.width_combo.addItem(f"{width}", width)
            index = self.width_combo.count() - 1
        self.width_combo.setCurrentIndex(index)

    def generator_width(self) -> int:
        return int(self.width_combo.currentData())

    def set_devices(self, devices: Sequence[tuple[str, str]], selected: str) -> None:
        fill_device_combo(self.device_combo, devices, selected)

    def device(self) -> str:
        return self.device_combo.currentData() or "auto"

    def show_skipped(self, rows: Sequence[tuple[str, str, str]]) -> None:
        """List skipped files as (file, reason, detail); hide the list when there are none."""
        self.skipped_list.clear()
        for name, reason, detail in rows:
            item = QTreeWidgetItem([name, reason, detail])
            item.setToolTip(0, name)
            item.setToolTip(2, detail)
            self.skipped_list.addTopLevelItem(item)
        self.skipped_list.resizeColumnToContents(1)
        # Tall enough for up to six rows; more scroll.
        row_height = self.skipped_list.sizeHintForRow(0) if rows else 0
        header = self.skipped_list.header().sizeHint().height()
        self.skipped_list.setFixedHeight(header + row_height * min(len(rows), 6) + 4)
        self.skipped_list.setVisible(bool(rows))

    def skipped_rows(self) -> list[tuple[str, str, str]]:
        """Return the rows of the skipped-file list."""
        return [
            tuple(self.skipped_list.topLevelItem(i).text(column) for column in range(3))
            for i in range(self.skipped_list.topLevelItemCount())
        ]

    def show_warning(self, text: str) -> None:
        self.warning_label.setText(text)
        self.warning_label.setVisible(bool(text))

    def set_settings_enabled(self, enabled: bool) -> None:
        """Enable or disable every choice; they stay fixed while a run uses them.

        The check's report and the skipped files stay readable.
        """
        for widget in (self.folder_edit, self.browse_button, self.model_group, self.training_group):
            widget.setEnabled(enabled)
