"""The export dialog, the saved export choices and the progress dialog of a batch export."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QProgressDialog, QWidget

from colorapp import settings as setting_keys
from colorapp.runs import RunController
from colorapp.settings import Settings
from colorapp.tasks import ExportOptions
from colorapp.widgets.export_dialog import ExportDialog

ExportStarter = Callable[[list[int], ExportOptions], bool]
"""Starts the export of queue items with the chosen options; returns whether it started."""


class ExportFlow(QObject):
    """Opens the export dialog with the last choices, saves them on Export, and shows batch progress.

    ``dialog`` is the open export dialog and ``progress_dialog`` the open progress
    dialog, each None while closed.
    """

    def __init__(self, settings: Settings, runs: RunController, parent: QWidget) -> None:
        super().__init__(parent)
        self._settings = settings
        self._runs = runs
        self._parent = parent
        self.dialog: ExportDialog | None = None
        self.progress_dialog: QProgressDialog | None = None

    def saved_options(self, default_folder: Path | None) -> ExportOptions:
        """Return the choices of the last export; ``default_folder`` fills in a folder never chosen."""
        folder = self._settings.get(setting_keys.LAST_EXPORT_FOLDER)
        if not folder and default_folder is not None:
            folder = str(default_folder)
        return ExportOptions(
            folder=Path(folder),
            fmt=self._settings.get(setting_keys.EXPORT_FORMAT),
            bit_depth=self._settings.get(setting_keys.EXPORT_BIT_DEPTH),
            quality=self._settings.get(setting_keys.EXPORT_QUALITY),
            name_template=self._settings.get(setting_keys.EXPORT_NAME_TEMPLATE),
        )

    def open_dialog(
        self,
        item_ids: list[int],
        sample_name: str,
        model_key: str,
        default_folder: Path | None,
        start: ExportStarter,
    ) -> ExportDialog:
        """Open the dialog without blocking. Export saves the choices and calls ``start``."""
        if self.dialog is not None:
            self.dialog.close()
        dialog = ExportDialog(
            self.saved_options(default_folder), len(item_ids), sample_name, model_key, self._parent
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self._on_accepted(dialog, item_ids, start))
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self.dialog = dialog
        dialog.open()
        return dialog

    def show_progress(self) -> None:
        """Open a window-modal progress dialog whose Cancel button cancels the run."""
        self.close_progress()
        dialog = QProgressDialog("Preparing the export…", "Cancel", 0, 1000, self._parent)
        dialog.setObjectName("export_progress_dialog")
        dialog.setWindowTitle("Exporting Photos")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumWidth(420)
        dialog.canceled.connect(self._runs.cancel)
        self.progress_dialog = dialog
        dialog.show()

    def update_progress(self, text: str, fraction: float) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.setLabelText(text)
            self.progress_dialog.setValue(round(fraction * self.progress_dialog.maximum()))

    def close_progress(self) -> None:
        dialog, self.progress_dialog = self.progress_dialog, None
        if dialog is None:
            return
        # QProgressDialog sends canceled() when it closes, which must not cancel a later run.
        dialog.canceled.disconnect(self._runs.cancel)
        dialog.close()
        dialog.deleteLater()

    def close(self) -> None:
        """Close both dialogs."""
        if self.dialog is not None:
            self.dialog.close()
        self.close_progress()

    def _forget(self, dialog: ExportDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _on_accepted(self, dialog: ExportDialog, item_ids: list[int], start: ExportStarter) -> None:
        options = dialog.options()
        self._settings.set(setting_keys.LAST_EXPORT_FOLDER, str(options.folder))
        self._settings.set(setting_keys.EXPORT_FORMAT, options.fmt)
        self._settings.set(setting_keys.EXPORT_BIT_DEPTH, options.bit_depth)
        self._settings.set(setting_keys.EXPORT_QUALITY, options.quality)
        self._settings.set(setting_keys.EXPORT_NAME_TEMPLATE, options.name_template)
        start(item_ids, options)
