"""Writing result images: atomic, never over an existing file or the source photo."""

from __future__ import annotations

import datetime
import errno
import logging
import string
from pathlib import Path

import numpy as np
from PIL import Image

from engine.atomic import write_new
from engine.errors import ExportError
from engine.imaging import Photo
from engine.writers import to_integers, write_png_16, write_tiff

log = logging.getLogger(__name__)

FORMATS = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "webp": ".webp"}
"""File suffix of each export format, in menu order."""
FORMAT_LABELS = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF", "webp": "WebP"}
BIT_DEPTHS = {"png": (8, 16), "jpeg": (8,), "tiff": (8, 16), "webp": (8,)}
"""Bits per channel each format can be written with."""
TEMPLATE_FIELDS = ("name", "model", "date")
"""Name template fields: the source file's stem, the model key, today's date (YYYY-MM-DD)."""
MAX_SUFFIX = 9999
_INVALID_NAME_CHARACTERS = set('/\\:*?"<>|\0')


def _template_fields(name_template: str) -> set[str]:
    try:
        parsed = list(string.Formatter().parse(name_template))
    except ValueError as error:
        raise ExportError(
            f"invalid name template {name_template!r} ({error}); write fields as {{name}}, "
            "and a literal brace as {{ or }}"
        ) from None
    fields = {field for _, field, _, _ in parsed if field is not None}
    unknown = sorted(fields - set(TEMPLATE_FIELDS))
    if unknown:
        raise ExportError(
            f"invalid name template {name_template!r}: unknown field(s) {unknown}; the fields "
            f"are {', '.join('{' + name + '}' for name in TEMPLATE_FIELDS)}"
        )
    return fields


def _safe_value(value: str) -> str:
    """Replace characters that file names cannot contain (the ":" of "user:" keys, say)."""
    return "".join("-" if character in _INVALID_NAME_CHARACTERS else character for character in value)


def output_stem(photo: Photo, name_template: str, model: str | None = None) -> str:
    """Return the file name, without suffix, that ``name_template`` gives for ``photo``.

    Raises:
        ExportError: the template has an unknown field, uses ``{model}`` with no model
            given, or gives an empty or invalid file name.
    """
    fields = _template_fields(name_template)
    if "model" in fields and not model:
        raise ExportError(
            f"name template {name_template!r} uses {{model}}, but no model name was given"
        )
    values = {
        "name": photo.source.stem if photo.source is not None else "photo",
        "model": _safe_value(model or ""),
        "date": datetime.date.today().isoformat(),
    }
    try:
        stem = name_template.format(**values)
    except (KeyError, IndexError, ValueError) as error:
        raise ExportError(
            f"invalid name template {name_template!r} ({error}); use {{name}} for the photo's name"
        ) from None
    stem = stem.strip()
    bad = set(stem) & _INVALID_NAME_CHARACTERS
    if not stem or bad or stem in (".", ".."):
        raise ExportError(
            f"name template {name_template!r} gives an invalid file name {stem!r}; "
            "avoid / \\ : * ? \" < > |"
        )
    return stem


def _flatten(image: Image.Image) -> Image.Image:
    background = Image.new("RGB", image.size, (255, 255, 255))
    background.paste(image, mask=image.getchannel("A"))
    return background


def _pixels(photo: Photo, bit_depth: int) -> np.ndarray:
    rgb = to_integers(photo.rgb, bit_depth)
    if photo.alpha is None:
        return rgb
    return np.dstack((rgb, to_integers(photo.alpha, bit_depth)))


def _save(photo: Photo, fmt: str, quality: int, bit_depth: int, target: Path) -> None:
    if fmt == "tiff":
        write_tiff(target, _pixels(photo, bit_depth), photo.icc_profile, photo.dpi, photo.exif)
        return
    if fmt == "png" and bit_depth == 16:
        write_png_16(target, _pixels(photo, 16), photo.icc_profile, photo.dpi, photo.exif)
        return

    image = photo.to_pil()
    options: dict = {}
    if photo.exif:
        options["exif"] = photo.exif
    if photo.icc_profile:
        options["icc_profile"] = photo.icc_profile
    if photo.dpi and fmt != "webp":
        options["dpi"] = photo.dpi
    if fmt == "jpeg":
        if image.mode == "RGBA":
            # JPEG has no alpha; composite onto white rather than dropping it silently.
            log.info("JPEG has no transparency; flattening %s onto white", photo.source)
            image = _flatten(image)
        image.save(target, format="JPEG", quality=quality, subsampling=0, **options)
    elif fmt == "webp":
        image.save(target, format="WEBP", quality=quality, method=4, **options)
    else:
        image.save(target, format="PNG", **options)


def _write_failure(path: Path, error: OSError) -> ExportError:
    reason = error.strerror or str(error)
    if error.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        advice = "the disk is full; free some space or choose another folder"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        advice = "the folder is not writable; choose another folder or change its permissions"
    else:
        advice = "check that the folder is writable and the disk has free space"
    return ExportError(f"{path}: writing failed ({reason}); {advice}")


def export_photo(
    photo: Photo,
    folder: str | Path,
    name_template: str = "{name}_colorized",
    fmt: str = "png",
    quality: int = 95,
    bit_depth: int = 8,
    model: str | None = None,
) -> Path:
    """Write ``photo`` into ``folder`` as a new file and return its path.

    The name comes from ``name_template`` (fields in :data:`TEMPLATE_FIELDS`; ``model``
    fills ``{model}``). When that file exists, ``_2``, ``_3`` ... are appended
    instead of overwriting, and the source photo is never written over. The file
    is written to a temporary name and linked into place, so a failed write leaves
    nothing behind.

    Metadata: the EXIF block is written with orientation 1, as the pixels are
    upright. DPI is kept, except in WebP, which has no resolution field. The pixels
    are sRGB, so the sRGB ICC profile is embedded when the source had a profile.
    ``quality`` (1 to 100) applies to JPEG and WebP; ``bit_depth`` 16 to PNG and TIFF.

    Raises:
        ExportError: the folder is missing or read-only, the disk is full, or the
            template, format, quality or bit depth is invalid.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unsupported export format {fmt!r}; choose one of {list(FORMATS)}")
    if not 1 <= quality <= 100:
        raise ExportError(f"quality must be between 1 and 100, got {quality}")
    if bit_depth not in BIT_DEPTHS[fmt]:
        allowed = " or ".join(str(depth) for depth in BIT_DEPTHS[fmt])
        raise ExportError(f"{FORMAT_LABELS[fmt]} can be written with {allowed} bits per channel, not {bit_depth}")
    folder = Path(folder)
    if not folder.is_dir():
        raise ExportError(f"{folder}: output folder not found; choose an existing folder")

    stem = output_stem(photo, name_template, model)
    suffix = FORMATS[fmt]
    source = photo.source.resolve() if photo.source is not None else None
    for index in range(1, MAX_SUFFIX + 1):
        candidate = folder / (stem + suffix if index == 1 else f"{stem}_{index}{suffix}")
        if candidate.exists() or (source is not None and candidate.resolve() == source):
            continue
        try:
            path = write_new(candidate, lambda temporary: _save(photo, fmt, quality, bit_depth, temporary))
        except FileExistsError:
            continue
        except OSError as error:
            raise _write_failure(candidate, error) from None
        log.info("exported %s (%s, %d-bit)", path, FORMAT_LABELS[fmt], bit_depth)
        return path
    raise ExportError(f"{folder}: more than {MAX_SUFFIX} files named {stem}*{suffix}; pick another folder")


__all__ = ["BIT_DEPTHS", "FORMATS", "FORMAT_LABELS", "TEMPLATE_FIELDS", "export_photo", "output_stem"]
