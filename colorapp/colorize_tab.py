"""The Colorize tab: open one photo, colorize it with a chosen model, compare, export.

The tab owns the state of the current photo and result and sends all engine work
to a ``WorkerThread``. It reports through signals and leaves the status bar and
message boxes to the main window.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QPushButton, QWidget

from colorapp import image_files, settings as setting_keys
from colorapp.settings import Settings
from colorapp.tasks import (
    ColorizeOutcome,
    ColorizerCache,
    LoadedPhoto,
    colorize_photo,
    export_result,
    open_photo,
)
from colorapp.widgets.colorize_panel import ColorizePanel
from colorapp.widgets.compare_view import CompareView
from colorapp.workers import Job, WorkerThread
from engine.catalog import ModelCatalog, ModelEntry
from engine.errors import ColorAppError
from engine.imaging import Photo

logger = logging.getLogger(__name__)

_PANEL_WIDTH = 300


def _bind_button(button: QPushButton, action: QAction) -> None:
    """Make a push button trigger an action and follow its enabled state."""
    button.clicked.connect(action.trigger)
    button.setEnabled(action.isEnabled())
    button.setToolTip(f"{action.toolTip()} ({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")
    action.enabledChanged.connect(button.setEnabled)


class ColorizeTab(QWidget):
    """Compare view on the left, controls on the right, actions for the menus.

    ``choose_open_path`` and ``choose_export_folder`` are the only places that open
    file dialogs, so tests can replace them.
    """

    photo_opened = Signal(object)
    """The Photo now shown."""
    open_failed = Signal(str)
    colorize_finished = Signal(object)
    """A ColorizeOutcome, sent after the view shows the result."""
    colorize_failed = Signal(str)
    export_finished = Signal(object)
    """The Path of the written file."""
    export_failed = Signal(str)
    status_message = Signal(str)
    error_occurred = Signal(str, str)
    """Title and message of an error the window should show in a message box."""

    def __init__(
        self,
        worker: WorkerThread,
        catalog: ModelCatalog,
        settings: Settings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._catalog = catalog
        self._settings = settings
        # Used only by jobs, which all run in the one worker thread.
        self._colorizers = ColorizerCache()

        self._photo: Photo | None = None
        self._outcome: ColorizeOutcome | None = None
        self._colorizing = False
        self._open_notes: dict[Path, str] = {}

        self.view = CompareView(self)
        self.panel = ColorizePanel(self)
        self.panel.setFixedWidth(_PANEL_WIDTH)
        layout = QHBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.panel)

        self.open_action = QAction("&Open Photo…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setToolTip("Open a photo")
        self.open_action.triggered.connect(self.open_with_dialog)

        self.colorize_action = QAction("&Colorize", self)
        self.colorize_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_R))
        self.colorize_action.setToolTip("Colorize the photo with the chosen model")
        self.colorize_action.triggered.connect(self.colorize)

        self.export_action = QAction("&Export…", self)
        self.export_action.setShortcut(QKeySequence(Qt.Modifier.CTRL | Qt.Key.Key_E))
        self.export_action.setToolTip("Save the colorized photo into a folder")
        self.export_action.triggered.connect(self.export_with_dialog)

        _bind_button(self.panel.colorize_button, self.colorize_action)
        _bind_button(self.panel.export_button, self.export_action)

        self._restore_settings()
        self.panel.model_picker.model_changed.connect(self._on_model_changed)
        self.panel.strength_spin.valueChanged.connect(self._on_strength_changed)
        self.panel.format_combo.currentIndexChanged.connect(self._on_export_format_changed)
        self.panel.quality_spin.valueChanged.connect(self._on_quality_changed)
        self._update_actions()
        # The model list is filled by reload_models(), which the owner calls once it
        # has connected status_message and error_occurred, so that problems are shown.

    # State

    @property
    def photo(self) -> Photo | None:
        """The open photo, or None."""
        return self._photo

    @property
    def outcome(self) -> ColorizeOutcome | None:
        """The result for the open photo, or None until it is colorized."""
        return self._outcome

    def reload_models(self) -> None:
        """Scan the model catalogue and select the current or last used model.

        Without either, the catalogue's default (first) entry is selected.
        """
        current = self.panel.model_picker.current_entry()
        selected = current.key if current else self._settings.get(setting_keys.MODEL_KEY)
        try:
            entries = self._catalog.entries()
        except (ColorAppError, OSError) as error:
            logger.error("Listing models failed: %s", error)
            self.panel.model_picker.set_entries([])
            self.error_occurred.emit("No Models", f"Listing the models failed: {error}")
            return
        problems = list(self._catalog.problems)
        self.panel.model_picker.set_entries(entries, selected or None)

        if not entries:
            message = (
                f"No model files were found in {self._catalog.shipped_dir} or "
                f"{self._catalog.user_model_dir}. Reinstall ColorApp or add a model file."
            )
            logger.warning("%s", message)
            self.error_occurred.emit("No Models", message)
        elif problems:
            self.status_message.emit(f"Skipped {len(problems)} invalid model file(s): {'; '.join(problems)}")

    # Opening

    def choose_open_path(self) -> Path | None:
        """Ask for a photo with a file dialog; return None if cancelled."""
        start = self._settings.get(setting_keys.LAST_OPEN_FOLDER)
        filename, _ = QFileDialog.getOpenFileName(
            self, "Open Photo", start, image_files.open_dialog_filter()
        )
        return Path(filename) if filename else None

    @Slot()
    def open_with_dialog(self) -> None:
        path = self.choose_open_path()
        if path is not None:
            self.open_paths([path])

    def open_paths(self, paths: Iterable[str | Path]) -> None:
        """Open the first supported image of ``paths`` in the background.

        Rejected paths are reported in the status bar. ``photo_opened`` or
        ``open_failed`` follows when loading ends.
        """
        accepted, rejected = image_files.split_image_paths(paths)
        messages = []
        if rejected:
            for item in rejected:
                logger.info("Not opening %s: %s", item.path, item.reason)
            messages.append(image_files.describe_rejected(rejected))
        if not accepted:
            self.status_message.emit(" ".join(messages) or "Nothing to open.")
            return

        path = accepted[0]
        if len(accepted) > 1:
            # TODO: queue every accepted photo once the tab has a queue.
            skipped = ", ".join(item.name for item in accepted[1:])
            messages.append(f"One photo can be open at a time; skipped {skipped}.")
        notes = " ".join(messages)
        self.status_message.emit(f"Opening {path.name}… {notes}".rstrip())

        # Kept until loading ends, because the "Opened" message replaces this one.
        self._open_notes[path] = notes
        job = Job(f"Loading {path}", partial(open_photo, path))
        job.finished.connect(self._on_photo_loaded)
        job.failed.connect(self._on_open_failed)
        self._worker.submit(job)

    @Slot(object)
    def _on_photo_loaded(self, loaded: LoadedPhoto) -> None:
        photo = loaded.photo
        notes = self._open_notes.pop(photo.source, "") if photo.source is not None else ""
        self._photo = photo
        self._outcome = None
        self.view.set_original(loaded.image)

        width, height = photo.size
        name = photo.source.name if photo.source else "photo"
        self.panel.photo_label.setText(f"{name}\n{width} × {height} px")
        self.panel.photo_label.setToolTip(str(photo.source or ""))
        if photo.source is not None:
            self._settings.set(setting_keys.LAST_OPEN_FOLDER, str(photo.source.parent))
        self._update_actions()

        self.status_message.emit(f"Opened {name} ({width} × {height} px). {notes}".rstrip())
        self.photo_opened.emit(photo)

    @Slot(str)
    def _on_open_failed(self, message: str) -> None:
        self.error_occurred.emit("Cannot Open Photo", message)
        self.open_failed.emit(message)

    # Colorizing

    @Slot()
    def colorize(self) -> bool:
        """Colorize the open photo with the chosen model in the background.

        Return whether a job was started. ``colorize_finished`` or ``colorize_failed``
        follows.
        """
        model = self.panel.model_picker.current_entry()
        if self._photo is None or model is None or self._colorizing:
            return False
        photo = self._photo
        strength = self.panel.strength_spin.value() / 100.0
        name = photo.source.name if photo.source else "photo"

        job = Job(
            f"Colorizing {name} with {model.name}",
            partial(colorize_photo, self._colorizers, photo, model, strength),
        )
        job.finished.connect(self._on_colorized)
        job.failed.connect(self._on_colorize_failed)
        self._colorizing = True
        self._update_actions()
        self.status_message.emit(f"Colorizing {name} with {model.name}…")
        self._worker.submit(job)
        return True

    @Slot(object)
    def _on_colorized(self, outcome: ColorizeOutcome) -> None:
        self._colorizing = False
        if outcome.original is not self._photo:
            logger.info("Discarding a result for %s because another photo is open", outcome.original.source)
            self._update_actions()
            return

        self._outcome = outcome
        self.view.set_result(outcome.image)
        self._update_actions()
        name = outcome.original.source.name if outcome.original.source else "photo"
        self.status_message.emit(
            f"Colorized {name} with {outcome.model.name} on {outcome.device} in {outcome.seconds:.1f} s."
        )
        self.colorize_finished.emit(outcome)

    @Slot(str)
    def _on_colorize_failed(self, message: str) -> None:
        self._colorizing = False
        self._update_actions()
        self.error_occurred.emit("Colorizing Failed", message)
        self.colorize_failed.emit(message)

    # Exporting

    def choose_export_folder(self) -> Path | None:
        """Ask for the export folder with a folder dialog; return None if cancelled."""
        start = self._settings.get(setting_keys.LAST_EXPORT_FOLDER)
        if not start and self._photo is not None and self._photo.source is not None:
            start = str(self._photo.source.parent)
        folder = QFileDialog.getExistingDirectory(self, "Export Into Folder", start)
        return Path(folder) if folder else None

    @Slot()
    def export_with_dialog(self) -> None:
        if self._outcome is None:
            return
        folder = self.choose_export_folder()
        if folder is not None:
            self.export_to(folder)

    def export_to(self, folder: Path) -> bool:
        """Write the result into ``folder`` in the background with the panel's format.

        Return whether a job was started. ``export_finished`` or ``export_failed`` follows.
        """
        if self._outcome is None:
            return False
        fmt = self.panel.export_format()
        quality = self.panel.quality_spin.value()
        job = Job(
            f"Exporting into {folder}",
            partial(export_result, self._outcome.result, folder, fmt, quality),
        )
        job.finished.connect(self._on_exported)
        job.failed.connect(self._on_export_failed)
        self._settings.set(setting_keys.LAST_EXPORT_FOLDER, str(folder))
        self.status_message.emit(f"Exporting into {folder}…")
        self._worker.submit(job)
        return True

    @Slot(object)
    def _on_exported(self, path: Path) -> None:
        self.status_message.emit(f"Exported {path}")
        self.export_finished.emit(path)

    @Slot(str)
    def _on_export_failed(self, message: str) -> None:
        self.error_occurred.emit("Export Failed", message)
        self.export_failed.emit(message)

    # Settings and enabled state

    def _restore_settings(self) -> None:
        self.panel.strength_spin.setValue(self._settings.get(setting_keys.COLOR_STRENGTH_PERCENT))
        self.panel.set_export_format(self._settings.get(setting_keys.EXPORT_FORMAT))
        self.panel.quality_spin.setValue(self._settings.get(setting_keys.JPEG_QUALITY))

    @Slot(object)
    def _on_model_changed(self, entry: ModelEntry | None) -> None:
        if entry is not None:
            self._settings.set(setting_keys.MODEL_KEY, entry.key)
        self._update_actions()

    @Slot(int)
    def _on_strength_changed(self, percent: int) -> None:
        self._settings.set(setting_keys.COLOR_STRENGTH_PERCENT, percent)

    @Slot(int)
    def _on_export_format_changed(self, _index: int) -> None:
        self._settings.set(setting_keys.EXPORT_FORMAT, self.panel.export_format())

    @Slot(int)
    def _on_quality_changed(self, quality: int) -> None:
        self._settings.set(setting_keys.JPEG_QUALITY, quality)

    def _update_actions(self) -> None:
        has_model = self.panel.model_picker.current_entry() is not None
        self.colorize_action.setEnabled(self._photo is not None and has_model and not self._colorizing)
        self.export_action.setEnabled(self._outcome is not None)
