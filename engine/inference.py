"""Colourizing photos with a trained generator, whole-image or tiled.

Whole-image mode resizes L* to a square of the render size, predicts ab once and
upsamples it to the photo's size. Tiled mode cuts L* at a working resolution into
overlapping 256x256 tiles, predicts them in batches and blends them. Each tile's
coarse colour is taken from the whole-image prediction, so tiles cannot disagree.
Either way the photo's own full-resolution L* is kept pixel for pixel.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from engine.color import lightness_to_input, target_to_ab
from engine.devices import pick_device
from engine.errors import CancelledError, InferenceError
from engine.imaging import Photo
from engine.modelfile import ModelInfo, load_generator
from engine.models import INPUT_SIZE
from engine.strips import combine_lab, lightness_and_tint, strip_bounds
from engine.tiling import TILE_SIZE, TileBlender, match_low_frequencies, tile_grid

log = logging.getLogger(__name__)

MAX_STRENGTH = 1.5
MAX_RENDER_SIZE = 2048
MAX_WORKING_SIZE = 8192
MAX_TILE_OVERLAP = TILE_SIZE // 2
DEFAULT_TILE_BATCH = 8
LOW_PASS_REFERENCE_PIXELS = 2.0
"""Gaussian sigma of the chroma low-pass in tiled mode, in pixels of the whole-image prediction."""


@dataclass(frozen=True)
class RenderSettings:
    """Render settings of one colourization, validated on creation.

    Attributes:
        render_size: side of the square the whole image is rendered at, a multiple of
            256. Sizes above 256 give finer chroma. A classification generator
            still takes its global branch from the 256x256 image.
        strength: scale of the predicted ab, 0 (grey) to 1.5; 1 is as predicted.
        keep_tone: add the photo's own mean a*, b* (the overall tint of a sepia or
            toned scan) to the predicted ab, so the result keeps that cast.
        tiled: predict overlapping 256x256 tiles of L at ``working_size`` instead of
            only the whole image.
        working_size: long side, in pixels, that L is resized to in tiled mode
            (up or down).
        tile_overlap: pixels that neighbouring tiles share at the working
            resolution, 0 to 128.
    """

    render_size: int = INPUT_SIZE
    strength: float = 1.0
    keep_tone: bool = False
    tiled: bool = False
    working_size: int = 1024
    tile_overlap: int = 64

    def __post_init__(self) -> None:
        if (
            not isinstance(self.render_size, int)
            or self.render_size % INPUT_SIZE
            or not INPUT_SIZE <= self.render_size <= MAX_RENDER_SIZE
        ):
            raise ValueError(
                f"render_size must be a multiple of {INPUT_SIZE} from {INPUT_SIZE} to "
                f"{MAX_RENDER_SIZE}, got {self.render_size!r}"
            )
        if not 0.0 <= self.strength <= MAX_STRENGTH:
            raise ValueError(f"strength must be between 0 and {MAX_STRENGTH}, got {self.strength!r}")
        if not isinstance(self.working_size, int) or not TILE_SIZE <= self.working_size <= MAX_WORKING_SIZE:
            raise ValueError(
                f"working_size must be an integer from {TILE_SIZE} to {MAX_WORKING_SIZE} pixels, "
                f"got {self.working_size!r}"
            )
        if not isinstance(self.tile_overlap, int) or not 0 <= self.tile_overlap <= MAX_TILE_OVERLAP:
            raise ValueError(
                f"tile_overlap must be an integer from 0 to {MAX_TILE_OVERLAP} pixels "
                f"(half a tile), got {self.tile_overlap!r}"
            )


def working_shape(height: int, width: int, working_size: int) -> tuple[int, int]:
    """Return (height, width) of a photo scaled so that its long side is ``working_size``."""
    scale = working_size / max(height, width)
    return max(1, round(height * scale)), max(1, round(width * scale))


def _dtype_for(device: torch.device) -> torch.dtype:
    # Half precision only on CUDA, where it is fast and well supported.
    return torch.float16 if device.type == "cuda" else torch.float32


class _Run:
    """State of one ``colorize`` call: device, batch size, callbacks and progress."""

    def __init__(self, colorizer: Colorizer, photo: Photo, total: int, cancel, progress, notify) -> None:
        self.device = colorizer._device
        self.batch_size = colorizer.tile_batch_size
        self.name = photo.source.name if photo.source is not None else "the photo"
        self.total = total
        self.done = 0
        self._cancel = cancel
        self._progress = progress
        self._notify = notify

    def check_cancel(self) -> None:
        if self._cancel is not None and self._cancel():
            log.info("colourizing %s was cancelled at step %d of %d", self.name, self.done, self.total)
            raise CancelledError(f"colourizing {self.name} was cancelled")

    def advance(self, steps: int = 1) -> None:
        self.done += steps
        if self._progress is not None:
            self._progress(self.done, self.total)

    def after_strip(self) -> None:
        self.advance()
        self.check_cancel()

    def warn(self, message: str) -> None:
        log.warning("%s: %s", self.name, message)
        if self._notify is not None:
            self._notify(message)


class Colorizer:
    """A loaded generator that turns photos into colour photos.

    Args:
        model_path: a ColorApp ``.safetensors`` model file.
        device: "auto" (CUDA, then MPS, then CPU) or a torch device string.
        tile_batch_size: tiles per batch in tiled mode. It is halved for the rest of
            this colorizer's life after a GPU out-of-memory error.
    """

    def __init__(self, model_path: str | Path, device: str = "auto", tile_batch_size: int = DEFAULT_TILE_BATCH) -> None:
        if tile_batch_size < 1:
            raise ValueError(f"tile_batch_size must be at least 1, got {tile_batch_size}")
        self.model_path = Path(model_path)
        self.model, self.info = load_generator(self.model_path)
        self._device = pick_device(device)
        self.tile_batch_size = tile_batch_size
        self._model_device: torch.device | None = None
        self._place_model(self._device)

    @property
    def device(self) -> str:
        """Torch device string the model runs on ("cpu", "cuda", "cuda:1", "mps")."""
        return str(self._device)

    @property
    def model_info(self) -> ModelInfo:
        return self.info

    def _place_model(self, device: torch.device) -> None:
        self.model.to(device, _dtype_for(device)).eval()
        self._model_device = device

    def _call_model(
        self, l_input: torch.Tensor, fusion: torch.Tensor | None, device: torch.device
    ) -> torch.Tensor:
        """Run the generator on L/50 - 1 (N, 1, S, S); return ab/110 (N, 2, S, S) float32 on the CPU."""
        dtype = _dtype_for(device)
        l_input = l_input.to(device, dtype)
        if fusion is None:
            output = self.model(l_input)
        else:
            output = self.model(l_input, fusion_vector=fusion.to(device, dtype).expand(l_input.shape[0], -1))
        ab = output[0] if isinstance(output, tuple) else output
        return ab.float().cpu()

    def _call_global_branch(self, l_input: torch.Tensor, device: torch.device) -> torch.Tensor:
        fusion, _ = self.model.global_features(l_input.to(device, _dtype_for(device)))
        return fusion.float().cpu()

    def _recover_from_out_of_memory(self, run: _Run, failed_batch: int, error: torch.OutOfMemoryError) -> None:
        """Halve the batch that failed, or move to the CPU once it was a single input.

        Raises InferenceError when memory runs out on the CPU as well.
        """
        if run.device.type == "cuda":
            torch.cuda.empty_cache()
        if failed_batch > 1:
            run.batch_size = failed_batch // 2
            self.tile_batch_size = run.batch_size
            run.warn(f"out of {run.device} memory; retrying with {run.batch_size} tile(s) per batch")
            return
        if run.device.type != "cpu":
            run.warn(f"out of {run.device} memory even for one input; continuing on the CPU, which is slower")
            run.device = torch.device("cpu")
            self._place_model(run.device)
            return
        raise InferenceError(
            f"{run.name}: out of memory on the CPU ({error}); close other programs or "
            "use a smaller working size or render size"
        ) from error

    def _predict(
        self, run: _Run, l_input: torch.Tensor, fusion: torch.Tensor | None, count_steps: bool
    ) -> torch.Tensor:
        """Predict ab/110 for (N, 1, S, S) network input in batches, with the out-of-memory fallback."""
        outputs = []
        start = 0
        while start < l_input.shape[0]:
            run.check_cancel()
            stop = min(start + run.batch_size, l_input.shape[0])
            try:
                outputs.append(self._call_model(l_input[start:stop], fusion, run.device))
            # NOTE: only CUDA is known to raise OutOfMemoryError; MPS may raise a plain RuntimeError.
            except torch.OutOfMemoryError as error:
                self._recover_from_out_of_memory(run, stop - start, error)
                continue
            if count_steps:
                run.advance(stop - start)
            start = stop
        return torch.cat(outputs)

    def _global_fusion(self, run: _Run, l_input: torch.Tensor) -> torch.Tensor:
        """Return the fusion vector (1, F) of a classification generator for L/50 - 1 (1, 1, 256, 256)."""
        while True:
            run.check_cancel()
            try:
                return self._call_global_branch(l_input, run.device)
            except torch.OutOfMemoryError as error:
                self._recover_from_out_of_memory(run, 1, error)

    @torch.inference_mode()
    def predict_ab(self, l_input: torch.Tensor) -> torch.Tensor:
        """Predict ab/110 (N, 2, S, S) for network input L/50 - 1 (N, 1, S, S), S a multiple of 256."""
        return self._call_model(l_input, None, self._device)

    @torch.inference_mode()
    def colorize(
        self,
        photo: Photo,
        settings: RenderSettings | None = None,
        *,
        strength: float | None = None,
        cancel: Callable[[], bool] | None = None,
        progress: Callable[[int, int], None] | None = None,
        notify: Callable[[str], None] | None = None,
    ) -> Photo:
        """Return a colour version of ``photo`` at its full resolution, alpha and metadata kept.

        The photo's own L* is kept pixel for pixel. Any colour it has is discarded
        unless ``settings.keep_tone`` adds its mean tint back.

        Args:
            settings: render settings; the defaults are whole-image mode at 256.
            strength: overrides ``settings.strength`` when given.
            cancel: polled between batches and strips; when it returns True,
                :class:`CancelledError` is raised.
            progress: called as ``progress(done, total)`` after each batch of tiles
                and each strip of full-resolution work; the counts are work units.
            notify: called with a message for the user when the run has to fall back
                (out of GPU memory).

        Raises:
            CancelledError: ``cancel()`` returned True.
            InferenceError: the model gave NaN or no colour at all, or memory ran out
                on the CPU too.
        """
        if settings is None:
            settings = RenderSettings()
        elif not isinstance(settings, RenderSettings):
            raise TypeError(
                f"settings must be a RenderSettings, got {type(settings).__name__}; "
                "pass the colour strength as strength=..."
            )
        if strength is not None:
            settings = dataclasses.replace(settings, strength=strength)
        width, height = photo.size
        strips = len(strip_bounds(height, width))
        layout = None
        if settings.tiled:
            layout = self._tile_layout(height, width, settings)
        tile_count = len(layout[2]) if layout else 0
        run = _Run(self, photo, 2 * strips + 1 + tile_count, cancel, progress, notify)
        log.info(
            "colourizing %s (%dx%d) with %s on %s, %s", run.name, width, height,
            self.info.name, run.device, settings,
        )
        try:
            run.check_cancel()
            lightness, tint = lightness_and_tint(photo.rgb, run.after_strip)
            ab, fusion = self._whole_image_ab(run, lightness, settings.render_size)
            run.advance()
            if layout is not None:
                ab = self._tiled_ab(run, lightness, ab, fusion, layout, settings)
            self._check_prediction(run, ab)

            ab = ab * settings.strength
            if settings.keep_tone:
                ab = ab + tint.view(2, 1, 1)
            rgb = combine_lab(lightness, ab, run.after_strip)
        finally:
            if self._model_device != self._device:
                self._place_model(self._device)
        log.info("colourized %s", run.name)
        return photo.with_rgb(rgb)

    def _whole_image_ab(
        self, run: _Run, lightness: torch.Tensor, render_size: int
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Predict ab in Lab units, (2, render_size, render_size), from L* (H, W).

        Also returns the fusion vector (1, F) of a classification generator, else None.
        """
        def resized(size: int) -> torch.Tensor:
            small = F.interpolate(
                lightness[None, None], size=(size, size), mode="bilinear", antialias=True, align_corners=False
            )
            return lightness_to_input(small)

        fusion = None
        if self.info.architecture == "unet-class":
            fusion = self._global_fusion(run, resized(INPUT_SIZE))
        ab = self._predict(run, resized(render_size), fusion, count_steps=False)
        return target_to_ab(ab[0]), fusion

    def _tile_layout(self, height: int, width: int, settings: RenderSettings):
        work_height, work_width = working_shape(height, width, settings.working_size)
        padded = (max(work_height, TILE_SIZE), max(work_width, TILE_SIZE))
        return (work_height, work_width), padded, tile_grid(*padded, settings.tile_overlap)

    def _tiled_ab(
        self,
        run: _Run,
        lightness: torch.Tensor,
        whole_ab: torch.Tensor,
        fusion: torch.Tensor | None,
        layout,
        settings: RenderSettings,
    ) -> torch.Tensor:
        """Predict ab (2, h, w) at the working resolution from overlapping tiles."""
        (work_height, work_width), (padded_height, padded_width), tiles = layout
        work = F.interpolate(
            lightness[None, None], size=(work_height, work_width), mode="bilinear",
            antialias=True, align_corners=False,
        )
        reference = F.interpolate(
            whole_ab[None], size=(work_height, work_width), mode="bilinear", align_corners=False
        )
        # A side shorter than a tile is padded by repeating the edge, then cropped again.
        pad = (0, padded_width - work_width, 0, padded_height - work_height)
        work = lightness_to_input(F.pad(work, pad, mode="replicate"))[0]
        reference = F.pad(reference, pad, mode="replicate")[0]

        # The reference resolves nothing finer than a few of its own pixels, so the
        # tiles supply only detail finer than that.
        sigma = LOW_PASS_REFERENCE_PIXELS * max(work_height, work_width) / settings.render_size
        blender = TileBlender(padded_height, padded_width, settings.tile_overlap)
        log.debug(
            "%s: %d tiles of %d at %dx%d, low-pass sigma %.1f px",
            run.name, len(tiles), TILE_SIZE, work_width, work_height, sigma,
        )
        # Tiles are cut and blended batch by batch; one batch at a time is in memory.
        group = max(run.batch_size, 1)
        for first in range(0, len(tiles), group):
            positions = tiles[first:first + group]
            l_tiles = torch.stack(
                [work[:, top:top + TILE_SIZE, left:left + TILE_SIZE] for top, left in positions]
            )
            reference_tiles = torch.stack(
                [reference[:, top:top + TILE_SIZE, left:left + TILE_SIZE] for top, left in positions]
            )
            ab_tiles = target_to_ab(self._predict(run, l_tiles, fusion, count_steps=True))
            ab_tiles = match_low_frequencies(ab_tiles, reference_tiles, sigma)
            for (top, left), ab_tile in zip(positions, ab_tiles):
                blender.add(ab_tile, top, left)
        return blender.result()[:, :work_height, :work_width]

    def _check_prediction(self, run: _Run, ab: torch.Tensor) -> None:
        if not bool(torch.isfinite(ab).all()):
            raise InferenceError(
                f"{run.name}: the model {self.info.name!r} produced NaN or infinite colour on "
                f"{run.device}; try the CPU device, or another model"
            )
        if not bool(ab.abs().max() > 0):
            raise InferenceError(
                f"{run.name}: the model {self.info.name!r} predicted no colour at all (ab = 0 "
                "everywhere); the model file may be damaged, so try another model"
            )


__all__ = ["Colorizer", "RenderSettings", "working_shape"]
