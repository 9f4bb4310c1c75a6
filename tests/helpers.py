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


def make_training_folder(folder: Path, broken: bool = True, grayscale: bool = True,
                         sepia: bool = True, too_small: bool = True) -> Path:
    """Fill ``folder`` with 8 real colour photos (each test photo and its mirror image).

    The flags add one file each that a dataset check must skip: "broken.jpg" (not a
    JPEG), "grayscale.jpg" (mode L), "sepia.jpg" (one brown tint) and "tiny.jpg"
    (40 pixels wide).
    """
    from PIL import ImageOps

    folder.mkdir(parents=True, exist_ok=True)
    photos = real_photos()
    for source in photos:
        with Image.open(source) as image:
            image.convert("RGB").save(folder / source.name, quality=95)
            ImageOps.mirror(image.convert("RGB")).save(folder / f"mirrored_{source.name}", quality=95)
    if grayscale:
        save_grayscale(photos[0], folder / "grayscale.jpg")
    if sepia:
        with Image.open(photos[1]) as image:
            ImageOps.colorize(image.convert("L"), black="#2e1c0c", white="#f6e7c9").save(folder / "sepia.jpg")
    if broken:
        (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a JPEG")
    if too_small:
        with Image.open(photos[2]) as image:
            image.convert("RGB").resize((40, 30)).save(folder / "tiny.jpg")
    return folder
