"""Per-user folders for models, checkpoints and logs (platformdirs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import platformdirs

APP_NAME = "ColorApp"


def _resources_dir() -> Path:
    # Installed, the resources folder is the package colorapp_resources; in a
    # source tree or a frozen app it sits beside the engine package.
    spec = importlib.util.find_spec("colorapp_resources")
    if spec is not None and spec.origin:
        return Path(spec.origin).parent
    return Path(__file__).resolve().parent.parent / "resources"


RESOURCES_DIR = _resources_dir()
"""Icons, shipped models and their cards."""


def shipped_model_dir() -> Path:
    return RESOURCES_DIR / "models"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_model_dir() -> Path:
    return user_data_dir() / "models"


def checkpoint_dir() -> Path:
    return user_data_dir() / "checkpoints"


def log_dir() -> Path:
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))
