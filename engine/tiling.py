"""Tiled inference: tile layout, smooth blend weights and low-frequency chroma matching.

A large L image at the working resolution is cut into 256x256 tiles that overlap
by at least ``overlap`` pixels. Each tile's ab prediction is weighted by a window
that is 1 in the middle and falls along a raised cosine over the overlap, so the
weights of two neighbours sum to 1 across their shared strip.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from engine.models import INPUT_SIZE

TILE_SIZE = INPUT_SIZE
WINDOW_FLOOR = 1e-3
"""Smallest blend weight, so that every pixel of a tile counts and no sum is zero."""


def tile_starts(length: int, overlap: int, tile: int = TILE_SIZE) -> list[int]:
    """Return the start offsets of tiles that cover ``[0, length)``.

    Neighbours share at least ``overlap`` pixels. The tiles are spread evenly, so the
    last one ends at ``length``. ``length`` must be at least ``tile``.
    """
    if length < tile:
        raise ValueError(f"length {length} is shorter than the tile size {tile}; pad the image first")
    if not 0 <= overlap < tile:
        raise ValueError(f"overlap must be between 0 and {tile - 1} pixels, got {overlap}")
    if length == tile:
        return [0]
    stride = tile - overlap
    count = math.ceil((length - tile) / stride) + 1
    return [round(index * (length - tile) / (count - 1)) for index in range(count)]


def tile_grid(height: int, width: int, overlap: int, tile: int = TILE_SIZE) -> list[tuple[int, int]]:
    """Return ``(top, left)`` of every tile of a ``height`` x ``width`` image, row by row."""
    return [(top, left) for top in tile_starts(height, overlap, tile) for left in tile_starts(width, overlap, tile)]


def blend_window(overlap: int, tile: int = TILE_SIZE) -> torch.Tensor:
    """Return the (tile, tile) float32 blend weight of one tile, in [WINDOW_FLOOR, 1].

    Along each side the weight rises as a raised cosine over the first ``overlap``
    pixels and falls over the last ``overlap``. Where two tiles overlap by exactly
    ``overlap`` pixels, their weights sum to 1 (sin^2 + cos^2), to within the floor.
    """
    profile = torch.ones(tile, dtype=torch.float64)
    if overlap > 0:
        position = (torch.arange(overlap, dtype=torch.float64) + 0.5) / overlap
        ramp = 0.5 - 0.5 * torch.cos(math.pi * position)
        profile[:overlap] = ramp
        profile[tile - overlap:] = torch.minimum(profile[tile - overlap:], ramp.flip(0))
    profile = profile.clamp(min=WINDOW_FLOOR)
    return torch.outer(profile, profile).float()


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur (N, C, H, W) images with a separable Gaussian of ``sigma`` pixels, reflecting at edges."""
    if sigma <= 0:
        return images
    radius = min(math.ceil(3 * sigma), images.shape[-2] - 1, images.shape[-1] - 1)
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    channels = images.shape[1]

    padded = F.pad(images, (radius, radius, 0, 0), mode="reflect")
    horizontal = kernel.view(1, 1, 1, -1).expand(channels, 1, 1, -1)
    blurred = F.conv2d(padded, horizontal, groups=channels)

    padded = F.pad(blurred, (0, 0, radius, radius), mode="reflect")
    vertical = kernel.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    return F.conv2d(padded, vertical, groups=channels)


def match_low_frequencies(tiles: torch.Tensor, reference: torch.Tensor, sigma: float) -> torch.Tensor:
    """Replace the low-pass part of each tile's ab with the reference's at the same place.

    ``tiles`` and ``reference`` are (N, 2, T, T) ab. The result keeps each tile's
    detail finer than ``sigma`` pixels and takes the coarser colour from the
    reference (the whole-image prediction), so neighbouring tiles cannot drift
    apart in colour.
    """
    if tiles.shape != reference.shape:
        raise ValueError(f"tiles {tuple(tiles.shape)} and reference {tuple(reference.shape)} differ in shape")
    low_pass = gaussian_blur(torch.cat((tiles, reference), dim=1), sigma)
    tile_low, reference_low = low_pass.split(tiles.shape[1], dim=1)
    return tiles - tile_low + reference_low


class TileBlender:
    """Accumulates weighted tile predictions into one (C, H, W) image."""

    def __init__(self, height: int, width: int, overlap: int, channels: int = 2, tile: int = TILE_SIZE) -> None:
        self.tile = tile
        self.window = blend_window(overlap, tile)
        self.weighted_sum = torch.zeros(channels, height, width)
        self.weight_sum = torch.zeros(1, height, width)

    def add(self, values: torch.Tensor, top: int, left: int) -> None:
        """Add one (C, tile, tile) prediction whose top-left corner is at (top, left)."""
        rows = slice(top, top + self.tile)
        columns = slice(left, left + self.tile)
        self.weighted_sum[:, rows, columns] += values * self.window
        self.weight_sum[:, rows, columns] += self.window

    def result(self) -> torch.Tensor:
        """Return the blended (C, H, W) image; every pixel must have been covered by a tile."""
        if not bool((self.weight_sum > 0).all()):
            raise RuntimeError("some pixels are covered by no tile; the tile grid is incomplete")
        return self.weighted_sum / self.weight_sum
