"""Convolution blocks shared by the U-Net generators."""

from __future__ import annotations

from torch import nn


def down_block(in_channels: int, out_channels: int, batch_norm: bool = True) -> nn.Sequential:
    """Conv 4x4 stride 2 (halves H and W), optional BatchNorm, LeakyReLU(0.2)."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False)
    ]
    if batch_norm:
        layers.append(nn.BatchNorm2d(out_channels))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return nn.Sequential(*layers)


def up_block(in_channels: int, out_channels: int, dropout: bool) -> nn.Sequential:
    """ConvTranspose 4x4 stride 2 (doubles H and W), BatchNorm, optional Dropout(0.5), ReLU."""
    layers: list[nn.Module] = [
        nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
    ]
    if dropout:
        layers.append(nn.Dropout(0.5))
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)
