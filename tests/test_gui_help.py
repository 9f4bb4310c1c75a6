"""The Help menu: log folder, diagnostics on the clipboard, About box."""

from __future__ import annotations

import importlib.metadata
import logging
import platform

import pytest
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion
from PySide6.QtGui import QGuiApplication

import engine
from colorapp import main_window as main_window_module
from engine import paths

pytestmark = pytest.mark.usefixtures("no_leftover_threads")


def test_copy_diagnostics(gui, gray_photo):
    gui.open_and_show(gray_photo)
    gui.colorize_selected()
    logging.getLogger("colorapp.test").error("Colorizing attic_scan.tif failed: out of memory")

    gui.window.diagnostics_action.trigger()

    text = QGuiApplication.clipboard().text()
    assert f"ColorApp {engine.__version__}" in text
    assert f"Python {platform.python_version()}" in text
    assert f"Qt {qVersion()}, PySide6 {pyside_version}" in text
    assert f"torch {importlib.metadata.version('torch')}" in text
    assert "Device setting: auto; last used: cpu" in text
    assert "auto = Automatic" in text
    assert "Colorizing attic_scan.tif failed: out of memory" in text
    assert "Copied the diagnostics" in gui.window.statusBar().currentMessage()


def test_show_log_folder_opens_it(main_window, monkeypatch):
    opened = []

    class RecordingDesktopServices:
        @staticmethod
        def openUrl(url):
            opened.append(url.toLocalFile())
            return True

    monkeypatch.setattr(main_window_module, "QDesktopServices", RecordingDesktopServices)

    main_window.log_folder_action.trigger()

    assert opened == [str(paths.log_dir())]
    assert paths.log_dir().is_dir()


def test_about_box(main_window):
    box = main_window.show_about()

    assert box.isVisible()
    assert engine.__version__ in box.text()
    box.close()
