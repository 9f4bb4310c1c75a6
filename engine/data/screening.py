"""Deciding which photos can teach colour: not broken, not too small, not monochrome."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from engine.color import rgb_to_lab

log = logging.getLogger(__name__)

MIN_SIDE = 64
"""Photos with a shorter side are skipped: too little detail to learn from."""
GRAYSCALE_CHROMA = 3.0
"""Mean chroma (a*, b* magnitude) below this counts as grayscale."""
TONED_SPREAD = 3.0
"""Mean distance of each pixel's ab from the image's mean ab below this counts as a
single-tint photo (sepia, cyanotype): it has chroma but no colour to learn."""
THUMBNAIL = 96
MONOCHROME_REASONS = ("grayscale", "sepia")
"""Screening reasons of a readable photo that has no colour to learn from or to compare with."""


@dataclass(frozen=True)
class Screening:
    path: Path
    usable: bool
    reason: str = ""
    """Why the photo was skipped: "broken", "too small", "grayscale" or "sepia"."""
    detail: str = ""


def ab_thumbnail(image: Image.Image) -> np.ndarray:
    """Return the a*, b* of a small RGB thumbnail as an (N, 2) float array."""
    thumbnail = image.convert("RGB")
    thumbnail.thumbnail((THUMBNAIL, THUMBNAIL))
    rgb = torch.from_numpy(np.asarray(thumbnail, dtype=np.float32) / 255.0).permute(2, 0, 1)
    lab = rgb_to_lab(rgb)
    return lab[1:].reshape(2, -1).T.numpy()


def screen_photo(path: Path) -> Screening:
    """Check one file. A broken or unreadable image is reported in the result, not raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as image:
                image.draft("RGB", (THUMBNAIL * 2, THUMBNAIL * 2))
                image.load()
                if min(image.size) < MIN_SIDE:
                    return Screening(path, False, "too small", f"{image.size[0]}x{image.size[1]}")
                if image.mode in ("1", "L", "LA", "I", "I;16", "F"):
                    return Screening(path, False, "grayscale", f"mode {image.mode}")
                ab = ab_thumbnail(image)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        return Screening(path, False, "broken", str(error))

    chroma = float(np.linalg.norm(ab, axis=1).mean())
    if chroma < GRAYSCALE_CHROMA:
        return Screening(path, False, "grayscale", f"mean chroma {chroma:.1f}")
    spread = float(np.linalg.norm(ab - ab.mean(axis=0), axis=1).mean())
    if spread < TONED_SPREAD:
        return Screening(path, False, "sepia", f"one tint, spread {spread:.1f}")
    return Screening(path, True)
