"""Choosing the torch device: CUDA, then Apple MPS, then the CPU."""

from __future__ import annotations

import torch


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()


def pick_device(preference: str = "auto") -> torch.device:
    """Return the device for ``preference``: "auto", "cpu", "cuda", "cuda:N" or "mps"."""
    if preference == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    device = torch.device(preference)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {preference!r} requested but CUDA is not available")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise ValueError(
            f"device {preference!r} requested but only {torch.cuda.device_count()} CUDA "
            "device(s) exist; pick one from the device list"
        )
    if device.type == "mps" and not _mps_available():
        raise ValueError(f"device {preference!r} requested but Apple MPS is not available")
    return device


def available_devices() -> list[tuple[str, str]]:
    """List ``(device id, label)`` pairs for a device menu: "auto", "cpu", each CUDA GPU, then MPS.

    Each id is accepted by :func:`pick_device`. The "auto" label names the device it
    resolves to on this machine.
    """
    devices = [("cpu", "CPU")]
    if torch.cuda.is_available():
        for index in range(torch.cuda.device_count()):
            devices.append((f"cuda:{index}", f"GPU {index}: {torch.cuda.get_device_name(index)}"))
    if _mps_available():
        devices.append(("mps", "Apple GPU (MPS)"))

    auto = pick_device("auto")
    auto_id = f"cuda:{torch.cuda.current_device()}" if auto.type == "cuda" else auto.type
    auto_label = dict(devices)[auto_id]
    return [("auto", f"Automatic ({auto_label})")] + devices
