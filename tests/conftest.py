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


@pytest.fixture
def shipped_model() -> Path:
    """The default shipped model file (pix2pix, width 16)."""
    from engine.catalog import ModelCatalog

    return ModelCatalog().default().path
