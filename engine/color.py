"""sRGB <-> CIE L*a*b* (D65) conversions in torch, and the network's value scaling.

The formulas follow the sRGB standard (IEC 61966-2-1) and the CIE 1976 L*a*b*
definition with the D65 white point, the same constants that scikit-image's
``rgb2lab``/``lab2rgb`` use, so that results agree with it to float precision.
"""

from __future__ import annotations

import torch

# sRGB primaries to CIE XYZ (D65), as in IEC 61966-2-1.
_XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
# D65 reference white for the CIE 1931 2-degree observer.
_WHITE_D65 = (0.95047, 1.0, 1.08883)

# CIE constants: (6/29)^3 and the slope of the linear segment near black.
_EPSILON = 0.008856
_KAPPA_SLOPE = 7.787

AB_SCALE = 110.0
"""Network ab output in [-1, 1] (tanh) times this gives a* and b*."""


def _check_channels(image: torch.Tensor, name: str) -> None:
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(image).__name__}")
    if image.dim() < 3 or image.shape[-3] != 3:
        raise ValueError(f"{name} must have shape (*, 3, H, W), got {tuple(image.shape)}")


def _matrix(values, like: torch.Tensor) -> torch.Tensor:
    return torch.tensor(values, dtype=like.dtype, device=like.device)


def _srgb_to_linear(rgb: torch.Tensor) -> torch.Tensor:
    high = ((rgb.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4
    return torch.where(rgb > 0.04045, high, rgb / 12.92)


def _linear_to_srgb(linear: torch.Tensor) -> torch.Tensor:
    high = 1.055 * linear.clamp(min=0.0031308) ** (1.0 / 2.4) - 0.055
    return torch.where(linear > 0.0031308, high, linear * 12.92)


def rgb_to_lab(rgb: torch.Tensor) -> torch.Tensor:
    """Convert sRGB in [0, 1], shape (*, 3, H, W), to L*a*b* (D65).

    Returns L in [0, 100] and a, b roughly in [-110, 110], same shape.
    """
    _check_channels(rgb, "rgb")
    linear = _srgb_to_linear(rgb)
    xyz = torch.einsum("ij,...jhw->...ihw", _matrix(_XYZ_FROM_RGB, rgb), linear)
    xyz = xyz / _matrix(_WHITE_D65, rgb).view(3, 1, 1)

    cube_root = xyz.clamp(min=_EPSILON) ** (1.0 / 3.0)
    f = torch.where(xyz > _EPSILON, cube_root, _KAPPA_SLOPE * xyz + 16.0 / 116.0)
    fx, fy, fz = f.unbind(dim=-3)

    lightness = 116.0 * fy - 16.0
    a = 500.0 * (fx - fy)
    b = 200.0 * (fy - fz)
    return torch.stack((lightness, a, b), dim=-3)


def lab_to_rgb(lab: torch.Tensor, clip: bool = True) -> torch.Tensor:
    """Convert L*a*b* (D65), shape (*, 3, H, W), to sRGB.

    With ``clip`` (the default) out-of-gamut colours are clipped into [0, 1].
    """
    _check_channels(lab, "lab")
    lightness, a, b = lab.unbind(dim=-3)
    fy = (lightness + 16.0) / 116.0
    fx = a / 500.0 + fy
    # Negative z cannot be represented; clamp as scikit-image does.
    fz = (fy - b / 200.0).clamp(min=0.0)
    f = torch.stack((fx, fy, fz), dim=-3)

    linear_segment = (f - 16.0 / 116.0) / _KAPPA_SLOPE
    xyz = torch.where(f > 0.2068966, f**3, linear_segment)
    xyz = xyz * _matrix(_WHITE_D65, lab).view(3, 1, 1)

    rgb_from_xyz = torch.linalg.inv(_matrix(_XYZ_FROM_RGB, lab).double()).to(lab.dtype)
    linear = torch.einsum("ij,...jhw->...ihw", rgb_from_xyz, xyz)
    rgb = _linear_to_srgb(linear)
    return rgb.clamp(0.0, 1.0) if clip else rgb


def rgb_to_lightness(rgb: torch.Tensor) -> torch.Tensor:
    """Return L* in [0, 100], shape (*, 1, H, W), of sRGB (*, 3, H, W) in [0, 1]."""
    return rgb_to_lab(rgb)[..., :1, :, :]


def lightness_to_input(lightness: torch.Tensor) -> torch.Tensor:
    """Scale L* in [0, 100] to the network input L/50 - 1 in [-1, 1]."""
    return lightness / 50.0 - 1.0


def input_to_lightness(l_input: torch.Tensor) -> torch.Tensor:
    """Invert :func:`lightness_to_input`."""
    return (l_input + 1.0) * 50.0


def ab_to_target(ab: torch.Tensor) -> torch.Tensor:
    """Scale a*, b* to the network's output range, ab / 110."""
    return ab / AB_SCALE


def target_to_ab(ab_output: torch.Tensor) -> torch.Tensor:
    """Scale the network's tanh output in [-1, 1] back to a*, b* units."""
    return ab_output * AB_SCALE


def _out_of_gamut(rgb: torch.Tensor, tolerance: float) -> torch.Tensor:
    return ((rgb < -tolerance) | (rgb > 1.0 + tolerance)).any(dim=-3)


def lab_to_rgb_keep_lightness(lab: torch.Tensor, iterations: int = 12, tolerance: float = 1e-3) -> torch.Tensor:
    """Convert L*a*b* (*, 3, H, W) to sRGB in [0, 1], bringing out-of-gamut colours in by chroma.

    Plain clipping of RGB shifts lightness by several L* units on saturated colours.
    Here each out-of-gamut pixel keeps its L* and hue, and its chroma is scaled down
    by bisection until it fits (a neutral grey of any L* in [0, 100] always does).
    """
    _check_channels(lab, "lab")
    rgb = lab_to_rgb(lab, clip=False)
    outside = _out_of_gamut(rgb, tolerance)
    if not outside.any():
        return rgb.clamp(0.0, 1.0)

    # Work on the out-of-gamut pixels only, as a (3, P, 1) image.
    channels_last = lab.movedim(-3, -1)
    pixels = channels_last[outside].T.unsqueeze(-1)
    low = torch.zeros(pixels.shape[1], 1, dtype=lab.dtype, device=lab.device)
    high = torch.ones_like(low)
    for _ in range(iterations):
        middle = (low + high) / 2
        trial = torch.cat((pixels[:1], pixels[1:] * middle), dim=0)
        fits = ~_out_of_gamut(lab_to_rgb(trial, clip=False), tolerance)
        low = torch.where(fits, middle, low)
        high = torch.where(fits, high, middle)
    fitted = lab_to_rgb(torch.cat((pixels[:1], pixels[1:] * low), dim=0), clip=False)

    result = rgb.movedim(-3, -1).clone()
    result[outside] = fitted.squeeze(-1).T
    return result.movedim(-1, -3).clamp(0.0, 1.0)
