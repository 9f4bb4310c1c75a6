"""The colourization generators and the discriminator."""

from __future__ import annotations

from torch import nn

from engine.modelinfo import ARCHITECTURES
from engine.models.classification_unet import ClassificationUNetGenerator
from engine.models.patchgan import PatchDiscriminator
from engine.models.unet import INPUT_SIZE, UNetGenerator


def build_generator(architecture: str, width: int, num_classes: int | None = None) -> nn.Module:
    """Build an untrained generator by architecture name ("unet" or "unet-class")."""
    if architecture == "unet":
        return UNetGenerator(width)
    if architecture == "unet-class":
        if num_classes is None:
            raise ValueError("architecture 'unet-class' needs num_classes")
        return ClassificationUNetGenerator(width, num_classes)
    raise ValueError(f"unknown architecture {architecture!r}; expected one of {ARCHITECTURES}")


__all__ = [
    "ARCHITECTURES",
    "INPUT_SIZE",
    "ClassificationUNetGenerator",
    "PatchDiscriminator",
    "UNetGenerator",
    "build_generator",
]
