"""Filling a device combo box from the engine's device list."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QComboBox


def fill_device_combo(combo: QComboBox, devices: Sequence[tuple[str, str]], selected: str) -> None:
    """List (device id, label) pairs and select ``selected``, or the first when it is not listed."""
    combo.blockSignals(True)
    combo.clear()
    for device_id, label in devices:
        combo.addItem(label, device_id)
    combo.setCurrentIndex(max(combo.findData(selected), 0))
    combo.blockSignals(False)
