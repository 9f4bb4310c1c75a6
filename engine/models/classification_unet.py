"""U-Net generator with a scene-classification branch, after ChromaGAN (Vitoria et al., 2020)."""

from __future__ import annotations

import torch
from torch import nn

from engine.models.blocks import down_block
from engine.models.unet import UNetDecoder, UNetEncoder, check_input, check_training_batch

TAP_BLOCK = 2
"""Index of the encoder block (4w channels at 32x32) that feeds the global branch."""


class GlobalBranch(nn.Module):
    """Three more stride-2 blocks on the 32x32 tap, down to (N, 8w, 4, 4), flattened."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.blocks = nn.Sequential(
            down_block(4 * width, 8 * width),
            down_block(8 * width, 8 * width),
            down_block(8 * width, 8 * width),
        )

    def forward(self, tap: torch.Tensor) -> torch.Tensor:
        return torch.flatten(self.blocks(tap), start_dim=1)


class ClassificationUNetGenerator(nn.Module):
    """U-Net generator whose bottleneck is fused with a global scene vector.

    Input (N, 1, 256, 256) L/50 - 1; ``forward`` returns ``(ab, logits)`` with ab
    (N, 2, 256, 256) in [-1, 1] and class logits (N, num_classes).

    Args:
        width: channels of the first encoder block (64 in the paper).
        num_classes: scene classes of the class head (205 for Places205).
    """

    architecture = "unet-class"

    def __init__(self, width: int = 64, num_classes: int = 205) -> None:
        super().__init__()
        if width < 1:
            raise ValueError(f"width must be a positive integer, got {width}")
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}")
        self.width = width
        self.num_classes = num_classes

        # Dense widths are the paper's 2048/1024/512 scaled by width/64.
        scale = width / 64
        flat = 16 * 8 * width
        hidden_1, hidden_2, fused = (max(1, round(n * scale)) for n in (2048, 1024, 512))
        fusion_hidden = max(1, round(1024 * scale))

        self.encoder = UNetEncoder(width)
        self.global_branch = GlobalBranch(width)
        self.class_head = nn.Sequential(
            nn.Linear(flat, hidden_1),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(hidden_1, hidden_2),
            nn.ReLU(inplace=True),
            nn.Dropout(0.5),
            nn.Linear(hidden_2, num_classes),
        )
        self.fusion = nn.Sequential(
            nn.Linear(flat, fusion_hidden),
            nn.ReLU(inplace=True),
            nn.Linear(fusion_hidden, fused),
            nn.ReLU(inplace=True),
        )
        self.decoder = UNetDecoder(width, extra_bottleneck_channels=fused)

    def global_features(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(fusion_vector, logits)`` of a (N, 1, 256, 256) L input."""
        check_input(x, exact_size=True)
        features = self.encoder(x)
        flat = self.global_branch(features[TAP_BLOCK])
        return self.fusion(flat), self.class_head(flat)

    def forward(
        self, x: torch.Tensor, fusion_vector: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Colourize ``x``; a given ``fusion_vector`` (N, fused) replaces the one from ``x``.

        Tiled inference passes the whole image's fusion vector so that every tile
        shares one scene context; the logits are then ``None``. With a given vector
        the input may be any multiple of 256 on each side. Without one it must be
        256x256, because the global branch ends in dense layers.
        """
        check_input(x, exact_size=fusion_vector is None)
        check_training_batch(self, x)

        features = self.encoder(x)

        logits = None
        if fusion_vector is None:
            flat = self.global_branch(features[TAP_BLOCK])
            fusion_vector = self.fusion(flat)
            logits = self.class_head(flat)

        bottleneck = features[-1]
        broadcast = fusion_vector[:, :, None, None].expand(-1, -1, *bottleneck.shape[2:])
        bottleneck = torch.cat((bottleneck, broadcast), dim=1)
        return self.decoder(bottleneck, features[-2::-1]), logits
