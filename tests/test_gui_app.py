"""The colorapp entry point: command line and log setup."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from colorapp.app import LOG_FILE_NAME, configure_logging

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def restore_root_logger():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield root
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_help_runs_without_window():
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")

    completed = subprocess.run(
        [sys.executable, "-m", "colorapp", "--help"],
        cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=60,
    )

    assert completed.returncode == 0, completed.stderr
    assert "usage: colorapp" in completed.stdout
    assert "photos" in completed.stdout


def test_log_file_receives_records(tmp_path, restore_root_logger):
    log_file = configure_logging(tmp_path / "logs")

    logging.getLogger("colorapp.test").info("opened scan.tif")
    for handler in restore_root_logger.handlers:
        handler.flush()

    assert log_file == tmp_path / "logs" / LOG_FILE_NAME
    assert "opened scan.tif" in log_file.read_text(encoding="utf-8")


def test_unwritable_log_folder_uses_stderr(tmp_path, restore_root_logger):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log folder should be")
    handler_count = len(restore_root_logger.handlers)

    log_file = configure_logging(blocker / "logs")

    assert log_file is None
    added = restore_root_logger.handlers[handler_count:]
    assert [type(handler) for handler in added] == [logging.StreamHandler]
