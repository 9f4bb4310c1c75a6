"""Engine calls that run inside a worker thread, and the results they return.

Every function here may take seconds, so it is only called through a ``Job``.
Results include ready QImages because building them is slow for large scans and
QImage, unlike QPixmap, may be created outside the UI thread.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QImage

from colorapp.imageconv import photo_to_qimage
from engine.catalog import ModelEntry
from engine.export import export_photo
from engine.imaging import Photo, load_photo
from engine.inference import Colorizer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadedPhoto:
    photo: Photo
    image: QImage


@dataclass(frozen=True)
class ColorizeOutcome:
    """A colorized photo and how it was made."""

    original: Photo
    result: Photo
    image: QImage
    model: ModelEntry
    device: str
    seconds: float


class ColorizerCache:
    """Colorizers by model file, most recently used kept, at most ``max_models``.

    Not thread-safe: use one cache from one worker thread only.
    """

    def __init__(self, device: str = "auto", max_models: int = 3) -> None:
        if max_models < 1:
            raise ValueError(f"max_models must be at least 1, got {max_models}")
        self._device = device
        self._max_models = max_models
        self._colorizers: OrderedDict[Path, Colorizer] = OrderedDict()

    def get(self, model_path: Path) -> Colorizer:
        """Return the Colorizer for a model file, loading the model on first use."""
        key = Path(model_path)
        colorizer = self._colorizers.get(key)
        if colorizer is not None:
            self._colorizers.move_to_end(key)
            return colorizer

        started = time.perf_counter()
        colorizer = Colorizer(key, device=self._device)
        logger.info(
            "Loaded model %s on %s in %.2f s", key.name, colorizer.device, time.perf_counter() - started
        )
        self._colorizers[key] = colorizer
        while len(self._colorizers) > self._max_models:
            evicted, _ = self._colorizers.popitem(last=False)
            logger.info("Unloaded model %s", evicted.name)
        return colorizer

    def clear(self) -> None:
        self._colorizers.clear()


def open_photo(path: Path) -> LoadedPhoto:
    photo = load_photo(path)
    return LoadedPhoto(photo=photo, image=photo_to_qimage(photo))


def colorize_photo(cache: ColorizerCache, photo: Photo, model: ModelEntry, strength: float) -> ColorizeOutcome:
    """Colorize a photo with a model; ``strength`` scales the predicted ab (1.0 = as predicted)."""
    colorizer = cache.get(model.path)
    started = time.perf_counter()
    result = colorizer.colorize(photo, strength=strength)
    seconds = time.perf_counter() - started
    if result.source is None:
        # Export names the file after the source and refuses to write over it,
        # so the result keeps the original's path.
        result = dataclasses.replace(result, source=photo.source)
    return ColorizeOutcome(
        original=photo,
        result=result,
        image=photo_to_qimage(result),
        model=model,
        device=str(colorizer.device),
        seconds=seconds,
    )


def export_result(photo: Photo, folder: Path, fmt: str, quality: int) -> Path:
    """Write a colorized photo into ``folder``; return the path of the new file."""
    return export_photo(photo, folder, fmt=fmt, quality=quality)
