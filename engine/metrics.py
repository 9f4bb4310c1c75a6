"""Image quality measures: PSNR, SSIM and colourfulness, in torch on batches."""

from __future__ import annotations

import torch
import torch.nn.functional as F

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def psnr(prediction: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-image PSNR in dB of (N, C, H, W) images; returns (N,)."""
    mse = (prediction - target).pow(2).flatten(1).mean(dim=1).clamp(min=1e-12)
    return 10.0 * torch.log10(data_range**2 / mse)


def _gaussian_window(channels: int, like: torch.Tensor) -> torch.Tensor:
    coords = torch.arange(SSIM_WINDOW, dtype=like.dtype, device=like.device) - (SSIM_WINDOW - 1) / 2
    kernel = torch.exp(-(coords**2) / (2 * SSIM_SIGMA**2))
    kernel = kernel / kernel.sum()
    window = kernel[:, None] * kernel[None, :]
    return window.expand(channels, 1, SSIM_WINDOW, SSIM_WINDOW).contiguous()


def ssim(prediction: torch.Tensor, target: torch.Tensor, data_range: float = 1.0) -> torch.Tensor:
    """Per-image SSIM (Wang et al., 2004) of (N, C, H, W) images; returns (N,).

    An 11x11 Gaussian window (sigma 1.5) over the valid region, population
    covariances, averaged over channels: the settings of scikit-image's
    ``structural_similarity(..., gaussian_weights=True, use_sample_covariance=False)``.
    """
    if prediction.shape != target.shape:
        raise ValueError(f"shapes differ: {tuple(prediction.shape)} and {tuple(target.shape)}")
    if min(prediction.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"images must be at least {SSIM_WINDOW} pixels on each side for SSIM")
    channels = prediction.shape[1]
    window = _gaussian_window(channels, prediction)

    def blur(x: torch.Tensor) -> torch.Tensor:
        return F.conv2d(x, window, groups=channels)

    mean_x, mean_y = blur(prediction), blur(target)
    var_x = blur(prediction * prediction) - mean_x**2
    var_y = blur(target * target) - mean_y**2
    covariance = blur(prediction * target) - mean_x * mean_y

    c1 = (SSIM_K1 * data_range) ** 2
    c2 = (SSIM_K2 * data_range) ** 2
    numerator = (2 * mean_x * mean_y + c1) * (2 * covariance + c2)
    denominator = (mean_x**2 + mean_y**2 + c1) * (var_x + var_y + c2)
    return (numerator / denominator).flatten(1).mean(dim=1)


def colourfulness(rgb: torch.Tensor) -> torch.Tensor:
    """Hasler-Suesstrunk (2003) colourfulness of (N, 3, H, W) sRGB in [0, 1], on the 0-255 scale."""
    red, green, blue = (rgb * 255.0).unbind(dim=1)
    rg = (red - green).flatten(1)
    yb = (0.5 * (red + green) - blue).flatten(1)
    spread = torch.sqrt(rg.var(dim=1, unbiased=False) + yb.var(dim=1, unbiased=False))
    mean = torch.sqrt(rg.mean(dim=1) ** 2 + yb.mean(dim=1) ** 2)
    return spread + 0.3 * mean
