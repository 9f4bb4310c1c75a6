"""Shared helpers for tests: paths to the real test photographs and image measurements."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
from PIL import Image
from skimage.color import rgb2lab

DATA_DIR = Path(__file__).resolve().parent / "data"


def real_photos() -> list[Path]:
    """The real colour photographs in tests/data (see tests/data/SOURCES.md)."""
    photos = sorted(DATA_DIR.glob("*.jpg"))
    assert photos, f"no test photographs in {DATA_DIR}"
    return photos


def save_grayscale(source: Path, target: Path) -> Path:
    """Write a black-and-white copy of ``source`` (mode L) to ``target``."""
    with Image.open(source) as image:
        image.convert("L").save(target)
    return target


def mean_chroma(path: Path) -> float:
    """Mean a*b* magnitude of an image file, in Lab units."""
    with Image.open(path) as image:
        lab = rgb2lab(np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0)
    return float(np.hypot(lab[..., 1], lab[..., 2]).mean())


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
