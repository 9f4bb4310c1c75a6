"""Colourizing photos with a trained generator (whole-image mode)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from engine.color import lab_to_rgb_keep_lightness, lightness_to_input, rgb_to_lab, target_to_ab
from engine.devices import pick_device
from engine.imaging import Photo
from engine.modelfile import ModelInfo, load_generator
from engine.models import INPUT_SIZE

log = logging.getLogger(__name__)

MAX_STRENGTH = 1.5


class Colorizer:
    """A loaded generator that turns photos into colour photos.

    Args:
        model_path: a ColorApp ``.safetensors`` model file.
        device: "auto" (CUDA, then MPS, then CPU) or a torch device string.
    """

    def __init__(self, model_path: str | Path, device: str = "auto") -> None:
        self.model_path = Path(model_path)
        self.model, self.info = load_generator(self.model_path)
        self._device = pick_device(device)
        # Half precision only on CUDA, where it is fast and well supported.
        self._dtype = torch.float16 if self._device.type == "cuda" else torch.float32
        self.model.to(self._device, self._dtype).eval()

    @property
    def device(self) -> str:
        return str(self._device)

    @property
    def model_info(self) -> ModelInfo:
        return self.info

    @torch.inference_mode()
    def predict_ab(self, l_input: torch.Tensor) -> torch.Tensor:
        """Predict ab/110 (N, 2, 256, 256) for network input L/50 - 1 (N, 1, 256, 256)."""
        output = self.model(l_input.to(self._device, self._dtype))
        ab = output[0] if isinstance(output, tuple) else output
        return ab.float()

    @torch.inference_mode()
    def colorize(self, photo: Photo, strength: float = 1.0) -> Photo:
        """Return a colour version of ``photo`` at its full resolution, alpha kept.

        The photo's own L* is kept pixel for pixel, and any colour it has (a sepia
        tint, say) is discarded. The predicted ab is upsampled to full size and
        scaled by ``strength`` (0 to 1.5).
        """
        if not 0.0 <= strength <= MAX_STRENGTH:
            raise ValueError(f"strength must be between 0 and {MAX_STRENGTH}, got {strength}")
        rgb = torch.from_numpy(np.ascontiguousarray(photo.rgb)).permute(2, 0, 1)[None]
        lightness = rgb_to_lab(rgb.float())[:, :1]
        height, width = lightness.shape[-2:]

        small = F.interpolate(
            lightness, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False
        )
        ab = target_to_ab(self.predict_ab(lightness_to_input(small))).cpu()
        ab = F.interpolate(ab, size=(height, width), mode="bilinear", align_corners=False)

        lab = torch.cat((lightness, ab * strength), dim=1)
        out = lab_to_rgb_keep_lightness(lab)[0].permute(1, 2, 0).numpy()
        log.debug("colourized %s (%dx%d) with %s", photo.source, width, height, self.info.name)
        return photo.with_rgb(out)


__all__ = ["Colorizer"]
