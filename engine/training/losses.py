"""Adversarial, reconstruction and gradient-penalty losses for the colourization GANs."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bce_to_target(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Binary cross-entropy of patch logits against a constant target (label smoothing aware)."""
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def reconstruction_loss(kind: str, prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean L1 ("l1") or squared ("l2") error between ab tensors."""
    if kind == "l1":
        return F.l1_loss(prediction, target)
    if kind == "l2":
        return F.mse_loss(prediction, target)
    raise ValueError(f"unknown reconstruction loss {kind!r}")


def gradient_penalty(
    critic, lightness: torch.Tensor, real_ab: torch.Tensor, fake_ab: torch.Tensor
) -> torch.Tensor:
    """WGAN-GP penalty E[(||grad_ab critic(L, ab_hat)||_2 - 1)^2] (Gulrajani et al., 2017).

    ``ab_hat`` interpolates real and fake ab with one uniform weight per sample. The
    L channel is kept as it is, so the gradient is taken with respect to ab only.
    """
    weight = torch.rand(real_ab.shape[0], 1, 1, 1, device=real_ab.device, dtype=real_ab.dtype)
    interpolated = (weight * real_ab + (1 - weight) * fake_ab.detach()).requires_grad_(True)
    scores = critic(lightness, interpolated)
    (gradients,) = torch.autograd.grad(scores.sum(), interpolated, create_graph=True)
    norms = gradients.flatten(start_dim=1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()
