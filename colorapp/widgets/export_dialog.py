"""The export dialog: format, bits per channel, quality, name template and output folder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from colorapp.tasks import ExportOptions
from engine.errors import ExportError
from engine.export import BIT_DEPTHS, FORMAT_LABELS, FORMATS, TEMPLATE_FIELDS, output_stem
from engine.imaging import Photo

_LOSSY_FORMATS = ("jpeg", "webp")


def _sample_photo(name: str) -> Photo:
    # output_stem reads only the source path, so one pixel is enough.
    return Photo(rgb=np.zeros((1, 1, 3), dtype=np.float32), source=Path(name))


class ExportDialog(QDialog):
    """Dialog for the export folder, format and file names. ``options()`` returns the choices.

    ``sample_name`` is the file name of the photo shown in the name preview, and
    ``model_key`` fills the template's ``{model}`` field.
    """

    def __init__(
        self,
        options: ExportOptions,
        photo_count: int,
        sample_name: str,
        model_key: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export Photo" if photo_count == 1 else f"Export {photo_count} Photos")
        self._sample = _sample_photo(sample_name)
        self._model_key = model_key

        if photo_count == 1:
            summary = f"Saves the colorized {sample_name} as a new file."
        else:
            summary = (
                f"Saves {photo_count} colorized photos as new files. "
                "Photos without a result are colorized first with the chosen model."
            )
        self.summary_label = QLabel(summary, self)
        self.summary_label.setWordWrap(True)

        self.format_combo = QComboBox(self)
        for fmt in FORMATS:
            self.format_combo.addItem(FORMAT_LABELS[fmt], fmt)
        self.bit_depth_combo = QComboBox(self)
        self.bit_depth_combo.setToolTip("16 bits per channel keeps smooth tones for further editing (PNG and TIFF)")
        self.quality_spin = QSpinBox(self)
        self.quality_spin.setRange(1, 100)
        self.quality_spin.setToolTip("JPEG and WebP quality, 1 (smallest file) to 100 (best)")

        self.template_edit = QLineEdit(self)
        fields = ", ".join("{" + field + "}" for field in TEMPLATE_FIELDS)
        self.template_edit.setToolTip(
            f"File name without suffix. Fields: {fields} (the photo's name, the model, today's date)"
        )
        self.preview_label = QLabel(self)
        self.preview_label.setWordWrap(True)
        self.preview_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.folder_edit = QLineEdit(self)
        self.folder_edit.setPlaceholderText("Choose a folder for the new files")
        self.browse_button = QPushButton("Choose…", self)
        self.browse_button.clicked.connect(self.choose_folder)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(self.browse_button)
        self.folder_status_label = QLabel(self)
        self.folder_status_label.setWordWrap(True)

        note = QLabel(
            "Originals are never changed, and no existing file is overwritten: "
            "a number such as _2 is added to the name instead.",
            self,
        )
        note.setWordWrap(True)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Export")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Format:", self.format_combo)
        form.addRow("Bits per channel:", self.bit_depth_combo)
        form.addRow("Quality:", self.quality_spin)
        form.addRow("File name:", self.template_edit)
        form.addRow("", self.preview_label)
        form.addRow("Folder:", folder_row)
        self._folder_status_row = form.rowCount()
        form.addRow("", self.folder_status_label)
        self._form = form
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

        self._set_options(options)
        self.format_combo.currentIndexChanged.connect(self._on_format_changed)
        self.bit_depth_combo.currentIndexChanged.connect(self._update_preview)
        self.template_edit.textChanged.connect(self._update_preview)
        self.folder_edit.textChanged.connect(self._update_folder_status)
        self._on_format_changed()
        self._update_folder_status()

    # Values

    def options(self) -> ExportOptions:
        return ExportOptions(
            folder=Path(self.folder_edit.text().strip()),
            fmt=self.format_combo.currentData(),
            bit_depth=self.bit_depth_combo.currentData() or 8,
            quality=self.quality_spin.value(),
            name_template=self.template_edit.text(),
        )

    def set_format(self, fmt: str, bit_depth: int = 8) -> None:
        """Choose a format and bit depth. Raise ValueError if the format cannot take that depth."""
        if fmt not in FORMATS or bit_depth not in BIT_DEPTHS[fmt]:
            raise ValueError(f"cannot export {fmt!r} with {bit_depth} bits per channel")
        self.format_combo.setCurrentIndex(self.format_combo.findData(fmt))
        self.bit_depth_combo.setCurrentIndex(self.bit_depth_combo.findData(bit_depth))

    def preview_name(self) -> str | None:
        """Return the file name the template gives for the sample photo, or None if it is invalid."""
        return self._evaluate_template()[0]

    def _evaluate_template(self) -> tuple[str | None, str]:
        """Return (file name, "") for a valid template, or (None, the engine's error message)."""
        try:
            stem = output_stem(self._sample, self.template_edit.text(), self._model_key)
        except ExportError as error:
            return None, str(error)
        return stem + FORMATS[self.format_combo.currentData()], ""

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export Into Folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    # Internals

    def _set_options(self, options: ExportOptions) -> None:
        self.format_combo.setCurrentIndex(max(self.format_combo.findData(options.fmt), 0))
        self._fill_bit_depths(options.bit_depth)
        self.quality_spin.setValue(options.quality)
        self.template_edit.setText(options.name_template)
        self.folder_edit.setText(str(options.folder) if str(options.folder) not in ("", ".") else "")

    def _fill_bit_depths(self, preferred: int) -> None:
        depths = BIT_DEPTHS[self.format_combo.currentData()]
        self.bit_depth_combo.blockSignals(True)
        self.bit_depth_combo.clear()
        for depth in depths:
            self.bit_depth_combo.addItem(f"{depth} bits", depth)
        index = self.bit_depth_combo.findData(preferred)
        self.bit_depth_combo.setCurrentIndex(max(index, 0))
        self.bit_depth_combo.blockSignals(False)
        self.bit_depth_combo.setEnabled(len(depths) > 1)

    def _on_format_changed(self) -> None:
        self._fill_bit_depths(self.bit_depth_combo.currentData() or 8)
        self.quality_spin.setEnabled(self.format_combo.currentData() in _LOSSY_FORMATS)
        self._update_preview()

    def _update_preview(self) -> None:
        name, error = self._evaluate_template()
        if name is None:
            self.preview_label.setText(f"<span style='color:#c0392b'>{_escape(error)}</span>")
        else:
            self.preview_label.setText(f"Example: <b>{_escape(name)}</b>")
        self._update_ok_enabled()

    def _update_folder_status(self) -> None:
        text = self.folder_edit.text().strip()
        missing = bool(text) and not Path(text).is_dir()
        self.folder_status_label.setText(
            "<span style='color:#c0392b'>This folder does not exist.</span>" if missing else ""
        )
        self._form.setRowVisible(self._folder_status_row, missing)
        self._update_ok_enabled()

    def _update_ok_enabled(self) -> None:
        folder = self.folder_edit.text().strip()
        self.ok_button.setEnabled(self.preview_name() is not None and bool(folder) and Path(folder).is_dir())


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
