"""Every persistent setting of the application, declared in one place.

Values live in QSettings. Each ``Setting`` names its key, type, default and valid
values, so a missing, corrupt or out-of-range stored value reads as the default.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QByteArray, QSettings

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
"""Layout of the stored keys. Raise it, and migrate in ``Settings``, when a key
is renamed or changes meaning."""

_SCHEMA_KEY = "schema_version"


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


LAST_OPEN_FOLDER = Setting("paths/last_open_folder", str, "")
LAST_EXPORT_FOLDER = Setting("paths/last_export_folder", str, "")
MODEL_KEY = Setting("colorize/model_key", str, "")
COLOR_STRENGTH_PERCENT = Setting("colorize/strength_percent", int, 100, minimum=0, maximum=150)
EXPORT_FORMAT = Setting("export/format", str, "png", choices=("png", "jpeg"))
JPEG_QUALITY = Setting("export/jpeg_quality", int, 95, minimum=1, maximum=100)
WINDOW_GEOMETRY = Setting("window/geometry", QByteArray, QByteArray())

ALL_SETTINGS = (
    LAST_OPEN_FOLDER,
    LAST_EXPORT_FOLDER,
    MODEL_KEY,
    COLOR_STRENGTH_PERCENT,
    EXPORT_FORMAT,
    JPEG_QUALITY,
    WINDOW_GEOMETRY,
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
            # No migration exists yet because version 1 is the first layout.
            self._store.setValue(_SCHEMA_KEY, SCHEMA_VERSION)


def _convert(raw: Any, value_type: type) -> Any:
    # INI files and some platform stores return every value as a string.
    if isinstance(raw, value_type):
        return raw
    if value_type is int:
        return int(raw)
    if value_type is str:
        return str(raw)
    if value_type is QByteArray and isinstance(raw, (bytes, bytearray)):
        return QByteArray(bytes(raw))
    raise TypeError(f"cannot convert {type(raw).__name__} to {value_type.__name__}")
