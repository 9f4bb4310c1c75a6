"""Every persistent setting of the application, declared in one place.

Values live in QSettings. Each ``Setting`` names its key, type, default and valid
values, so a missing, corrupt or out-of-range stored value reads as the default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from engine.training.recipes import RECIPES

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2
"""Layout of the stored keys. Raise it, and migrate in ``Settings``, when a key
is renamed or changes meaning.

Version 2 renamed "export/jpeg_quality" to "export/quality" because the value
now applies to WebP as well as JPEG.
"""

_SCHEMA_KEY = "schema_version"
_RENAMED_IN_VERSION_2 = {"export/jpeg_quality": "export/quality"}


@dataclass(frozen=True)
class Setting:
    """Declaration of one stored value."""

    key: str
    value_type: type
    default: Any
    choices: tuple[Any, ...] = ()
    minimum: int | None = None
    maximum: int | None = None

    def accepts(self, value: Any) -> bool:
        """Check a converted value against ``choices`` and the integer bounds."""
        if self.choices and value not in self.choices:
            return False
        if self.minimum is not None and value < self.minimum:
            return False
        if self.maximum is not None and value > self.maximum:
            return False
        return True


RENDER_SIZES = (256, 512, 768, 1024)
"""Render sizes offered: the side, in pixels, of the square image the model colorizes."""
WORKING_SIZES = (512, 768, 1024, 1536, 2048, 3072, 4096)
"""Working resolutions offered for tiled mode, in pixels on the photo's long side."""
EXPORT_FORMATS = ("png", "jpeg", "tiff", "webp")
TRAIN_WIDTHS = (16, 32, 64)
"""Generator widths offered when training from scratch.

16 is the shipped model's compact size and 64 the full size."""

LAST_OPEN_FOLDER = Setting("paths/last_open_folder", str, "")
LAST_EXPORT_FOLDER = Setting("paths/last_export_folder", str, "")
LAST_MODEL_FOLDER = Setting("paths/last_model_folder", str, "")
MODEL_KEY = Setting("colorize/model_key", str, "")
DEVICE = Setting("colorize/device", str, "auto")
"""A device id from ``engine.devices.available_devices``, where "auto" picks the best one."""
COLOR_STRENGTH_PERCENT = Setting("colorize/strength_percent", int, 100, minimum=0, maximum=150)
RENDER_SIZE = Setting("colorize/render_size", int, 256, choices=RENDER_SIZES)
KEEP_TONE = Setting("colorize/keep_tone", bool, False)
TILED = Setting("colorize/tiled", bool, False)
WORKING_SIZE = Setting("colorize/working_size", int, 1024, choices=WORKING_SIZES)
TILE_OVERLAP = Setting("colorize/tile_overlap", int, 64, minimum=0, maximum=128)
"""Overlap of neighbouring 256-pixel tiles, in pixels."""
EXPORT_FORMAT = Setting("export/format", str, "png", choices=EXPORT_FORMATS)
EXPORT_BIT_DEPTH = Setting("export/bit_depth", int, 8, choices=(8, 16))
EXPORT_QUALITY = Setting("export/quality", int, 95, minimum=1, maximum=100)
"""JPEG and WebP quality, 1 (smallest file) to 100 (best)."""
EXPORT_NAME_TEMPLATE = Setting("export/name_template", str, "{name}_colorized")
WINDOW_GEOMETRY = Setting("window/geometry", QByteArray, QByteArray())
SPLITTER_STATE = Setting("window/colorize_splitter", QByteArray, QByteArray())
TRAIN_FOLDER = Setting("train/folder", str, "")
"""Folder of the user's colour photos to train on."""
TRAIN_BASE_MODEL = Setting("train/base_model", str, "")
"""Catalogue key of the model to fine-tune, "" for the default model, or "scratch"."""
TRAIN_RECIPE = Setting("train/recipe", str, "pix2pix", choices=tuple(RECIPES))
TRAIN_WIDTH = Setting("train/width", int, 16, choices=TRAIN_WIDTHS)
TRAIN_DEVICE = Setting("train/device", str, "auto")
TRAIN_VALIDATE_EVERY = Setting("train/validate_every", int, 100, minimum=1, maximum=100_000)
"""Steps between previews, validation figures and checkpoints."""
TRAIN_RUN_FOLDER = Setting("train/run_folder", str, "")
"""Run folder of the training run that has not ended with an exported model, or ""."""
TRAIN_SPLITTER_STATE = Setting("window/train_splitter", QByteArray, QByteArray())

ALL_SETTINGS = (
    LAST_OPEN_FOLDER,
    LAST_EXPORT_FOLDER,
    LAST_MODEL_FOLDER,
    MODEL_KEY,
    DEVICE,
    COLOR_STRENGTH_PERCENT,
    RENDER_SIZE,
    KEEP_TONE,
    TILED,
    WORKING_SIZE,
    TILE_OVERLAP,
    EXPORT_FORMAT,
    EXPORT_BIT_DEPTH,
    EXPORT_QUALITY,
    EXPORT_NAME_TEMPLATE,
    WINDOW_GEOMETRY,
    SPLITTER_STATE,
    TRAIN_FOLDER,
    TRAIN_BASE_MODEL,
    TRAIN_RECIPE,
    TRAIN_WIDTH,
    TRAIN_DEVICE,
    TRAIN_VALIDATE_EVERY,
    TRAIN_RUN_FOLDER,
    TRAIN_SPLITTER_STATE,
)


class Settings:
    """Typed access to the declared settings in a QSettings store.

    Without a store it uses ``QSettings()``, which needs the organization and
    application names set on the QCoreApplication first.
    """

    def __init__(self, store: QSettings | None = None) -> None:
        self._store = store if store is not None else QSettings()
        self._check_schema()

    @property
    def store(self) -> QSettings:
        return self._store

    def get(self, setting: Setting) -> Any:
        """Return the stored value, or the default when it is missing or invalid."""
        raw = self._store.value(setting.key)
        if raw is None:
            return setting.default
        try:
            value = _convert(raw, setting.value_type)
        except (TypeError, ValueError):
            logger.warning("Ignoring invalid setting %s=%r; using %r", setting.key, raw, setting.default)
            return setting.default
        if not setting.accepts(value):
            logger.warning("Ignoring out-of-range setting %s=%r; using %r", setting.key, value, setting.default)
            return setting.default
        return value

    def set(self, setting: Setting, value: Any) -> None:
        """Store a value; raise ValueError if the declaration rejects it."""
        if not isinstance(value, setting.value_type) or not setting.accepts(value):
            raise ValueError(f"Invalid value {value!r} for setting {setting.key}")
        self._store.setValue(setting.key, value)

    def sync(self) -> None:
        self._store.sync()

    def _check_schema(self) -> None:
        stored = self._store.value(_SCHEMA_KEY)
        if stored is None:
            self._store.setValue(_SCHEMA_KEY, SCHEMA_VERSION)
            return
        try:
            version = int(stored)
        except (TypeError, ValueError):
            version = 0
        if version > SCHEMA_VERSION:
            # A newer ColorApp wrote these settings. Keys this version declares are
            # read as usual, and the stored version stays so the newer one is unaffected.
            logger.warning(
                "Settings in %s have schema version %s; this version reads version %s",
                self._store.fileName(), version, SCHEMA_VERSION,
            )
        elif version < SCHEMA_VERSION:
            self._migrate(version)
            self._store.setValue(_SCHEMA_KEY, SCHEMA_VERSION)

    def _migrate(self, version: int) -> None:
        if version < 2:
            for old_key, new_key in _RENAMED_IN_VERSION_2.items():
                value = self._store.value(old_key)
                if value is not None and self._store.value(new_key) is None:
                    self._store.setValue(new_key, value)
                self._store.remove(old_key)
        logger.info("Settings in %s migrated from schema version %s to %s", self._store.fileName(), version, SCHEMA_VERSION)


def _convert(raw: Any, value_type: type) -> Any:
    # INI files and some platform stores return every value as a string.
    if isinstance(raw, value_type):
        return raw
    if value_type is bool:
        return _convert_bool(raw)
    if value_type is int:
        return int(raw)
    if value_type is str:
        return str(raw)
    if value_type is QByteArray and isinstance(raw, (bytes, bytearray)):
        return QByteArray(bytes(raw))
    raise TypeError(f"cannot convert {type(raw).__name__} to {value_type.__name__}")


def _convert_bool(raw: Any) -> bool:
    text = str(raw).strip().lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0"):
        return False
    raise ValueError(f"not a boolean: {raw!r}")
