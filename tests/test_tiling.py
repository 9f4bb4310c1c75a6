import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from engine.strips import lightness_and_tint, resize_ab_rows, strip_bounds
from engine.tiling import (
    TILE_SIZE,
    WINDOW_FLOOR,
    TileBlender,
    blend_window,
    gaussian_blur,
    match_low_frequencies,
    tile_grid,
    tile_starts,
)


@pytest.mark.parametrize("length", [256, 257, 300, 448, 512, 1000, 1024, 2049])
@pytest.mark.parametrize("overlap", [0, 32, 64, 128])
def test_tiles_cover_with_minimum_overlap(length, overlap):
    starts = tile_starts(length, overlap)
    assert starts[0] == 0
    assert starts[-1] + TILE_SIZE == length
    for previous, current in zip(starts, starts[1:]):
        assert current > previous
        assert previous + TILE_SIZE - current >= overlap


def test_tile_count_is_minimal():
    # 1024 = 256 + 4 x 192: five tiles overlapping by exactly 64.
    assert tile_starts(1024, 64) == [0, 192, 384, 576, 768]


def test_tile_starts_rejects_short_length():
    with pytest.raises(ValueError, match="shorter than the tile size"):
        tile_starts(200, 64)


def test_tile_grid_is_row_major():
    grid = tile_grid(448, 640, 64)
    assert grid[0] == (0, 0)
    assert grid[-1] == (448 - TILE_SIZE, 640 - TILE_SIZE)
    assert len(grid) == len(tile_starts(448, 64)) * len(tile_starts(640, 64))


def test_window_is_positive_and_flat_inside():
    window = blend_window(64)
    assert window.shape == (TILE_SIZE, TILE_SIZE)
    assert window.min() >= WINDOW_FLOOR**2 * 0.999
    assert torch.all(window[64:192, 64:192] == 1.0)


def test_window_weights_sum_to_one_across_overlap():
    profile = blend_window(64)[128]
    stride = TILE_SIZE - 64
    shared = profile[stride:] + profile[: TILE_SIZE - stride]
    assert torch.allclose(shared, torch.ones_like(shared), atol=WINDOW_FLOOR)


def test_blender_reconstructs_a_smooth_field():
    height, width = 448, 700
    yy, xx = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    field = torch.stack((torch.sin(xx / 50.0), torch.cos(yy / 40.0))).float()
    blender = TileBlender(height, width, overlap=64)
    for top, left in tile_grid(height, width, 64):
        blender.add(field[:, top:top + TILE_SIZE, left:left + TILE_SIZE], top, left)
    assert torch.allclose(blender.result(), field, atol=1e-5)


def test_blender_rejects_uncovered_pixels():
    blender = TileBlender(300, 300, overlap=0)
    blender.add(torch.zeros(2, TILE_SIZE, TILE_SIZE), 0, 0)
    with pytest.raises(RuntimeError, match="covered by no tile"):
        blender.result()


def test_gaussian_blur_keeps_constants_and_smooths():
    constant = torch.full((1, 2, 64, 64), 3.5)
    assert torch.allclose(gaussian_blur(constant, 4.0), constant, atol=1e-5)
    noise = torch.randn(1, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    assert gaussian_blur(noise, 4.0).std() < 0.2 * noise.std()


def test_match_keeps_detail_takes_colour():
    generator = torch.Generator().manual_seed(1)
    detail = torch.randn(1, 2, TILE_SIZE, TILE_SIZE, generator=generator)
    detail = detail - gaussian_blur(detail, 8.0)
    tile = detail + torch.tensor([20.0, -10.0]).view(1, 2, 1, 1)
    reference = torch.tensor([5.0, 15.0]).view(1, 2, 1, 1).expand(1, 2, TILE_SIZE, TILE_SIZE)

    matched = match_low_frequencies(tile, reference, sigma=8.0)

    assert torch.allclose(matched.mean(dim=(2, 3)), torch.tensor([[5.0, 15.0]]), atol=0.1)
    assert torch.allclose(matched - reference, detail, atol=0.5)


def test_match_of_reference_is_identity():
    reference = torch.randn(3, 2, TILE_SIZE, TILE_SIZE)
    assert torch.allclose(match_low_frequencies(reference, reference, 8.0), reference, atol=1e-5)


def test_strips_cover_all_rows():
    bounds = strip_bounds(3000, 4000)
    assert bounds[0][0] == 0
    assert bounds[-1][1] == 3000
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))
    assert max(bottom - top for top, bottom in bounds) * 4000 <= 1 << 20


@pytest.mark.parametrize("size", [(301, 177), (37, 53), (1000, 20)])
def test_strip_resize_matches_whole_resize(size):
    ab = torch.randn(2, 37, 20, generator=torch.Generator().manual_seed(2))
    height, width = size
    expected = F.interpolate(ab[None], size=(height, width), mode="bilinear", align_corners=False)[0]
    rows = 41
    pieces = [resize_ab_rows(ab, height, width, top, min(top + rows, height)) for top in range(0, height, rows)]
    assert torch.allclose(torch.cat(pieces, dim=1), expected, atol=1e-4)


def test_lightness_and_tint_of_a_sepia_image():
    from skimage.color import rgb2lab

    rng = np.random.default_rng(3)
    gray = rng.random((50, 60))
    sepia = np.stack((gray * 1.0, gray * 0.85, gray * 0.6), axis=-1).astype(np.float32)
    lightness, tint = lightness_and_tint(sepia)
    lab = rgb2lab(sepia.astype(np.float64))
    assert np.abs(lightness.numpy() - lab[..., 0]).max() < 1e-3
    assert tint.tolist() == pytest.approx(lab[..., 1:].reshape(-1, 2).mean(axis=0).tolist(), abs=1e-3)
    assert not math.isclose(tint[1].item(), 0.0, abs_tol=1.0)
