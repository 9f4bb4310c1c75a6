"""The main window: menus, tabs, status bar, file drops and the worker threads."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QTimer, QUrl, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeySequence,
)
from PySide6.QtWidgets import QMainWindow, QMessageBox, QProgressBar, QTabWidget, QWidget

import engine
from colorapp import APPLICATION_NAME, settings as setting_keys
from colorapp.colorize_tab import ColorizeTab
from colorapp.diagnostics import RecentErrors, diagnostics_text
from colorapp.settings import Settings
from colorapp.train_tab import TrainTab
from colorapp.workers import WorkerThread
from engine import paths
from engine.catalog import ModelCatalog

logger = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Top-level window with the Colorize and Train tabs.

    Files and folders dropped anywhere on the window are queued in the Colorize
    tab. ``open_paths`` does the same from code. Close the window before dropping
    the last reference to it: closing stops its worker threads, and Qt aborts the
    process when a running thread is deleted. While a model trains, closing first
    requests confirmation, and the window closes once the run's checkpoint is written.
    """

    def __init__(
        self,
        catalog: ModelCatalog | None = None,
        settings: Settings | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(APPLICATION_NAME)
        self.setAcceptDrops(True)
        self.settings = settings if settings is not None else Settings()
        if catalog is None:
            catalog = ModelCatalog(paths.user_model_dir())

        self.recent_errors = RecentErrors()
        logging.getLogger().addHandler(self.recent_errors)

        # The engine worker colorizes and exports. The loader reads photos and
        # thumbnails, so the queue fills while a long run is going on.
        self.worker = WorkerThread("colorapp-worker", self)
        self.loader = WorkerThread("colorapp-loader", self)

        self.colorize_tab = ColorizeTab(self.worker, self.loader, catalog, self.settings, self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.colorize_tab, "Colorize")
        self.train_tab = TrainTab(catalog, self.settings, self)
        self.tabs.addTab(self.train_tab, "Train")
        self.setCentralWidget(self.tabs)
        self._close_after_training = False

        self.busy_indicator = QProgressBar(self)
        self.busy_indicator.setRange(0, 0)  # A range of (0, 0) shows the indeterminate animation.
        self.busy_indicator.setMaximumWidth(160)
        self.busy_indicator.setTextVisible(False)
        self.busy_indicator.setAccessibleName("Working")
        self.busy_indicator.hide()
        self.statusBar().addPermanentWidget(self.busy_indicator)
        self.worker.busy_changed.connect(self._update_busy_indicator)
        self.loader.busy_changed.connect(self._update_busy_indicator)

        self._create_menus()
        self.colorize_tab.status_message.connect(self.show_status)
        self.colorize_tab.error_occurred.connect(self.report_error)
        self.colorize_tab.photo_opened.connect(self._on_photo_opened)
        self.colorize_tab.reload_models()
        self.colorize_tab.model_imported.connect(lambda _entry: self.train_tab.reload_models())
        self.train_tab.status_message.connect(self.show_status)
        self.train_tab.error_occurred.connect(self.report_error)
        self.train_tab.model_exported.connect(self._on_model_trained)
        self.train_tab.run_ended.connect(self._on_training_ended)
        # Asked once the event loop runs, so that the question appears over the shown window.
        QTimer.singleShot(0, self, self.train_tab.offer_resume)

        self.resize(1280, 800)
        geometry = self.settings.get(setting_keys.WINDOW_GEOMETRY)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)

    def _create_menus(self) -> None:
        tab = self.colorize_tab
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addActions([tab.open_action, tab.open_folder_action, tab.import_model_action])
        file_menu.addSeparator()
        file_menu.addActions([tab.export_action, tab.export_all_action])
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        edit_menu = self.menuBar().addMenu("&Edit")
        edit_menu.addActions([tab.paste_action, tab.remove_action, tab.clear_action])

        view_menu = self.menuBar().addMenu("&View")
        view_menu.addActions([tab.zoom_in_action, tab.zoom_out_action, tab.fit_action, tab.actual_size_action])
        view_menu.addSeparator()
        view_menu.addActions([tab.toggle_action, tab.split_action])
        view_menu.addSeparator()
        view_menu.addActions([tab.next_action, tab.previous_action])
        view_menu.addSeparator()
        view_menu.addAction(tab.compare_action)

        photo_menu = self.menuBar().addMenu("&Photo")
        photo_menu.addActions([tab.colorize_action, tab.colorize_all_action, tab.cancel_action])

        help_menu = self.menuBar().addMenu("&Help")
        self.log_folder_action = QAction("Show &Log Folder", self)
        self.log_folder_action.triggered.connect(self.open_log_folder)
        self.diagnostics_action = QAction("Copy &Diagnostics", self)
        self.diagnostics_action.setStatusTip("Copy versions, devices and recent errors, for a bug report")
        self.diagnostics_action.triggered.connect(self.copy_diagnostics)
        self.about_action = QAction(f"&About {APPLICATION_NAME}", self)
        self.about_action.triggered.connect(self.show_about)
        help_menu.addActions([self.log_folder_action, self.diagnostics_action])
        help_menu.addSeparator()
        help_menu.addAction(self.about_action)

    # Public API

    def open_paths(self, paths: Iterable[str | Path]) -> None:
        """Show the Colorize tab and queue the supported images among ``paths``, folders searched."""
        self.tabs.setCurrentWidget(self.colorize_tab)
        self.colorize_tab.open_paths(paths)

    @Slot(str)
    def show_status(self, message: str) -> None:
        self.statusBar().showMessage(message)

    @Slot(str, str)
    def report_error(self, title: str, message: str) -> QMessageBox:
        """Show an error in the status bar and a window-modal message box; return the box.

        The box is opened without blocking, so background work and tests carry on.
        The code that caught the error has already logged it.
        """
        self.statusBar().showMessage(message)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("error_message_box")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    @Slot()
    def open_log_folder(self) -> None:
        folder = paths.log_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            logger.warning("Creating the log folder %s failed: %s", folder, error)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.show_status(f"The log folder is {folder}")

    def diagnostics(self) -> str:
        """Return the text that Help > Copy Diagnostics copies."""
        tab = self.colorize_tab
        return diagnostics_text(tab.devices(), tab.panel.device(), tab.last_device, self.recent_errors.lines())

    @Slot()
    def copy_diagnostics(self) -> None:
        QGuiApplication.clipboard().setText(self.diagnostics())
        self.show_status("Copied the diagnostics to the clipboard; paste them into your bug report.")

    @Slot()
    def show_about(self) -> QMessageBox:
        """Open the About box without blocking, and return it."""
        box = QMessageBox(self)
        box.setObjectName("about_box")
        box.setWindowTitle(f"About {APPLICATION_NAME}")
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(
            f"<h3>{APPLICATION_NAME} {engine.__version__}</h3>"
            "<p>Brings color back to black-and-white photos with GAN models. "
            "Originals are never changed: results are saved as new files.</p>"
            f"<p>Logs: {paths.log_dir()}</p>"
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        return box

    # Drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if _local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        mime = event.mimeData()
        local = _local_paths(mime)
        remote = [url.toString() for url in mime.urls() if not url.isLocalFile()]
        if remote:
            logger.info("Ignoring dropped URLs that are not local files: %s", remote)
        if not local:
            self.show_status(f"Not opened: only local files can be opened, not {', '.join(remote)}.")
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_paths(local)

    # Window state

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.train_tab.is_training():
            # Training cannot outlive the process: it stops with a checkpoint, and the
            # window closes when the run has ended (see _on_training_ended).
            if not self.train_tab.is_closing():
                if self.train_tab.needs_close_confirmation() and not self.train_tab.confirm_stop_for_close():
                    event.ignore()
                    return
                self._close_after_training = True
                self.train_tab.stop_for_close()
            event.ignore()
            return
        self.settings.set(setting_keys.WINDOW_GEOMETRY, self.saveGeometry())
        self.colorize_tab.save_state()
        self.train_tab.save_state()
        # Cancelled jobs stop at the engine's next check, so shutdown waits briefly.
        for worker in (self.worker, self.loader):
            worker.cancel_all()
        for worker in (self.worker, self.loader):
            worker.shutdown()
        self.colorize_tab.shutdown()
        self.train_tab.shutdown()
        logging.getLogger().removeHandler(self.recent_errors)
        super().closeEvent(event)

    @Slot(object)
    def _on_model_trained(self, _path) -> None:
        self.colorize_tab.reload_models()

    @Slot(object)
    def _on_training_ended(self, _result) -> None:
        if self._close_after_training:
            self._close_after_training = False
            self.close()

    @Slot(bool)
    def _update_busy_indicator(self, _busy: bool) -> None:
        self.busy_indicator.setVisible(self.worker.is_busy() or self.loader.is_busy())

    @Slot(object)
    def _on_photo_opened(self, _photo) -> None:
        item = self.colorize_tab.current_item()
        name = item.name if item is not None else "photo"
        self.setWindowTitle(f"{name} – {APPLICATION_NAME}")


def _local_paths(mime: QMimeData) -> list[Path]:
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
