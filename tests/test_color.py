import math

import numpy as np
import pytest
import torch
from skimage import color

from engine.color import (
    ab_to_target,
    input_to_lightness,
    lab_to_rgb,
    lab_to_rgb_keep_lightness,
    lightness_to_input,
    rgb_to_lab,
    target_to_ab,
)


def _random_rgb(shape, seed=0):
    rng = np.random.default_rng(seed)
    rgb = rng.random(shape)
    # Include the corners of the cube and very dark values near the linear segment.
    rgb[..., 0, 0, :] = 0.0
    rgb[..., 0, 1, :] = 1.0
    rgb[..., 0, 2, :] = [0.01, 0.02, 0.03]
    return rgb


def _to_chw(array):
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(array, -1, -3)))


def _to_hwc(tensor):
    return np.moveaxis(tensor.numpy(), -3, -1)


@pytest.mark.parametrize("dtype, tolerance", [(torch.float64, 1e-6), (torch.float32, 1e-3)])
def test_rgb_to_lab_matches_skimage(dtype, tolerance):
    rgb = _random_rgb((32, 32, 3))
    expected = color.rgb2lab(rgb)
    result = _to_hwc(rgb_to_lab(_to_chw(rgb).to(dtype)).double())
    assert np.abs(result - expected).max() < tolerance


def test_lab_to_rgb_matches_skimage_in_gamut():
    lab = color.rgb2lab(_random_rgb((32, 32, 3), seed=1))
    expected = color.lab2rgb(lab)
    result = _to_hwc(lab_to_rgb(_to_chw(lab).float()).double())
    assert np.abs(result - expected).max() < 1 / 255


def test_lab_to_rgb_matches_skimage_out_of_gamut():
    rng = np.random.default_rng(2)
    lab = np.stack(
        [rng.random((24, 24)) * 100, rng.random((24, 24)) * 220 - 110, rng.random((24, 24)) * 220 - 110],
        axis=-1,
    )
    with np.errstate(all="ignore"), pytest.warns(UserWarning):
        expected = color.lab2rgb(lab)
    result = _to_hwc(lab_to_rgb(_to_chw(lab)).double())
    assert np.abs(result - expected).max() < 1 / 255
    assert result.min() >= 0.0
    assert result.max() <= 1.0


@pytest.mark.parametrize("shape", [(3, 5, 7), (2, 3, 4, 4), (2, 2, 3, 3, 3)])
def test_round_trip_shapes(shape):
    rgb = torch.rand(shape, dtype=torch.float64)
    lab = rgb_to_lab(rgb)
    assert lab.shape == rgb.shape
    assert torch.allclose(lab_to_rgb(lab), rgb, atol=1e-6)


def test_lightness_range_of_black_and_white():
    extremes = torch.tensor([0.0, 1.0]).view(1, 1, 2).expand(3, 1, 2)
    lab = rgb_to_lab(extremes)
    assert torch.allclose(lab[0, 0], torch.tensor([0.0, 100.0]), atol=1e-3)
    # The sRGB matrix rows are rounded to 6 digits, so white is a few thousandths off grey.
    assert lab[1:].abs().max() < 1e-2


def test_gradcheck_rgb_to_lab():
    rgb = (torch.rand(1, 3, 4, 4, dtype=torch.float64) * 0.9 + 0.05).requires_grad_(True)
    assert torch.autograd.gradcheck(rgb_to_lab, (rgb,))


def test_gradcheck_lab_to_rgb():
    lab = rgb_to_lab(torch.rand(1, 3, 4, 4, dtype=torch.float64) * 0.8 + 0.1).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: lab_to_rgb(x, clip=False), (lab,))


def test_network_scaling_round_trips():
    lightness = torch.tensor([0.0, 50.0, 100.0])
    assert torch.allclose(lightness_to_input(lightness), torch.tensor([-1.0, 0.0, 1.0]))
    assert torch.allclose(input_to_lightness(lightness_to_input(lightness)), lightness)
    ab = torch.tensor([-110.0, 0.0, 55.0])
    assert torch.allclose(ab_to_target(ab), torch.tensor([-1.0, 0.0, 0.5]))
    assert torch.allclose(target_to_ab(ab_to_target(ab)), ab)


@pytest.mark.parametrize("bad_shape", [(3, 4), (2, 4, 4), (1, 4, 4, 4)])
def test_rejects_wrong_channel_count(bad_shape):
    with pytest.raises(ValueError, match="3, H, W"):
        rgb_to_lab(torch.rand(bad_shape))


def test_keep_lightness_conversion_preserves_lightness_out_of_gamut():
    rng = np.random.default_rng(3)
    lab = torch.from_numpy(
        np.stack(
            [rng.random((20, 20)) * 100, rng.random((20, 20)) * 220 - 110, rng.random((20, 20)) * 220 - 110]
        )
    )
    rgb = lab_to_rgb_keep_lightness(lab)
    assert rgb.min() >= 0.0
    assert rgb.max() <= 1.0
    assert (rgb_to_lab(rgb)[0] - lab[0]).abs().max() < 0.5


def test_keep_lightness_conversion_keeps_in_gamut_colours():
    rgb = torch.rand(3, 16, 16, dtype=torch.float64) * 0.9 + 0.05
    assert torch.allclose(lab_to_rgb_keep_lightness(rgb_to_lab(rgb)), rgb, atol=1e-6)


def test_keep_lightness_conversion_keeps_hue():
    lab = torch.tensor([50.0, 100.0, -100.0], dtype=torch.float64).view(3, 1, 1)
    fitted = rgb_to_lab(lab_to_rgb_keep_lightness(lab))
    assert torch.atan2(fitted[2], fitted[1]).item() == pytest.approx(-math.pi / 4, abs=0.05)
