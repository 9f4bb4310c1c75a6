"""Writing result images: atomic, never over an existing file or the source photo."""

from __future__ import annotations

import logging
from pathlib import Path

from PIL import Image

from engine.atomic import write_new
from engine.errors import ExportError
from engine.imaging import Photo

log = logging.getLogger(__name__)

FORMATS = {"png": ".png", "jpeg": ".jpg"}
MAX_SUFFIX = 9999


def _output_stem(photo: Photo, name_template: str) -> str:
    name = photo.source.stem if photo.source is not None else "photo"
    try:
        stem = name_template.format(name=name)
    except (KeyError, IndexError, ValueError) as error:
        raise ExportError(
            f"invalid name template {name_template!r} ({error}); use {{name}} for the photo's name"
        ) from None
    stem = stem.strip()
    bad = set(stem) & set('/\\:*?"<>|\0')
    if not stem or bad:
        raise ExportError(
            f"name template {name_template!r} gives an invalid file name {stem!r}; "
            "avoid / \\ : * ? \" < > |"
        )
    return stem


def _save(photo: Photo, fmt: str, quality: int, target: Path) -> None:
    image = photo.to_pil()
    options: dict = {}
    if photo.dpi:
        options["dpi"] = photo.dpi
    if photo.exif:
        options["exif"] = photo.exif
    if fmt == "jpeg":
        if image.mode == "RGBA":
            # JPEG has no alpha; composite onto white rather than dropping it silently.
            log.info("JPEG has no transparency; flattening %s onto white", photo.source)
            image = _flatten(image)
        image.save(target, format="JPEG", quality=quality, subsampling=0, **options)
    else:
        image.save(target, format="PNG", **options)


def _flatten(image: Image.Image) -> Image.Image:
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def export_photo(
    photo: Photo,
    folder: str | Path,
    name_template: str = "{name}_colorized",
    fmt: str = "png",
    quality: int = 95,
) -> Path:
    """Write ``photo`` into ``folder`` as a new file and return its path.

    The name comes from ``name_template`` (``{name}`` is the source file's stem);
    when that file exists, ``_2``, ``_3`` ... are appended instead of overwriting.

    Raises:
        ExportError: the folder is missing or read-only, the disk is full, or the
            template or format is invalid.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unsupported export format {fmt!r}; choose one of {sorted(FORMATS)}")
    if not 1 <= quality <= 100:
        raise ExportError(f"quality must be between 1 and 100, got {quality}")
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(f"{folder}: output folder not found; choose an existing folder")

    stem = _output_stem(photo, name_template)
    suffix = FORMATS[fmt]
    source = photo.source.resolve() if photo.source is not None else None
    for index in range(1, MAX_SUFFIX + 1):
        candidate = folder / (stem + suffix if index == 1 else f"{stem}_{index}{suffix}")
        if candidate.exists() or (source is not None and candidate.resolve() == source):
            continue
        try:
            path = write_new(candidate, lambda temporary: _save(photo, fmt, quality, temporary))
        except FileExistsError:
            continue
        except OSError as error:
            raise ExportError(
                f"{candidate}: writing failed ({error.strerror or error}); check that the "
                "folder is writable and the disk has free space"
            ) from None
        log.info("exported %s", path)
        return path
    raise ExportError(f"{folder}: more than {MAX_SUFFIX} files named {stem}*{suffix}; pick another folder")


__all__ = ["FORMATS", "export_photo"]
