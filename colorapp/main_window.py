"""The main window: menus, tabs, status bar, file drops and the worker thread."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QMimeData, Qt, QUrl, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import QMainWindow, QMessageBox, QProgressBar, QTabWidget, QWidget

from colorapp import APPLICATION_NAME, settings as setting_keys
from colorapp.colorize_tab import ColorizeTab
from colorapp.settings import Settings
from colorapp.workers import WorkerThread
from engine import paths
from engine.catalog import ModelCatalog

logger = logging.getLogger(__name__)


class MainWindow(QMainWindow):
    """Top-level window with the Colorize tab.

    Files dropped anywhere on the window are opened in the Colorize tab.
    ``open_paths`` does the same from code. Close the window before dropping the
    last reference to it: closing stops its worker thread, and Qt aborts the
    process when a running thread is deleted.
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

        self.worker = WorkerThread("colorapp-worker", self)

        self.colorize_tab = ColorizeTab(self.worker, catalog, self.settings, self)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.colorize_tab, "Colorize")
        self.setCentralWidget(self.tabs)

        self.busy_indicator = QProgressBar(self)
        self.busy_indicator.setRange(0, 0)  # A range of (0, 0) shows the indeterminate animation.
        self.busy_indicator.setMaximumWidth(160)
        self.busy_indicator.setTextVisible(False)
        self.busy_indicator.setAccessibleName("Working")
        self.busy_indicator.hide()
        self.statusBar().addPermanentWidget(self.busy_indicator)
        self.worker.busy_changed.connect(self.busy_indicator.setVisible)

        self._create_menus()
        self.colorize_tab.status_message.connect(self.show_status)
        self.colorize_tab.error_occurred.connect(self.report_error)
        self.colorize_tab.photo_opened.connect(self._on_photo_opened)
        self.colorize_tab.reload_models()

        self.resize(1200, 760)
        geometry = self.settings.get(setting_keys.WINDOW_GEOMETRY)
        if not geometry.isEmpty():
            self.restoreGeometry(geometry)

    def _create_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        file_menu.addAction(self.colorize_tab.open_action)
        file_menu.addAction(self.colorize_tab.export_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        photo_menu = self.menuBar().addMenu("&Photo")
        photo_menu.addAction(self.colorize_tab.colorize_action)

        help_menu = self.menuBar().addMenu("&Help")
        log_action = QAction("Open &Log Folder", self)
        log_action.triggered.connect(self.open_log_folder)
        help_menu.addAction(log_action)

    # Public API

    def open_paths(self, paths: Iterable[str | Path]) -> None:
        """Show the Colorize tab and open the first supported image among ``paths``."""
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
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            self.show_status(f"The log folder is {folder}")

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
        self.settings.set(setting_keys.WINDOW_GEOMETRY, self.saveGeometry())
        # Blocks until the running job ends; Qt cannot stop a colorize call midway.
        self.worker.shutdown()
        super().closeEvent(event)

    @Slot(object)
    def _on_photo_opened(self, photo) -> None:
        name = photo.source.name if photo.source is not None else "photo"
        self.setWindowTitle(f"{name} – {APPLICATION_NAME}")


def _local_paths(mime: QMimeData) -> list[Path]:
    if not mime.hasUrls():
        return []
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
