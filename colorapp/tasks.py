"""Engine calls that run inside a worker thread, and the results they return.

Every function here may take seconds, so it is only called through a ``Job``.
Results include ready QImages because building them is slow for large scans and
QImage, unlike QPixmap, may be created outside the UI thread.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtGui import QImage

from colorapp import image_files
from colorapp.image_files import RejectedPath
from colorapp.imageconv import photo_thumbnail, photo_to_qimage
from colorapp.result_store import ResultStore
from colorapp.workers import JobControl
from engine import catalog
from engine.catalog import ModelEntry
from engine.errors import ColorAppError, ExportError, ImageReadError
from engine.export import export_photo
from engine.imaging import Photo, load_photo, load_thumbnail
from engine.inference import Colorizer, RenderSettings

logger = logging.getLogger(__name__)

THUMBNAIL_SIZE = 96
"""Maximum width and height of a queue thumbnail, in pixels."""


# Results


@dataclass(frozen=True)
class FoundPhotos:
    """Image files found among dropped or opened paths, folders searched."""

    files: list[Path]
    rejected: list[RejectedPath]


@dataclass(frozen=True)
class PhotoPreview:
    item_id: int
    size: tuple[int, int]
    thumbnail: QImage


@dataclass(frozen=True)
class LoadedPhoto:
    """A queue photo read for the view, with its stored result if there is one."""

    item_id: int
    photo: Photo
    image: QImage
    result_image: QImage | None


@dataclass(frozen=True)
class ColorizeRequest:
    item_id: int
    path: Path
    model: ModelEntry
    settings: RenderSettings
    device: str
    want_image: bool
    """Whether to build the full-size QImage of the result for the view."""


@dataclass(frozen=True)
class ColorizeOutcome:
    """A colorized queue photo and how it was made. The result itself is in the ResultStore."""

    item_id: int
    result: Photo
    image: QImage | None
    thumbnail: QImage
    model: ModelEntry
    settings: RenderSettings
    device: str
    seconds: float


@dataclass(frozen=True)
class ExportOptions:
    """Export choices (folder, format, quality, file name template), as the export dialog edits them."""

    folder: Path
    fmt: str = "png"
    """An ``engine.export.FORMATS`` key: "png", "jpeg", "tiff" or "webp"."""
    bit_depth: int = 8
    """8, or 16 for TIFF."""
    quality: int = 95
    """JPEG and WebP quality, 1 to 100."""
    name_template: str = "{name}_colorized"


@dataclass(frozen=True)
class ExportOutcome:
    item_id: int
    path: Path | None
    """The new file, or None when writing failed."""
    colorized: ColorizeOutcome | None
    """The colorize step, when the photo had no result before the export."""
    error: str = ""
    """Error message of a write that failed after a successful colorize step, whose result stays stored."""


@dataclass(frozen=True)
class CompareOutcome:
    model: ModelEntry
    image: QImage
    device: str
    seconds: float


# Colorizers


class ColorizerCache:
    """Colorizers by model file and device, most recently used kept, at most ``max_models``.

    Not thread-safe: use one cache from one worker thread only.
    """

    def __init__(self, max_models: int = 3) -> None:
        if max_models < 1:
            raise ValueError(f"max_models must be at least 1, got {max_models}")
        self._max_models = max_models
        self._colorizers: OrderedDict[tuple[Path, str], Colorizer] = OrderedDict()

    def get(self, model_path: Path, device: str = "auto") -> Colorizer:
        """Return the Colorizer for a model file on a device, loading the model on first use."""
        key = (Path(model_path), device)
        colorizer = self._colorizers.get(key)
        if colorizer is not None:
            self._colorizers.move_to_end(key)
            return colorizer

        started = time.perf_counter()
        try:
            colorizer = Colorizer(key[0], device=device)
        except ValueError as error:
            # pick_device rejects a device this machine lacks, such as a removed GPU.
            raise ColorAppError(f"Device {device!r} cannot be used: {error}. Choose another device.") from None
        logger.info(
            "Loaded model %s on %s in %.2f s", key[0].name, colorizer.device, time.perf_counter() - started
        )
        self._colorizers[key] = colorizer
        while len(self._colorizers) > self._max_models:
            (evicted, evicted_device), _ = self._colorizers.popitem(last=False)
            logger.info("Unloaded model %s from %s", evicted.name, evicted_device)
        return colorizer

    def clear(self) -> None:
        self._colorizers.clear()


# Intake


def find_photos(paths: Iterable[str | Path]) -> FoundPhotos:
    """Expand dropped or opened paths into image files, searching folders recursively."""
    files, rejected = image_files.collect_image_paths(paths)
    return FoundPhotos(files=files, rejected=rejected)


def load_preview(item_id: int, path: Path) -> PhotoPreview:
    """Read a photo's size and a reduced copy of it for its queue thumbnail."""
    small, size = load_thumbnail(path, THUMBNAIL_SIZE)
    return PhotoPreview(item_id=item_id, size=size, thumbnail=photo_thumbnail(small, THUMBNAIL_SIZE))


def load_for_view(item_id: int, path: Path, store: ResultStore) -> LoadedPhoto:
    """Read a queue photo, and its stored result if any, as QImages for the view."""
    photo = load_photo(path)
    result = store.get(item_id)
    return LoadedPhoto(
        item_id=item_id,
        photo=photo,
        image=photo_to_qimage(photo),
        result_image=photo_to_qimage(result) if result is not None else None,
    )


def save_pasted_image(image: QImage, path: Path) -> Path:
    """Write a pasted bitmap as a PNG file so it can be queued like any photo."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path), "PNG"):
        raise ImageReadError(f"{path}: saving the pasted image failed; check the free disk space")
    return path


# Colorizing and exporting


def colorize_item(
    cache: ColorizerCache, store: ResultStore, request: ColorizeRequest, control: JobControl
) -> ColorizeOutcome:
    """Colorize one queue photo, store the result and return how it went."""
    photo = load_photo(request.path)
    control.raise_if_cancelled()
    colorizer = cache.get(request.model.path, request.device)
    started = time.perf_counter()
    result = colorizer.colorize(
        photo,
        request.settings,
        cancel=control.is_cancelled,
        progress=control.progress,
        notify=control.notify,
    )
    seconds = time.perf_counter() - started
    store.put(request.item_id, result)
    return ColorizeOutcome(
        item_id=request.item_id,
        result=result,
        image=photo_to_qimage(result) if request.want_image else None,
        thumbnail=photo_thumbnail(result, THUMBNAIL_SIZE),
        model=request.model,
        settings=request.settings,
        device=colorizer.device,
        seconds=seconds,
    )


def export_item(
    cache: ColorizerCache,
    store: ResultStore,
    request: ColorizeRequest,
    options: ExportOptions,
    control: JobControl,
) -> ExportOutcome:
    """Write a queue photo's result as a new file, colorizing it first when it has none.

    The cancel flag is checked after colorizing and again just before writing, so
    a cancelled export writes nothing. The engine writes atomically, so a file is
    either complete or absent.
    """
    control.raise_if_cancelled()
    result = store.get(request.item_id)
    colorized = None
    if result is None:
        colorized = colorize_item(cache, store, request, control)
        result = colorized.result
    control.raise_if_cancelled()
    try:
        path = export_photo(
            result,
            options.folder,
            name_template=options.name_template,
            fmt=options.fmt,
            quality=options.quality,
            bit_depth=options.bit_depth,
            model=request.model.key,
        )
    except ExportError as error:
        if colorized is None:
            raise
        # Returned instead of raised, so that the queue still learns about the new result.
        logger.error("Exporting %s failed after colorizing it: %s", request.path, error)
        return ExportOutcome(item_id=request.item_id, path=None, colorized=colorized, error=str(error))
    return ExportOutcome(item_id=request.item_id, path=path, colorized=colorized)


def colorize_for_compare(
    cache: ColorizerCache,
    path: Path,
    model: ModelEntry,
    settings: RenderSettings,
    device: str,
    control: JobControl,
) -> CompareOutcome:
    """Colorize a photo with one model for the compare grid, without storing the result."""
    photo = load_photo(path)
    control.raise_if_cancelled()
    colorizer = cache.get(model.path, device)
    started = time.perf_counter()
    result = colorizer.colorize(photo, settings, cancel=control.is_cancelled, notify=control.notify)
    seconds = time.perf_counter() - started
    return CompareOutcome(model=model, image=photo_to_qimage(result), device=colorizer.device, seconds=seconds)


def import_model_file(path: Path, user_model_dir: Path) -> ModelEntry:
    """Validate a model file and copy it into the user model folder."""
    return catalog.import_model(path, user_model_dir=user_model_dir)
