"""The pix2pix U-Net generator (Isola et al., 2017) for L -> ab colourization."""

from __future__ import annotations

import torch
from torch import nn

from engine.models.blocks import down_block, up_block

INPUT_SIZE = 256
"""Side of the square L input that every generator takes."""


def check_training_batch(module: nn.Module, x: torch.Tensor) -> None:
    """Raise when a training-mode forward pass would hit BatchNorm on a 1x1 map with batch 1."""
    if module.training and x.shape[0] < 2:
        raise ValueError(
            "training mode needs a batch of at least 2: the innermost 1x1 block has "
            "BatchNorm, which cannot normalise a single value per channel; "
            "call .eval() for inference or raise the batch size"
        )


def check_input(x: torch.Tensor, exact_size: bool = False) -> None:
    """Raise unless ``x`` is an (N, 1, H, W) L batch with H and W positive multiples of 256.

    The eight stride-2 blocks need a side divisible by 256. With ``exact_size`` the
    input must be exactly 256x256, as the dense layers of the global branch require.
    """
    if exact_size:
        if x.dim() != 4 or x.shape[1] != 1 or x.shape[2:] != (INPUT_SIZE, INPUT_SIZE):
            raise ValueError(
                f"expected an L input of shape (N, 1, {INPUT_SIZE}, {INPUT_SIZE}), got {tuple(x.shape)}"
            )
        return
    if (
        x.dim() != 4
        or x.shape[1] != 1
        or any(side < INPUT_SIZE or side % INPUT_SIZE for side in x.shape[2:])
    ):
        raise ValueError(
            f"expected an L input of shape (N, 1, H, W) with H and W multiples of {INPUT_SIZE}, "
            f"got {tuple(x.shape)}"
        )


class UNetEncoder(nn.Module):
    """Eight stride-2 blocks, 256 -> 1 pixel; channels w, 2w, 4w, 8w, 8w, 8w, 8w, 8w."""

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        channels = [width, 2 * width, 4 * width] + [8 * width] * 5
        blocks = []
        in_channels = 1
        for index, out_channels in enumerate(channels):
            # The outermost block has no BatchNorm; the innermost keeps it.
            blocks.append(down_block(in_channels, out_channels, batch_norm=index > 0))
            in_channels = out_channels
        self.blocks = nn.ModuleList(blocks)
        self.channels = channels

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features


class UNetDecoder(nn.Module):
    """Seven up blocks with skip concatenation, then ConvTranspose to 2 channels and tanh.

    ``extra_bottleneck_channels`` widens the first block's input for a fused global vector.
    """

    def __init__(self, width: int = 64, extra_bottleneck_channels: int = 0) -> None:
        super().__init__()
        encoder_channels = [width, 2 * width, 4 * width] + [8 * width] * 5
        skip_channels = encoder_channels[-2::-1]  # e7 ... e1
        out_channels = [8 * width] * 4 + [4 * width, 2 * width, width]
        blocks = []
        in_channels = encoder_channels[-1] + extra_bottleneck_channels
        for index, (out_ch, skip_ch) in enumerate(zip(out_channels, skip_channels)):
            blocks.append(up_block(in_channels, out_ch, dropout=index < 3))
            in_channels = out_ch + skip_ch
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Sequential(
            nn.ConvTranspose2d(in_channels, 2, kernel_size=4, stride=2, padding=1),
            nn.Tanh(),
        )

    def forward(self, bottleneck: torch.Tensor, skips: list[torch.Tensor]) -> torch.Tensor:
        """Decode from the (N, C, 1, 1) bottleneck; ``skips`` are e7 ... e1."""
        x = bottleneck
        for block, skip in zip(self.blocks, skips):
            x = torch.cat((block(x), skip), dim=1)
        return self.head(x)


class UNetGenerator(nn.Module):
    """pix2pix U-Net: (N, 1, 256, 256) L/50 - 1 -> (N, 2, 256, 256) ab/110 in [-1, 1].

    It is fully convolutional, so any side that is a multiple of 256 works too
    (a 512x512 input gives a 2x2 bottleneck and a 512x512 output).

    Args:
        width: channels of the first encoder block; 64 is the paper's size (54,410,882
            parameters), 16 is the compact model that ships with the app.
    """

    architecture = "unet"

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be a positive integer, got {width}")
        self.width = width
        self.encoder = UNetEncoder(width)
        self.decoder = UNetDecoder(width)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_input(x)
        check_training_batch(self, x)

        features = self.encoder(x)

        return self.decoder(features[-1], features[-2::-1])
