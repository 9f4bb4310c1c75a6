"""PatchGAN discriminator (pix2pix, 70x70 receptive field) and its WGAN-GP critic form."""

from __future__ import annotations

import torch
from torch import nn


class PatchDiscriminator(nn.Module):
    """Score (L, ab) pairs, (N, 3, 256, 256), as a (N, 1, 30, 30) map of patch logits.

    Args:
        width: channels of the first block; 64 is the pix2pix size (2,765,569 parameters).
        batch_norm: True for the pix2pix discriminator; False for the WGAN-GP critic,
            where per-sample gradient penalties are invalid under batch statistics.
    """

    def __init__(self, width: int = 64, batch_norm: bool = True) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be a positive integer, got {width}")
        self.width = width
        self.batch_norm = batch_norm

        def block(in_ch: int, out_ch: int, stride: int, norm: bool) -> list[nn.Module]:
            # NOTE: without BatchNorm the convolutions keep a bias, which BatchNorm would
            # make redundant. Saccaro (2023) does not say whether its critic has one.
            layers: list[nn.Module] = [
                nn.Conv2d(in_ch, out_ch, kernel_size=4, stride=stride, padding=1, bias=not norm)
            ]
            if norm:
                layers.append(nn.BatchNorm2d(out_ch))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        self.layers = nn.Sequential(
            nn.Conv2d(3, width, kernel_size=4, stride=2, padding=1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            *block(width, 2 * width, stride=2, norm=batch_norm),
            *block(2 * width, 4 * width, stride=2, norm=batch_norm),
            *block(4 * width, 8 * width, stride=1, norm=batch_norm),
            nn.Conv2d(8 * width, 1, kernel_size=4, stride=1, padding=1),
        )

    def forward(self, lightness: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
        """Return patch scores for L (N, 1, H, W) in [-1, 1] and ab (N, 2, H, W) in [-1, 1]."""
        return self.layers(torch.cat((lightness, ab), dim=1))
