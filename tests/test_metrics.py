import numpy as np
import pytest
import scipy.linalg
import torch
from PIL import Image
from skimage.color import rgb2lab
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from engine.color import rgb_to_lab
from engine.evaluation import paper_scale
from engine.fid import FeatureStatistics, frechet_distance, psd_sqrt
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


# The "paper" protocol of engine.evaluation: Lab scaled to [0, 1], checked against scikit-image.


def _paper_scaled_reference(rgb):
    lab = rgb2lab(rgb)
    scaled = np.empty_like(lab)
    scaled[..., 0] = lab[..., 0] / 100.0
    scaled[..., 1:] = (lab[..., 1:] / 110.0 + 1.0) / 2.0
    return np.clip(scaled, 0.0, 1.0)


def test_paper_scale_matches_skimage_lab():
    truth, _ = _pair()
    ours = paper_scale(rgb_to_lab(_tensor(truth)))[0].permute(1, 2, 0).numpy()
    # 1e-3 Lab units of conversion error is 1e-5 after scaling.
    np.testing.assert_allclose(ours, _paper_scaled_reference(truth), atol=2e-5)


def test_paper_protocol_psnr_and_ssim_match_skimage():
    truth, noisy = _pair()
    truth_lab = rgb_to_lab(_tensor(truth))
    # The prediction keeps the truth's L and takes its ab from the noisy photo.
    prediction_lab = torch.cat((truth_lab[:, :1], rgb_to_lab(_tensor(noisy))[:, 1:]), dim=1)
    ours_truth, ours_prediction = paper_scale(truth_lab), paper_scale(prediction_lab)

    reference_truth = _paper_scaled_reference(truth)
    reference_lab = rgb2lab(noisy)
    reference_lab[..., 0] = rgb2lab(truth)[..., 0]
    reference_prediction = np.clip(
        np.concatenate((reference_lab[..., :1] / 100.0, (reference_lab[..., 1:] / 110.0 + 1.0) / 2.0), axis=-1),
        0.0, 1.0,
    )
    expected_psnr = peak_signal_noise_ratio(reference_truth, reference_prediction, data_range=1.0)
    expected_ssim = structural_similarity(
        reference_truth, reference_prediction, data_range=1.0, channel_axis=-1, gaussian_weights=True,
        sigma=1.5, use_sample_covariance=False,
    )
    assert psnr(ours_prediction, ours_truth).item() == pytest.approx(expected_psnr, abs=1e-3)
    assert ssim(ours_prediction, ours_truth).item() == pytest.approx(expected_ssim, abs=1e-4)


# The Fréchet distance of FID, on Gaussians whose distance is known.


def _random_covariance(rng, dim, rank=None):
    factor = rng.normal(size=(dim, rank or dim))
    return factor @ factor.T / (rank or dim)


def _scipy_frechet(mean1, cov1, mean2, cov2):
    root = scipy.linalg.sqrtm(cov1 @ cov2)
    difference = mean1 - mean2
    return float(difference @ difference + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(root.real))


def test_frechet_identical_statistics_is_zero():
    rng = np.random.default_rng(1)
    mean, covariance = rng.normal(size=16), _random_covariance(rng, 16)
    assert frechet_distance(mean, covariance, mean, covariance) == pytest.approx(0.0, abs=1e-9)


def test_frechet_diagonal_closed_form():
    rng = np.random.default_rng(2)
    mean1, mean2 = rng.normal(size=8), rng.normal(size=8)
    variances1, variances2 = rng.uniform(0.1, 3.0, size=8), rng.uniform(0.1, 3.0, size=8)
    expected = np.sum((mean1 - mean2) ** 2) + np.sum(variances1 + variances2 - 2.0 * np.sqrt(variances1 * variances2))
    distance = frechet_distance(mean1, np.diag(variances1), mean2, np.diag(variances2))
    assert distance == pytest.approx(expected, rel=1e-10)


def test_frechet_rotated_matches_scipy_sqrtm():
    rng = np.random.default_rng(3)
    rotation, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    cov1 = rotation @ np.diag(rng.uniform(0.1, 4.0, size=12)) @ rotation.T
    cov2 = _random_covariance(rng, 12)
    mean1, mean2 = rng.normal(size=12), rng.normal(size=12)
    expected = _scipy_frechet(mean1, cov1, mean2, cov2)
    assert frechet_distance(mean1, cov1, mean2, cov2) == pytest.approx(expected, rel=1e-8)


def test_frechet_rank_deficient_matches_scipy_sqrtm():
    # Fewer samples than dimensions, as when FID runs on a few photos.
    rng = np.random.default_rng(4)
    cov1, cov2 = _random_covariance(rng, 20, rank=5), _random_covariance(rng, 20, rank=7)
    mean1, mean2 = rng.normal(size=20), rng.normal(size=20)
    expected = _scipy_frechet(mean1, cov1, mean2, cov2)
    assert frechet_distance(mean1, cov1, mean2, cov2) == pytest.approx(expected, rel=1e-6)


def test_frechet_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="covariances of shape"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


def test_feature_statistics_match_numpy_over_batches():
    rng = np.random.default_rng(5)
    features = rng.normal(size=(37, 6)) * rng.uniform(0.5, 5.0, size=6) + 10.0
    statistics = FeatureStatistics(6)
    for start in range(0, 37, 16):
        statistics.update(torch.from_numpy(features[start:start + 16]).float())
    assert statistics.count == 37
    np.testing.assert_allclose(statistics.mean(), features.astype(np.float32).mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(statistics.covariance(), np.cov(features.astype(np.float32), rowvar=False),
                               rtol=1e-6, atol=1e-9)


def test_feature_statistics_need_two_vectors():
    statistics = FeatureStatistics(4)
    statistics.update(torch.ones(1, 4))
    with pytest.raises(ValueError, match="at least 2"):
        statistics.covariance()


def test_frechet_with_given_root_matches():
    rng = np.random.default_rng(6)
    cov1, cov2 = _random_covariance(rng, 10), _random_covariance(rng, 10, rank=4)
    mean1, mean2 = rng.normal(size=10), rng.normal(size=10)
    root = psd_sqrt(cov1)
    np.testing.assert_allclose(root @ root, cov1, atol=1e-10)
    assert frechet_distance(mean1, cov1, mean2, cov2, root1=root) == pytest.approx(
        frechet_distance(mean1, cov1, mean2, cov2), rel=1e-12)
