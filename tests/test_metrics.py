import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from engine.metrics import colourfulness, psnr, ssim
from tests.helpers import real_photos


def _pair():
    with Image.open(real_photos()[0]) as image:
        truth = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0
    rng = np.random.default_rng(0)
    noisy = np.clip(truth + rng.normal(0, 0.05, truth.shape), 0, 1)
    return truth, noisy


def _tensor(array):
    return torch.from_numpy(array).permute(2, 0, 1)[None]


def test_psnr_matches_skimage():
    truth, noisy = _pair()
    expected = peak_signal_noise_ratio(truth, noisy, data_range=1.0)
    assert psnr(_tensor(noisy), _tensor(truth)).item() == pytest.approx(expected, abs=1e-6)


def test_ssim_matches_skimage():
    truth, noisy = _pair()
    expected = structural_similarity(
        truth, noisy, data_range=1.0, channel_axis=-1, gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False,
    )
    assert ssim(_tensor(noisy), _tensor(truth)).item() == pytest.approx(expected, abs=1e-4)


def test_ssim_of_identical_images_is_one():
    truth, _ = _pair()
    assert ssim(_tensor(truth), _tensor(truth)).item() == pytest.approx(1.0, abs=1e-9)


def test_ssim_batches_independently():
    truth, noisy = _pair()
    batch = torch.cat((_tensor(truth), _tensor(noisy)))
    scores = ssim(batch, torch.cat((_tensor(truth), _tensor(truth))))
    assert scores[0].item() == pytest.approx(1.0)
    assert scores[1].item() < 0.99


def test_ssim_rejects_tiny_images():
    with pytest.raises(ValueError, match="at least 11"):
        ssim(torch.zeros(1, 3, 8, 8), torch.zeros(1, 3, 8, 8))


def test_colourfulness_of_gray_is_zero():
    gray = torch.full((1, 3, 16, 16), 0.4)
    assert colourfulness(gray).item() == pytest.approx(0.0, abs=1e-9)


def test_colourfulness_hand_computed():
    # Half pure red, half pure green: rg is +255 or -255, yb is 127.5 everywhere.
    image = torch.zeros(1, 3, 2, 2, dtype=torch.float64)
    image[0, 0, :, 0] = 1.0
    image[0, 1, :, 1] = 1.0
    expected = 255.0 + 0.3 * 127.5
    assert colourfulness(image).item() == pytest.approx(expected)


def test_colourfulness_orders_photo_above_its_grayscale():
    truth, _ = _pair()
    gray = np.repeat(truth.mean(axis=2, keepdims=True), 3, axis=2)
    assert colourfulness(_tensor(truth)).item() > 10 * colourfulness(_tensor(gray)).item() + 1
