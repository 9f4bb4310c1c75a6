"""Full-resolution Lab work in horizontal strips, so memory stays bounded for large scans.

Converting a whole 12-megapixel photo at once needs several float32 copies of it
(1.5 GB on top of the photo, measured with benchmarks/colorize.py). Strips of about
a megapixel keep those temporaries small. What stays is the photo, its L* (4 bytes
a pixel) and the output (12 bytes a pixel).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from engine.color import lab_to_rgb_keep_lightness, rgb_to_lab

STRIP_PIXELS = 1 << 20
"""Pixels per strip. The temporaries of one strip take an estimated 60 bytes a pixel."""


def strip_bounds(height: int, width: int) -> list[tuple[int, int]]:
    """Return ``(top, bottom)`` row ranges of about STRIP_PIXELS pixels that cover the image."""
    rows = max(1, min(height, STRIP_PIXELS // max(width, 1)))
    return [(top, min(top + rows, height)) for top in range(0, height, rows)]


def _rgb_strip(rgb: np.ndarray, top: int, bottom: int) -> torch.Tensor:
    return torch.from_numpy(rgb[top:bottom]).permute(2, 0, 1).float()


def lightness_and_tint(
    rgb: np.ndarray, after_strip: Callable[[], None] = lambda: None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return L* (H, W) float32 in [0, 100] and the mean (a*, b*) of (H, W, 3) sRGB in [0, 1].

    ``after_strip`` is called after each strip (for progress and cancellation).
    """
    height, width = rgb.shape[:2]
    lightness = torch.empty(height, width, dtype=torch.float32)
    ab_sum = torch.zeros(2, dtype=torch.float64)
    for top, bottom in strip_bounds(height, width):
        lab = rgb_to_lab(_rgb_strip(rgb, top, bottom))
        lightness[top:bottom] = lab[0]
        ab_sum += lab[1:].double().sum(dim=(1, 2))
        after_strip()
    return lightness, (ab_sum / max(height * width, 1)).float()


def _source_rows(out_size: int, in_size: int, top: int, bottom: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return the two source rows and the weight of the second, for bilinear resizing.

    The formula is the one ``F.interpolate(mode="bilinear", align_corners=False)`` uses,
    so a strip matches the same rows of a whole-image resize.
    """
    scale = in_size / out_size
    position = ((torch.arange(top, bottom, dtype=torch.float64) + 0.5) * scale - 0.5).clamp(min=0.0)
    first = position.floor().long().clamp(max=in_size - 1)
    second = (first + 1).clamp(max=in_size - 1)
    return first, second, (position - first).float()


def resize_ab_rows(ab: torch.Tensor, height: int, width: int, top: int, bottom: int) -> torch.Tensor:
    """Return rows ``top:bottom`` of ab (C, h, w) resized bilinearly to (C, height, width).

    For upsampling only (h <= height, w <= width), which is separable: rows are
    interpolated first, then columns.
    """
    first, second, weight = _source_rows(height, ab.shape[1], top, bottom)
    rows = torch.lerp(ab[:, first], ab[:, second], weight.view(1, -1, 1))
    return F.interpolate(rows[None], size=(bottom - top, width), mode="bilinear", align_corners=False)[0]


def iter_ab_strips(ab: torch.Tensor, height: int, width: int) -> Iterator[tuple[int, int, torch.Tensor]]:
    """Yield ``(top, bottom, ab rows)`` of ab (C, h, w) resized to (C, height, width), strip by strip."""
    bounds = strip_bounds(height, width)
    if ab.shape[1] > height or ab.shape[2] > width:
        # A prediction larger than the photo (tiled mode on a small photo) is shrunk
        # with antialiasing in one step. It is no larger than the working resolution.
        resized = F.interpolate(ab[None], size=(height, width), mode="bilinear", antialias=True, align_corners=False)[0]
        for top, bottom in bounds:
            yield top, bottom, resized[:, top:bottom]
        return
    for top, bottom in bounds:
        yield top, bottom, resize_ab_rows(ab, height, width, top, bottom)


def combine_lab(
    lightness: torch.Tensor, ab: torch.Tensor, after_strip: Callable[[], None] = lambda: None
) -> np.ndarray:
    """Combine full-resolution L* (H, W) with ab (2, h, w) upsampled to (H, W), as sRGB.

    Returns (H, W, 3) float32 in [0, 1]. Out-of-gamut colours keep their L* and hue
    (see :func:`engine.color.lab_to_rgb_keep_lightness`).
    """
    height, width = lightness.shape
    rgb = np.empty((height, width, 3), dtype=np.float32)
    for top, bottom, ab_rows in iter_ab_strips(ab, height, width):
        lab = torch.cat((lightness[None, top:bottom], ab_rows), dim=0)
        rgb[top:bottom] = lab_to_rgb_keep_lightness(lab).permute(1, 2, 0).numpy()
        after_strip()
    return rgb
