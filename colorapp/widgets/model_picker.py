"""Model selector: a combo box of catalogue entries and an "About this model" button."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from colorapp.widgets.model_card_dialog import ModelCardDialog
from engine.catalog import ModelEntry


class ModelPicker(QWidget):
    """Lists models by display name; ``model_changed`` sends the chosen ModelEntry."""

    model_changed = Signal(object)

    NO_MODELS_TEXT = "No models found"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._entries: list[ModelEntry] = []

        self.combo = QComboBox(self)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setAccessibleName("Model")
        self.combo.currentIndexChanged.connect(self._on_index_changed)

        self.about_button = QPushButton("About this model…", self)
        self.about_button.setToolTip("Show the model card: architecture, training data, metrics and licence")
        self.about_button.clicked.connect(self.show_model_card)

        button_row = QHBoxLayout()
        button_row.addStretch(1)
        button_row.addWidget(self.about_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        layout.addLayout(button_row)

        self.set_entries([])

    def set_entries(self, entries: Sequence[ModelEntry], selected_key: str | None = None) -> None:
        """Replace the list; select ``selected_key`` if present, else the first entry."""
        self._entries = list(entries)
        self.combo.blockSignals(True)
        self.combo.clear()
        for entry in self._entries:
            self.combo.addItem(entry.name, entry.key)
            origin = "Shipped with ColorApp" if entry.shipped else "Your model"
            self.combo.setItemData(self.combo.count() - 1, f"{origin}: {entry.path}", Qt.ItemDataRole.ToolTipRole)
        if not self._entries:
            self.combo.addItem(self.NO_MODELS_TEXT)
        index = self.combo.findData(selected_key) if selected_key else -1
        self.combo.setCurrentIndex(max(index, 0))
        self.combo.blockSignals(False)

        self.combo.setEnabled(bool(self._entries))
        self.about_button.setEnabled(bool(self._entries))
        self.model_changed.emit(self.current_entry())

    def entries(self) -> list[ModelEntry]:
        return list(self._entries)

    def current_entry(self) -> ModelEntry | None:
        if not self._entries:
            return None
        return self._entries[self.combo.currentIndex()]

    def select_key(self, key: str) -> bool:
        """Select the entry with this key; return False if there is none."""
        index = self.combo.findData(key)
        if index < 0 or not self._entries:
            return False
        self.combo.setCurrentIndex(index)
        return True

    def show_model_card(self) -> ModelCardDialog | None:
        """Open the current model's card in a window-modal dialog and return it."""
        entry = self.current_entry()
        if entry is None:
            return None
        dialog = ModelCardDialog(entry, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _on_index_changed(self, index: int) -> None:
        if 0 <= index < len(self._entries):
            self.model_changed.emit(self._entries[index])
