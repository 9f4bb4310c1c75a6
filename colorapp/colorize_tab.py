"""The Colorize tab: a queue of photos, a before/after view, render settings, runs and export.

The tab mirrors Qt-free state (``PhotoQueue``, ``Viewport``, ``BatchProgress``)
in its widgets and sends all file and engine work to two workers: the loader
reads photos, folders and thumbnails, and the engine worker colorizes and
exports. It reports through signals and leaves the status bar and message boxes
to the main window.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal, Slot
from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from colorapp import image_files, settings as setting_keys
from colorapp.batch import BatchProgress, RunKind
from colorapp.compare_runner import CompareRunner
from colorapp.export_flow import ExportFlow
from colorapp.intake import PhotoIntake, failure_reason
from colorapp.photo_queue import ItemStatus, PhotoQueue, QueueItem
from colorapp.result_store import ResultStore
from colorapp.runs import RunController, result_signature
from colorapp.settings import Settings
from colorapp.tasks import (
    ColorizeOutcome,
    ColorizeRequest,
    ColorizerCache,
    ExportOptions,
    ExportOutcome,
    LoadedPhoto,
    import_model_file,
    load_for_view,
)
from colorapp.widgets.colorize_panel import ColorizePanel
from colorapp.widgets.compare_grid import CompareGridDialog, choose_compare_models
from colorapp.widgets.compare_view import CompareMode, CompareView
from colorapp.widgets.export_dialog import ExportDialog
from colorapp.widgets.panel_scroll import scrolling_panel
from colorapp.widgets.queue_view import QueueModel, QueuePanel
from colorapp.workers import Job, WorkerThread
from engine.catalog import ModelCatalog, ModelEntry
from engine.devices import available_devices
from engine.errors import ColorAppError
from engine.inference import RenderSettings

logger = logging.getLogger(__name__)

_PANEL_WIDTH = 300
_QUEUE_WIDTH = 260
_MODEL_FILE_FILTER = "ColorApp models (*.safetensors);;All files (*)"


def _bind_button(button: QPushButton, action: QAction) -> None:
    """Make a push button trigger an action and follow its enabled state."""
    button.clicked.connect(action.trigger)
    button.setEnabled(action.isEnabled())
    shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    button.setToolTip(f"{action.toolTip()} ({shortcut})" if shortcut else action.toolTip())
    action.enabledChanged.connect(button.setEnabled)


def _action(parent: QWidget, text: str, tip: str, slot, *shortcuts: str | QKeySequence) -> QAction:
    action = QAction(text, parent)
    action.setToolTip(tip)
    action.setStatusTip(tip)
    if shortcuts:
        action.setShortcuts([QKeySequence(key) for key in shortcuts])
    action.triggered.connect(slot)
    return action


class ColorizeTab(QWidget):
    """Queue on the left, compare view in the middle, controls on the right, actions for the menus.

    ``choose_open_paths``, ``choose_open_folder`` and ``choose_model_file`` are the
    only places that open file dialogs, so tests can replace them. Call
    ``shutdown`` after the workers have stopped, to delete the session folder.
    """

    photos_added = Signal(list)
    """The QueueItems that an open, drop or paste added, possibly none."""
    photo_opened = Signal(object)
    """The Photo now shown in the view."""
    open_failed = Signal(str)
    """The engine's message for a queued photo that cannot be read."""
    colorize_finished = Signal(object)
    """A ColorizeOutcome, sent after the queue and the view show the result."""
    colorize_failed = Signal(str)
    run_finished = Signal(object)
    """The final BatchProgress of a colorize or export run."""
    export_finished = Signal(object)
    """The Path of a written file."""
    export_failed = Signal(str)
    compare_finished = Signal()
    """Every pane of the compare grid has its result or error."""
    model_imported = Signal(object)
    """The imported ModelEntry, now listed and selected."""
    import_failed = Signal(str)
    status_message = Signal(str)
    error_occurred = Signal(str, str)
    """Title and message of an error the window should show in a message box."""

    def __init__(
        self,
        worker: WorkerThread,
        loader: WorkerThread,
        catalog: ModelCatalog,
        settings: Settings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._worker = worker
        self._loader = loader
        self._catalog = catalog
        self._settings = settings
        self._session_folder = Path(tempfile.mkdtemp(prefix="colorapp-session-"))

        self.queue = PhotoQueue()
        self.store = ResultStore(self._session_folder / "results")
        # Used only by jobs, which all run in the one engine worker thread.
        self._colorizers = ColorizerCache()
        self.intake = PhotoIntake(self.queue, loader, self._session_folder / "pasted", self)
        self.runs = RunController(self.queue, worker, self._colorizers, self.store, self)
        self.compare = CompareRunner(worker, self._colorizers, self)
        self.exports = ExportFlow(settings, self.runs, self)

        self._shown_id: int | None = None
        # Whether the view shows the current item's photo; its pixels stay in the view only.
        self._view_loaded = False
        self._view_job: Job | None = None
        self._devices: list[tuple[str, str]] = []
        self.last_device: str | None = None
        """Device of the most recent colorize, as the engine reported it."""

        self._create_widgets()
        self._create_actions()
        # Restored before the controls are connected, because each change saves all of them.
        self._restore_settings()
        self._connect()
        self._update_actions()
        # The model list is filled by reload_models(), which the owner calls once it
        # has connected status_message and error_occurred, so that problems are shown.

    def _create_widgets(self) -> None:
        self.queue_model = QueueModel(self.queue, self)
        self.queue_panel = QueuePanel(self.queue_model, self)
        self.view = CompareView(self)
        self.panel = ColorizePanel(self)
        panel_scroll = scrolling_panel(self.panel, self, _PANEL_WIDTH)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("colorize_splitter")
        self.splitter.addWidget(self.queue_panel)
        self.splitter.addWidget(self.view)
        self.splitter.addWidget(panel_scroll)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([_QUEUE_WIDTH, 700, _PANEL_WIDTH])
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter)

    def _create_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.open_action = _action(self, "&Open Photos…", "Add photos to the queue", self.open_with_dialog, key.Open)
        self.open_folder_action = _action(
            self, "Open &Folder…", "Add every photo in a folder and its subfolders", self.open_folder_with_dialog,
            "Ctrl+Shift+O",
        )
        self.paste_action = _action(
            self, "&Paste", "Add a copied image or copied file paths to the queue", self.paste, key.Paste
        )
        self.import_model_action = _action(
            self, "&Import Model…", "Check a model file and add it to your models", self.import_model_with_dialog
        )
        self.remove_action = _action(
            self, "&Remove from Queue", "Remove the selected photos from the queue", self.remove_selected, key.Delete
        )
        # Delete acts only while the queue has focus, so it never removes photos by surprise.
        self.remove_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.queue_panel.addAction(self.remove_action)
        self.clear_action = _action(self, "C&lear Queue", "Remove every photo from the queue", self.clear_queue)

        self.colorize_action = _action(
            self, "&Colorize", "Colorize the selected photo with the chosen model", self.colorize, "Ctrl+R"
        )
        self.colorize_all_action = _action(
            self, "Colorize &All", "Colorize every photo that has no result with these settings", self.colorize_all,
            "Ctrl+Shift+R",
        )
        self.cancel_action = _action(self, "Ca&ncel", "Stop colorizing or exporting", self.cancel_run)
        self.compare_action = _action(
            self, "Co&mpare Models…", "Colorize the selected photo with several models side by side",
            self.compare_models, "Ctrl+M",
        )
        self.export_action = _action(
            self, "&Export…", "Save the selected photo's result as a new file", self.export_with_dialog, "Ctrl+E"
        )
        self.export_all_action = _action(
            self, "Export A&ll…", "Colorize what is not done yet and save every result", self.export_all_with_dialog,
            "Ctrl+Shift+E",
        )

        self.zoom_in_action = _action(self, "Zoom &In", "Enlarge the photo", self.view.zoom_in, "Ctrl+=", "Ctrl++")
        self.zoom_out_action = _action(self, "Zoom &Out", "Shrink the photo", self.view.zoom_out, "Ctrl+-")
        self.fit_action = _action(self, "&Fit", "Show the whole photo", self.view.fit_to_view, "Ctrl+0")
        self.actual_size_action = _action(
            self, "&100 %", "Show one photo pixel per screen pixel", self.view.actual_size, "Ctrl+1"
        )
        self.toggle_action = _action(
            self, "Show &Original or Result", "Show the whole original, then the whole result (B or Space)",
            self.view.toggle_before_after, "B",
        )
        self.split_action = _action(
            self, "&Split View", "Show the original and the result either side of the divider",
            partial(self.view.set_mode, CompareMode.SPLIT), "S",
        )
        self.next_action = _action(
            self, "&Next Photo", "Show the next photo in the queue", partial(self.queue_panel.move_current, 1),
            "PgDown", "Alt+Right",
        )
        self.previous_action = _action(
            self, "&Previous Photo", "Show the previous photo in the queue", partial(self.queue_panel.move_current, -1),
            "PgUp", "Alt+Left",
        )
        # Space toggles only while the view or the queue has focus, because buttons
        # and check boxes need Space for keyboard users.
        for widget in (self.view, self.queue_panel.list_view):
            shortcut = QShortcut(QKeySequence(Qt.Key.Key_Space), widget)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.view.toggle_before_after)

        _bind_button(self.panel.colorize_button, self.colorize_action)
        _bind_button(self.panel.colorize_all_button, self.colorize_all_action)
        _bind_button(self.panel.compare_button, self.compare_action)
        _bind_button(self.panel.export_button, self.export_action)
        _bind_button(self.panel.export_all_button, self.export_all_action)
        self.panel.cancel_button.clicked.connect(self.cancel_run)
        self.queue_panel.add_button.clicked.connect(self.open_action.trigger)
        self.queue_panel.remove_button.clicked.connect(self.remove_selected)
        self.queue_panel.clear_button.clicked.connect(self.clear_queue)

    def _connect(self) -> None:
        self.intake.photos_added.connect(self._on_photos_added)
        self.intake.preview_ready.connect(self._on_preview_ready)
        self.intake.read_failed.connect(self._on_read_failed)
        self.runs.item_colorized.connect(self._on_item_colorized)
        self.runs.item_exported.connect(self._on_item_exported)
        self.runs.item_failed.connect(self._on_item_failed)
        self.runs.progress_changed.connect(self._on_run_progress)
        self.runs.run_finished.connect(self._on_run_finished)
        self.runs.note.connect(self.status_message)
        self.compare.finished.connect(self.compare_finished)
        self.compare.note.connect(self.status_message)
        self.queue_panel.current_item_changed.connect(self._show_item)
        for event in (self.queue.inserted, self.queue.removed, self.queue.changed, self.queue.cleared):
            event.subscribe(lambda *_args: self._update_actions())
        self.view.mode_changed.connect(lambda _mode: self._update_actions())

        self.panel.model_picker.model_changed.connect(self._on_model_changed)
        self.panel.device_combo.currentIndexChanged.connect(self._on_device_changed)
        self.panel.strength_spin.valueChanged.connect(self._save_render_settings)
        self.panel.render_size_combo.currentIndexChanged.connect(self._save_render_settings)
        self.panel.keep_tone_check.toggled.connect(self._save_render_settings)
        self.panel.tiled_check.toggled.connect(self._save_render_settings)
        self.panel.working_size_combo.currentIndexChanged.connect(self._save_render_settings)
        self.panel.tile_overlap_spin.valueChanged.connect(self._save_render_settings)

    # State

    def current_item(self) -> QueueItem | None:
        """Return the selected queue item, which the view shows, or None when nothing is selected."""
        return self.queue.get(self._shown_id) if self._shown_id is not None else None

    def render_settings(self) -> RenderSettings:
        """Return the render settings the panel shows."""
        return RenderSettings(
            render_size=self.panel.render_size(),
            strength=self.panel.strength_spin.value() / 100.0,
            keep_tone=self.panel.keep_tone_check.isChecked(),
            tiled=self.panel.tiled_check.isChecked(),
            working_size=self.panel.working_size(),
            tile_overlap=self.panel.tile_overlap_spin.value(),
        )

    def devices(self) -> list[tuple[str, str]]:
        """Return the (device id, label) pairs offered in the device list."""
        return list(self._devices)

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
                f"{self._catalog.user_model_dir}. Reinstall ColorApp or import a model (File > Import Model)."
            )
            logger.warning("%s", message)
            self.error_occurred.emit("No Models", message)
        elif problems:
            self.status_message.emit(f"Skipped {len(problems)} invalid model file(s): {'; '.join(problems)}")

    # Opening and the queue

    def choose_open_paths(self) -> list[Path]:
        """Ask for photos with a file dialog, and return an empty list if it is cancelled."""
        start = self._settings.get(setting_keys.LAST_OPEN_FOLDER)
        filenames, _ = QFileDialog.getOpenFileNames(self, "Open Photos", start, image_files.open_dialog_filter())
        return [Path(name) for name in filenames]

    def choose_open_folder(self) -> Path | None:
        """Ask for a folder with a folder dialog, and return None if it is cancelled."""
        start = self._settings.get(setting_keys.LAST_OPEN_FOLDER)
        folder = QFileDialog.getExistingDirectory(self, "Open Folder", start)
        return Path(folder) if folder else None

    @Slot()
    def open_with_dialog(self) -> None:
        paths = self.choose_open_paths()
        if paths:
            self._settings.set(setting_keys.LAST_OPEN_FOLDER, str(paths[0].parent))
            self.open_paths(paths)

    @Slot()
    def open_folder_with_dialog(self) -> None:
        folder = self.choose_open_folder()
        if folder is not None:
            self._settings.set(setting_keys.LAST_OPEN_FOLDER, str(folder))
            self.open_paths([folder])

    def open_paths(self, paths: Iterable[str | Path]) -> None:
        """Queue image files and folders (searched recursively) in the background.

        ``photos_added`` follows, and then the first new photo is selected and shown.
        Rejected paths are reported in the status bar.
        """
        paths = list(paths)
        if paths:
            self.status_message.emit(f"Opening {Path(paths[0]).name or paths[0]}…")
        self.intake.add_paths(paths)

    @Slot()
    def paste(self) -> None:
        """Queue what the clipboard holds: local files, a bitmap, or lines of file paths."""
        mime = QGuiApplication.clipboard().mimeData()
        if mime is not None and mime.hasUrls():
            local = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
            if local:
                self.open_paths(local)
                return
        if mime is not None and mime.hasImage():
            image = QImage(mime.imageData())
            if not image.isNull():
                self.status_message.emit("Adding the pasted image…")
                self.intake.add_image(image)
                return
        if mime is not None and mime.hasText():
            paths = image_files.paths_in_text(mime.text())
            if paths:
                self.open_paths(paths)
                return
        self.status_message.emit("Nothing to paste: the clipboard holds no image and no paths of existing files.")

    @Slot()
    def remove_selected(self) -> None:
        """Remove the selected photos from the queue. Their original files stay untouched."""
        item_ids = self.queue_panel.selected_item_ids()
        if not item_ids:
            return
        # As in file managers, the photo after the removed ones becomes current.
        rows = [self.queue.row_of(item_id) for item_id in item_ids]
        remaining = [item for item in self.queue.items() if item.item_id not in item_ids]
        after = [item for item in self.queue.items()[max(rows) + 1:] if item.item_id not in item_ids]
        next_item = None
        if after:
            next_item = after[0]
        elif remaining:
            next_item = remaining[-1]

        self.runs.cancel_items(item_ids)
        self.intake.cancel_previews(item_ids)
        removed = self.queue.remove(item_ids)
        for item in removed:
            self.store.discard(item.item_id)
        if next_item is not None:
            self.queue_panel.select_item(next_item.item_id)
        else:
            self._show_item(None)
        self.status_message.emit(f"Removed {len(removed)} photo{'s' if len(removed) != 1 else ''} from the queue.")

    @Slot()
    def clear_queue(self) -> None:
        """Remove every photo and stop the running work on them."""
        self.runs.cancel()
        items = self.queue.items()
        self.intake.cancel_previews(item.item_id for item in items)
        self.runs.cancel_items([item.item_id for item in items])
        self.queue.clear()
        self.store.clear()
        self._show_item(None)
        self.status_message.emit("The queue is empty.")

    @Slot(list, str)
    def _on_photos_added(self, added: list[QueueItem], message: str) -> None:
        self.status_message.emit(message)
        if added and (self._shown_id is None or self.queue_panel.current_item_id() is None):
            self.queue_panel.select_item(added[0].item_id)
        elif added and len(added) == 1:
            self.queue_panel.select_item(added[0].item_id)
        self.photos_added.emit(added)

    @Slot(int, QImage)
    def _on_preview_ready(self, item_id: int, thumbnail: QImage) -> None:
        item = self.queue.get(item_id)
        # A colorized thumbnail replaces the gray one, so a late gray one must not replace it.
        if item is not None and not item.has_result:
            self.queue_model.set_thumbnail(item_id, thumbnail)
        if item_id == self._shown_id and item is not None:
            self._show_photo_facts(item)

    @Slot(int, str)
    def _on_read_failed(self, item_id: int, message: str) -> None:
        item = self.queue.get(item_id)
        name = item.name if item is not None else "A photo"
        reason = failure_reason(message, item.path) if item is not None else message
        self.status_message.emit(f"Cannot read {name}: {reason}")
        self.open_failed.emit(message)

    # The view

    @Slot(object)
    def _show_item(self, item_id: int | None) -> None:
        if item_id == self._shown_id and (item_id is None or self._view_loaded or self._view_job is not None):
            return
        if self._view_job is not None:
            self._view_job.cancel()
            self._view_job = None
        self._shown_id = item_id
        self._view_loaded = False
        item = self.current_item()
        if item is None:
            self._shown_id = None
            self.view.clear()
            self.panel.photo_label.setText(self.panel.NO_PHOTO_TEXT)
            self.panel.photo_label.setToolTip("")
            self._update_actions()
            return
        self._show_photo_facts(item)
        self._load_view(item)
        self._update_actions()

    def _load_view(self, item: QueueItem) -> None:
        job = Job(f"Reading {item.path} for the view", partial(load_for_view, item.item_id, item.path, self.store))
        job.finished.connect(self._on_loaded_for_view)
        job.failed.connect(partial(self._on_view_load_failed, item.item_id))
        self._view_job = job
        # Urgent, so that the selected photo appears before the waiting thumbnails are made.
        self._loader.submit(job, urgent=True)

    def _show_photo_facts(self, item: QueueItem) -> None:
        self.panel.photo_label.setText(f"{item.name}\n{item.size_text()}")
        self.panel.photo_label.setToolTip(str(item.path))

    @Slot(object)
    def _on_loaded_for_view(self, loaded: LoadedPhoto) -> None:
        if loaded.item_id != self._shown_id:
            return
        self._view_job = None
        self._view_loaded = True
        self.view.set_original(loaded.image)
        if loaded.result_image is not None:
            self.view.set_result(loaded.result_image)
        item = self.queue.get(loaded.item_id)
        if item is not None and item.size is None:
            item = self.queue.update(loaded.item_id, size=loaded.photo.size)
        if item is not None:
            self._show_photo_facts(item)
        self._update_actions()
        self.photo_opened.emit(loaded.photo)

    def _on_view_load_failed(self, item_id: int, message: str) -> None:
        if item_id != self._shown_id:
            return
        self._view_job = None
        self._view_loaded = False
        self.view.clear()
        item = self.queue.get(item_id)
        if item is not None:
            self.queue.update(item_id, status=ItemStatus.FAILED, reason=failure_reason(message, item.path))
            self.status_message.emit(f"Cannot read {item.name}: {failure_reason(message, item.path)}")
        self._update_actions()
        self.open_failed.emit(message)

    # Colorizing

    @Slot()
    def colorize(self) -> bool:
        """Colorize the selected photo with the chosen model in the background.

        Return whether a job was started. ``colorize_finished`` or ``colorize_failed``
        follows, then ``run_finished``.
        """
        item = self.current_item()
        if item is None or self.panel.model_picker.current_entry() is None:
            return False
        started = self.runs.start_colorize([item], self._colorize_request)
        if started:
            self.status_message.emit(f"Colorizing {item.name} with {self.panel.model_picker.current_entry().name}…")
        self._update_actions()
        return started

    @Slot()
    def colorize_all(self) -> bool:
        """Colorize every readable photo whose result is missing or made with other settings."""
        if self.panel.model_picker.current_entry() is None:
            return False
        items = [item for item in self.queue.items() if self._needs_colorize(item)]
        if not items:
            self.status_message.emit("Every photo in the queue is already colorized with these settings.")
            return False
        started = self.runs.start_colorize(items, self._colorize_request)
        self._update_actions()
        return started

    @Slot()
    def cancel_run(self) -> None:
        self.runs.cancel()

    def _needs_colorize(self, item: QueueItem) -> bool:
        unreadable = item.status is ItemStatus.FAILED and item.size is None
        if unreadable:
            return False
        model = self.panel.model_picker.current_entry()
        return item.result_signature != result_signature(model.key, self.render_settings())

    def _colorize_request(self, item: QueueItem, model: ModelEntry | None = None) -> ColorizeRequest:
        return ColorizeRequest(
            item_id=item.item_id,
            path=item.path,
            model=model or self.panel.model_picker.current_entry(),
            settings=self.render_settings(),
            device=self.panel.device(),
            want_image=item.item_id == self._shown_id,
        )

    @Slot(object)
    def _on_item_colorized(self, outcome: ColorizeOutcome) -> None:
        self.queue_model.set_thumbnail(outcome.item_id, outcome.thumbnail)
        self.last_device = outcome.device
        if outcome.item_id == self._shown_id:
            if outcome.image is not None and self.view.original() is not None:
                self.view.set_result(outcome.image)
            else:
                self._load_view(self.current_item())
        item = self.queue.get(outcome.item_id)
        name = item.name if item is not None else outcome.result.source.name
        self.status_message.emit(
            f"Colorized {name} with {outcome.model.name} on {outcome.device} in {outcome.seconds:.1f} s."
        )
        self._update_actions()
        self.colorize_finished.emit(outcome)

    @Slot(object)
    def _on_item_exported(self, outcome: ExportOutcome) -> None:
        self.status_message.emit(f"Exported {outcome.path}")
        self.export_finished.emit(outcome.path)

    @Slot(int, str)
    def _on_item_failed(self, item_id: int, message: str) -> None:
        progress = self.runs.progress
        item = self.queue.get(item_id)
        name = item.name if item is not None else "a photo"
        exporting = progress is not None and progress.kind is RunKind.EXPORT
        self.status_message.emit(f"{'Exporting' if exporting else 'Colorizing'} {name} failed: {message}")
        if exporting:
            self.export_failed.emit(message)
        else:
            if progress is not None and progress.total == 1:
                self.error_occurred.emit("Colorizing Failed", message)
            self.colorize_failed.emit(message)

    @Slot(object)
    def _on_run_progress(self, progress: BatchProgress) -> None:
        current = self.queue.get(progress.current_id) if progress.current_id is not None else None
        text = progress.describe(current.name if current is not None else None)
        if progress.kind is RunKind.EXPORT and self.exports.progress_dialog is not None:
            self.exports.update_progress(text, progress.fraction())
        else:
            self.panel.show_run_progress(text, progress.fraction())

    @Slot(object)
    def _on_run_finished(self, progress: BatchProgress) -> None:
        self.panel.show_run_progress(None)
        self.exports.close_progress()
        if progress.total > 1 or progress.failed or progress.cancelled:
            self.status_message.emit(progress.summary())
        if progress.kind is RunKind.EXPORT and progress.failed:
            first = next(iter(progress.failed.values()))
            count = len(progress.failed)
            detail = f"{count} of {progress.total} photos could not be exported. The first error: {first}"
            self.error_occurred.emit("Export Failed", first if progress.total == 1 else detail)
        self._update_actions()
        self.run_finished.emit(progress)

    # Exporting

    @property
    def export_dialog(self) -> ExportDialog | None:
        """The open export dialog, or None."""
        return self.exports.dialog

    @property
    def export_progress(self) -> QProgressDialog | None:
        """The progress dialog of the running batch export, or None."""
        return self.exports.progress_dialog

    @Slot()
    def export_with_dialog(self) -> ExportDialog | None:
        """Open the export dialog for the selected photo's result. The export starts when it is accepted."""
        item = self.current_item()
        if item is None or not item.has_result or self.runs.is_running():
            return None
        return self._open_export_dialog([item])

    @Slot()
    def export_all_with_dialog(self) -> ExportDialog | None:
        """Open the export dialog for every readable photo in the queue."""
        items = [item for item in self.queue.items() if not (item.status is ItemStatus.FAILED and item.size is None)]
        if not items or self.runs.is_running():
            return None
        return self._open_export_dialog(items)

    def export_items(self, item_ids: list[int], options: ExportOptions) -> bool:
        """Export queue photos with ``options``, colorizing those without a result first.

        Return whether a run started. A run of several photos shows a progress
        dialog with Cancel. ``export_finished`` follows per file, then ``run_finished``.
        """
        items = [item for item in (self.queue.get(item_id) for item_id in item_ids) if item is not None]
        if not items or self.runs.is_running() or self.panel.model_picker.current_entry() is None:
            return False
        started = self.runs.start_export(items, self._export_request, options)
        if not started:
            return False
        if len(items) > 1:
            self.exports.show_progress()
        else:
            self.status_message.emit(f"Exporting {items[0].name} into {options.folder}…")
        self._update_actions()
        return True

    def _export_request(self, item: QueueItem) -> ColorizeRequest:
        # The result's own model fills {model} in the file name, and the chosen
        # model colorizes the photos that have no result yet.
        model = None
        if item.result_signature is not None:
            key = item.result_signature[0]
            model = next((entry for entry in self.panel.model_picker.entries() if entry.key == key), None)
        return self._colorize_request(item, model)

    def _open_export_dialog(self, items: list[QueueItem]) -> ExportDialog:
        current = self.current_item() or items[0]
        model = self.panel.model_picker.current_entry()
        return self.exports.open_dialog(
            [item.item_id for item in items],
            current.path.name,
            model.key if model else "model",
            current.path.parent,
            self.export_items,
        )

    # Compare grid

    @property
    def compare_dialog(self) -> CompareGridDialog | None:
        """The open compare grid, or None."""
        return self.compare.dialog

    @Slot()
    def compare_models(self) -> CompareGridDialog | None:
        """Open the compare grid for the selected photo and colorize it with each model.

        Return the dialog, or None without a shown photo or models. ``compare_finished``
        follows once every pane has its result or error.
        """
        item = self.current_item()
        original = self.view.original()
        models = choose_compare_models(self.panel.model_picker.entries(), self.panel.model_picker.current_entry())
        if item is None or original is None or not models:
            return None
        dialog = self.compare.open(
            item, original, models, self.render_settings(), self.panel.device(), self.window()
        )
        self.status_message.emit(f"Comparing {len(models)} models on {item.name}…")
        return dialog

    # Models

    def choose_model_file(self) -> Path | None:
        """Ask for a model file with a file dialog, and return None if it is cancelled."""
        start = self._settings.get(setting_keys.LAST_MODEL_FOLDER)
        filename, _ = QFileDialog.getOpenFileName(self, "Import Model", start, _MODEL_FILE_FILTER)
        return Path(filename) if filename else None

    @Slot()
    def import_model_with_dialog(self) -> None:
        path = self.choose_model_file()
        if path is not None:
            self._settings.set(setting_keys.LAST_MODEL_FOLDER, str(path.parent))
            self.import_model(path)

    def import_model(self, path: Path) -> None:
        """Validate a model file and copy it into the user model folder in the background.

        ``model_imported`` follows with the new entry, now selected, or ``import_failed``.
        """
        job = Job(f"Importing the model {path}", partial(import_model_file, path, self._catalog.user_model_dir))
        job.finished.connect(self._on_model_imported)
        job.failed.connect(self._on_import_failed)
        self.status_message.emit(f"Checking the model file {path.name}…")
        self._worker.submit(job, urgent=True)

    @Slot(object)
    def _on_model_imported(self, entry: ModelEntry) -> None:
        self.reload_models()
        self.panel.model_picker.select_key(entry.key)
        self.status_message.emit(f"Imported the model {entry.name} into {entry.path.parent}; it is now selected.")
        self.model_imported.emit(entry)

    @Slot(str)
    def _on_import_failed(self, message: str) -> None:
        self.error_occurred.emit("Model Import Failed", message)
        self.import_failed.emit(message)

    # Settings and enabled state

    def save_state(self) -> None:
        """Store the layout of the queue, view and panel."""
        self._settings.set(setting_keys.SPLITTER_STATE, self.splitter.saveState())

    def shutdown(self) -> None:
        """Close the dialogs and delete the session folder. Call it after the workers stopped."""
        self.compare.close()
        self.exports.close()
        self.store.clear()
        shutil.rmtree(self._session_folder, ignore_errors=True)

    def _restore_settings(self) -> None:
        panel = self.panel
        panel.strength_spin.setValue(self._settings.get(setting_keys.COLOR_STRENGTH_PERCENT))
        panel.set_render_size(self._settings.get(setting_keys.RENDER_SIZE))
        panel.keep_tone_check.setChecked(self._settings.get(setting_keys.KEEP_TONE))
        panel.tiled_check.setChecked(self._settings.get(setting_keys.TILED))
        panel.set_working_size(self._settings.get(setting_keys.WORKING_SIZE))
        panel.tile_overlap_spin.setValue(self._settings.get(setting_keys.TILE_OVERLAP))

        try:
            self._devices = available_devices()
        except Exception as error:  # noqa: BLE001 - a broken GPU driver must not stop the window.
            logger.exception("Listing devices failed; offering automatic and CPU only")
            self._devices = [("auto", "Automatic"), ("cpu", "CPU")]
            self.status_message.emit(f"Listing the GPUs failed ({error}); see the log file.")
        saved_device = self._settings.get(setting_keys.DEVICE)
        if saved_device not in dict(self._devices):
            logger.info("The saved device %r is not available; using automatic", saved_device)
        panel.set_devices(self._devices, saved_device)

        state = self._settings.get(setting_keys.SPLITTER_STATE)
        if not state.isEmpty():
            self.splitter.restoreState(QByteArray(state))

    @Slot(object)
    def _on_model_changed(self, entry: ModelEntry | None) -> None:
        if entry is not None:
            self._settings.set(setting_keys.MODEL_KEY, entry.key)
        self._update_actions()

    @Slot(int)
    def _on_device_changed(self, _index: int) -> None:
        self._settings.set(setting_keys.DEVICE, self.panel.device())

    def _save_render_settings(self, *_args) -> None:
        panel = self.panel
        self._settings.set(setting_keys.COLOR_STRENGTH_PERCENT, panel.strength_spin.value())
        self._settings.set(setting_keys.RENDER_SIZE, panel.render_size())
        self._settings.set(setting_keys.KEEP_TONE, panel.keep_tone_check.isChecked())
        self._settings.set(setting_keys.TILED, panel.tiled_check.isChecked())
        self._settings.set(setting_keys.WORKING_SIZE, panel.working_size())
        self._settings.set(setting_keys.TILE_OVERLAP, panel.tile_overlap_spin.value())
        self._update_actions()

    def _update_actions(self) -> None:
        item = self.current_item()
        has_model = self.panel.model_picker.current_entry() is not None
        running = self.runs.is_running()
        has_queue = len(self.queue) > 0
        has_photo = self.view.original() is not None
        readable = item is not None and not (item.status is ItemStatus.FAILED and item.size is None)

        self.colorize_action.setEnabled(readable and has_model and not running)
        self.colorize_all_action.setEnabled(has_queue and has_model and not running)
        self.cancel_action.setEnabled(running)
        self.compare_action.setEnabled(has_photo and has_model)
        self.export_action.setEnabled(item is not None and item.has_result and not running)
        self.export_all_action.setEnabled(has_queue and has_model and not running)
        self.remove_action.setEnabled(has_queue)
        self.clear_action.setEnabled(has_queue)
        self.next_action.setEnabled(has_queue)
        self.previous_action.setEnabled(has_queue)
        for action in (self.zoom_in_action, self.zoom_out_action, self.fit_action, self.actual_size_action):
            action.setEnabled(has_photo)
        self.toggle_action.setEnabled(self.view.has_result())
        self.split_action.setEnabled(self.view.has_result())

