"""Help > Copy Diagnostics: versions, devices and the most recent errors as plain text."""

from __future__ import annotations

import collections
import importlib.metadata
import logging
import platform
import sys
from collections.abc import Sequence

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import qVersion

import engine
from engine import paths

MAX_RECENT_ERRORS = 20


class RecentErrors(logging.Handler):
    """Keeps the last ``capacity`` log records of WARNING and above as formatted lines."""

    def __init__(self, capacity: int = MAX_RECENT_ERRORS) -> None:
        super().__init__(level=logging.WARNING)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        self._lines: collections.deque[str] = collections.deque(maxlen=capacity)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # Only the first line: tracebacks are in the log file.
            self._lines.append(self.format(record).splitlines()[0])
        except Exception:  # noqa: BLE001 - logging handlers must not raise.
            self.handleError(record)

    def lines(self) -> list[str]:
        return list(self._lines)


def _package_version(name: str) -> str:
    # importlib.metadata reads the installed version without importing the package,
    # so torch stays out of the UI code.
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def diagnostics_text(
    devices: Sequence[tuple[str, str]],
    device_setting: str,
    last_device: str | None,
    recent_errors: Sequence[str],
) -> str:
    """Build the text that Help > Copy Diagnostics puts on the clipboard."""
    lines = [
        f"ColorApp {engine.__version__}",
        f"Python {platform.python_version()} ({sys.executable})",
        f"Operating system: {platform.platform()}",
        f"Qt {qVersion()}, PySide6 {pyside_version}",
        f"torch {_package_version('torch')}, Pillow {_package_version('Pillow')}, numpy {_package_version('numpy')}",
        f"Device setting: {device_setting}; last used: {last_device or 'none yet'}",
        "Devices: " + ("; ".join(f"{device_id} = {label}" for device_id, label in devices) or "unknown"),
        f"Log folder: {paths.log_dir()}",
        f"User model folder: {paths.user_model_dir()}",
    ]
    if recent_errors:
        lines.append(f"Recent warnings and errors ({len(recent_errors)}):")
        lines.extend(f"  {line}" for line in recent_errors)
    else:
        lines.append("Recent warnings and errors: none")
    return "\n".join(lines) + "\n"
