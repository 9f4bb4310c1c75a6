"""Shared test setup: Qt runs offscreen and per-user folders point into a sandbox.

The environment is set at import time, before any test creates a QApplication,
QSettings or platformdirs path.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Set QT_QPA_PLATFORM=xcb (or another platform) to watch the GUI tests run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# QSettings and platformdirs read these on Linux, so settings, user models and logs
# written by tests stay out of the developer's home folder.
_SANDBOX = Path(tempfile.mkdtemp(prefix="colorapp-tests-"))
for _variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
    os.environ[_variable] = str(_SANDBOX / _variable.lower())


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_SANDBOX, ignore_errors=True)


@pytest.fixture
def app_settings(tmp_path):
    """ColorApp settings in a fresh INI file, so each test starts from the defaults."""
    from PySide6.QtCore import QSettings

    from colorapp.settings import Settings

    return Settings(QSettings(str(tmp_path / "colorapp-settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def no_leftover_threads(qapp):
    """Fail the test if a ColorApp worker thread still runs after it (and its widgets) closed."""
    yield
    from colorapp.workers import running_worker_threads

    assert running_worker_threads() == []


@pytest.fixture
def user_model_dir(tmp_path) -> Path:
    """Empty user model folder of the ``main_window`` fixture's model catalogue."""
    folder = tmp_path / "user-models"
    folder.mkdir()
    return folder


@pytest.fixture
def main_window(qtbot, app_settings, user_model_dir):
    """A shown MainWindow with test settings and the shipped models.

    pytest-qt closes it after the test.
    """
    from colorapp.main_window import MainWindow
    from engine.catalog import ModelCatalog

    window = MainWindow(catalog=ModelCatalog(user_model_dir), settings=app_settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


OPEN_TIMEOUT_MS = 30_000
# The first colorize imports the model and runs on the CPU of a busy test machine.
COLORIZE_TIMEOUT_MS = 180_000


class GuiDriver:
    """Drives a MainWindow the way a user does and waits on its signals, never on sleeps."""

    def __init__(self, window, qtbot) -> None:
        self.window = window
        self.tab = window.colorize_tab
        self.qtbot = qtbot

    def drop(self, paths):
        """Drop local paths on the window and return the QDropEvent."""
        from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
        from PySide6.QtGui import QDragEnterEvent, QDropEvent
        from PySide6.QtWidgets import QApplication

        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
        position = QPointF(self.window.rect().center())
        buttons = Qt.MouseButton.LeftButton
        modifiers = Qt.KeyboardModifier.NoModifier
        enter = QDragEnterEvent(position, Qt.DropAction.CopyAction, mime, buttons, modifiers)
        QApplication.sendEvent(self.window, enter)
        assert enter.isAccepted()
        drop = QDropEvent(position, Qt.DropAction.CopyAction, mime, buttons, modifiers)
        QApplication.sendEvent(self.window, drop)
        return drop

    def drop_and_wait(self, paths) -> list:
        """Drop paths, wait until the queue has the new rows, and return the new QueueItems."""
        with self.qtbot.waitSignal(self.tab.photos_added, timeout=OPEN_TIMEOUT_MS) as blocker:
            self.drop(paths)
        return blocker.args[0]

    def open_and_show(self, path):
        """Queue one photo, wait until the view shows it, and return the Photo."""
        with self.qtbot.waitSignal(self.tab.photo_opened, timeout=OPEN_TIMEOUT_MS) as blocker:
            self.window.open_paths([path])
        return blocker.args[0]

    def wait_until_read(self) -> None:
        """Wait until every queued photo was read once (size known, or failed)."""
        self.qtbot.waitUntil(
            lambda: all(item.is_loaded for item in self.tab.queue.items()), timeout=OPEN_TIMEOUT_MS
        )

    def colorize_selected(self):
        """Click Colorize, wait for the result, and return the ColorizeOutcome."""
        from PySide6.QtCore import Qt

        with self.qtbot.waitSignal(self.tab.colorize_finished, timeout=COLORIZE_TIMEOUT_MS) as blocker:
            self.qtbot.mouseClick(self.tab.panel.colorize_button, Qt.MouseButton.LeftButton)
        return blocker.args[0]

    def run_to_end(self, trigger):
        """Call ``trigger`` and wait until the colorize or export run it starts has ended.

        Return the final BatchProgress.
        """
        with self.qtbot.waitSignal(self.tab.run_finished, timeout=COLORIZE_TIMEOUT_MS) as blocker:
            assert trigger() is not False
        return blocker.args[0]

    def show_row(self, row: int) -> None:
        """Select a queue row and wait until the view shows its photo."""
        with self.qtbot.waitSignal(self.tab.photo_opened, timeout=OPEN_TIMEOUT_MS):
            assert self.tab.queue_panel.select_row(row)

    def row_of(self, name: str):
        """Return the queue item with this display name."""
        matches = [item for item in self.tab.queue.items() if item.name == name]
        assert len(matches) == 1, f"{len(matches)} queue rows named {name!r}"
        return matches[0]


@pytest.fixture
def gui(main_window, qtbot) -> GuiDriver:
    return GuiDriver(main_window, qtbot)


@pytest.fixture
def gray_photo(tmp_path) -> Path:
    """Black-and-white copy of a real photograph."""
    from tests.helpers import real_photos, save_grayscale

    return save_grayscale(real_photos()[0], tmp_path / "family_scan.jpg")


@pytest.fixture
def untrained_user_models(user_model_dir):
    """Write two small untrained user models and return their catalogue keys."""
    torch = pytest.importorskip("torch")
    from engine.modelfile import ModelInfo, save_generator
    from engine.models import build_generator

    keys = []
    for number in (1, 2):
        torch.manual_seed(number)
        generator = build_generator("unet", 8).eval()
        info = ModelInfo(name=f"Untrained test model {number}", architecture="unet", width=8, recipe="pix2pix")
        save_generator(user_model_dir / f"untrained{number}.safetensors", generator, info)
        keys.append(f"user:untrained{number}")
    return keys


@pytest.fixture
def shipped_model() -> Path:
    """The default shipped model file (pix2pix, width 16)."""
    from engine.catalog import ModelCatalog

    return ModelCatalog().default().path
