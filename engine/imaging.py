"""Reading photos into a linear-algebra-friendly form: orientation, modes, bit depth, ICC.

Pillow reads 8-bit images of every common kind and 16-bit grayscale. It reads
16-bit RGB at 8-bit precision, so 16-bit RGB TIFF files are read with tifffile.

NOTE: 16-bit RGB PNG files are still read by Pillow, at 8-bit precision.
"""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from engine.errors import ImageReadError

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")
MAX_PIXELS = 250_000_000
"""Largest image accepted (about a 600 dpi A3 scan is 70 MP); larger files are rejected."""

# Pillow warns above its own limit (about 89 MP by default) and refuses at twice that.
# Raising it to ours lets load_photo's own check, with its clearer message, decide.
# NOTE: this changes the limit for every Pillow user in the process.
Image.MAX_IMAGE_PIXELS = max(Image.MAX_IMAGE_PIXELS or 0, MAX_PIXELS)

_SRGB_PROFILE = ImageCms.createProfile("sRGB")
SRGB_ICC_PROFILE = ImageCms.ImageCmsProfile(_SRGB_PROFILE).tobytes()
"""The sRGB ICC profile (LittleCMS's built-in one) that export embeds."""

_ORIENTATION_TAG = 0x0112
# Tags that describe how a TIFF stores its pixels or its resolution. They are
# dropped from the kept EXIF, because the written file sets its own.
_IMAGE_STRUCTURE_TAGS = frozenset({
    254, 255, 256, 257, 258, 259, 262, 263, 266, 273, 277, 278, 279, 280, 281, 282, 283,
    284, 296, 317, 320, 322, 323, 324, 325, 338, 339, 340, 341, 513, 514, 530, 531, 532,
    34675,
})


@dataclass
class Photo:
    """An image in memory as sRGB floats, with what is needed to write it back out."""

    rgb: np.ndarray
    """(H, W, 3) float32 sRGB in [0, 1]; a grayscale source has three equal channels."""
    alpha: np.ndarray | None = None
    """(H, W) float32 in [0, 1], or None when the source has no transparency."""
    source: Path | None = None
    bit_depth: int = 8
    exif: bytes | None = None
    """EXIF block (starting with ``Exif\\0\\0``) with the orientation reset to 1, or None."""
    dpi: tuple[float, float] | None = None
    icc_profile: bytes | None = None
    """Profile of ``rgb`` to embed on export: sRGB when the source had a usable ICC
    profile (its pixels were converted to sRGB on loading), else None."""
    info: dict = field(default_factory=dict)
    """Free-form facts about the source (format, mode) for logs and export."""

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.rgb.shape[1], self.rgb.shape[0]

    def to_pil(self) -> Image.Image:
        """Return an 8-bit RGB or RGBA Pillow image of this photo."""
        rgb = np.clip(self.rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)
        if self.alpha is None:
            return Image.fromarray(rgb, "RGB")
        alpha = np.clip(self.alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(np.dstack((rgb, alpha)), "RGBA")

    def with_rgb(self, rgb: np.ndarray) -> Photo:
        """Return a copy that has new pixels and this photo's alpha and metadata."""
        return Photo(
            rgb=rgb.astype(np.float32, copy=False),
            alpha=self.alpha,
            source=self.source,
            bit_depth=self.bit_depth,
            exif=self.exif,
            dpi=self.dpi,
            icc_profile=self.icc_profile,
            info=dict(self.info),
        )


def _to_srgb(image: Image.Image, path: Path) -> tuple[Image.Image, bool]:
    """Convert an image with an embedded ICC profile to sRGB.

    Returns the image and whether it is now known to be sRGB. An unusable profile
    is logged and the pixels are kept as they are.
    """
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image, False
    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        converted = ImageCms.profileToProfile(
            image, source_profile, _SRGB_PROFILE, outputMode=output_mode
        )
        return converted, True
    except (ImageCms.PyCMSError, OSError, ValueError) as error:
        log.warning("ignoring the unusable ICC profile of %s: %s", path, error)
        return image, False


def _is_srgb_profile(icc: bytes) -> bool:
    try:
        description = ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(icc)))
    except (ImageCms.PyCMSError, OSError, ValueError):
        return False
    return "srgb" in description.lower()


def _float_channels(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Return (rgb (H, W, 3), alpha (H, W) or None, bit depth) for any Pillow mode."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        # Mode I stores 16-bit PNGs in 0..65535; wider data is scaled by its own maximum.
        peak = 65535.0 if values.max(initial=0) <= 65535 else float(values.max())
        gray = np.clip(values / peak, 0.0, 1.0).astype(np.float32)
        return np.repeat(gray[..., None], 3, axis=2), None, 16
    if mode == "F":
        gray = np.clip(np.asarray(image, dtype=np.float32), 0.0, 1.0)
        return np.repeat(gray[..., None], 3, axis=2), None, 16

    has_alpha = mode in ("RGBA", "LA", "PA") or (
        mode == "P" and "transparency" in image.info
    )
    converted = image.convert("RGBA" if has_alpha else "RGB")
    array = np.asarray(converted, dtype=np.float32) / 255.0
    alpha = array[..., 3].copy() if has_alpha else None
    return np.ascontiguousarray(array[..., :3]), alpha, 8


def _is_16_bit_rgb_tiff(image: Image.Image) -> bool:
    if image.format != "TIFF" or image.mode not in ("RGB", "RGBA"):
        return False
    bits = image.tag_v2.get(258, (8,))
    return max(bits) > 8


# EXIF orientation -> the numpy operation that makes the pixels upright, as
# ImageOps.exif_transpose does for Pillow images.
_ORIENT = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, -1),
    7: lambda a: a[::-1, ::-1].swapaxes(0, 1),
    8: lambda a: np.rot90(a, 1),
}


_SWAPS_AXES = frozenset({5, 6, 7, 8})


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Return (H, W, ...) pixels turned upright for an EXIF orientation value (1 to 8)."""
    turn = _ORIENT.get(orientation)
    return pixels if turn is None else np.ascontiguousarray(turn(pixels))


def _read_16_bit_tiff(path: Path, orientation: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (rgb (H, W, 3), alpha (H, W) or None) in [0, 1] from a 16-bit RGB(A) TIFF."""
    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        pixels = page.asarray()
        if page.axes.startswith("S"):
            pixels = np.moveaxis(pixels, 0, -1)
    peak = float(np.iinfo(pixels.dtype).max) if pixels.dtype.kind in "ui" else 1.0
    pixels = apply_orientation(pixels, orientation)
    rgb = np.clip(pixels[..., :3].astype(np.float32) / peak, 0.0, 1.0)
    alpha = None
    if pixels.shape[-1] > 3:
        alpha = np.clip(pixels[..., 3].astype(np.float32) / peak, 0.0, 1.0)
    return rgb, alpha


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(_ORIENTATION_TAG, 1))
    except Exception:  # Pillow raises assorted types on malformed EXIF.
        return 1


def _kept_exif(image: Image.Image, path: Path) -> bytes | None:
    """Return the image's EXIF without pixel-layout tags and with orientation 1, or None."""
    try:
        # A copy, because the image's own EXIF still has to orient its pixels.
        exif = Image.Exif()
        exif.load(image.getexif().tobytes())
        for tag in _IMAGE_STRUCTURE_TAGS & set(exif):
            del exif[tag]
        if not exif:
            return None
        # The pixels are upright after loading, so the written EXIF must not rotate them again.
        exif[_ORIENTATION_TAG] = 1
        return exif.tobytes()
    except Exception as error:  # Pillow raises assorted types on malformed EXIF.
        log.warning("dropping the unreadable EXIF data of %s: %s", path, error)
        return None


@contextmanager
def _read_errors(path: Path) -> Iterator[None]:
    """Turn what Pillow and tifffile raise on a bad file into ImageReadError with advice."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except FileNotFoundError:
        raise ImageReadError(f"{path}: file not found; it may have been moved or deleted") from None
    except PermissionError:
        raise ImageReadError(f"{path}: permission denied; check that you can read it") from None
    except IsADirectoryError:
        raise ImageReadError(f"{path}: is a folder, not an image file") from None
    except UnidentifiedImageError:
        raise ImageReadError(
            f"{path}: not a readable image; the file may be damaged or in an unsupported "
            f"format (supported: {', '.join(SUPPORTED_SUFFIXES)})"
        ) from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageReadError(
            f"{path}: the image is too large to open safely; scale it down first"
        ) from None
    except (OSError, SyntaxError, ValueError, tifffile.TiffFileError) as error:
        raise ImageReadError(
            f"{path}: could not decode the image ({error}); the file may be truncated or damaged"
        ) from None


def _check_size(image: Image.Image, path: Path) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ImageReadError(
            f"{path}: {width}x{height} pixels is over the limit of "
            f"{MAX_PIXELS:,}; scale the scan down before colourizing it"
        )


def load_photo(path: str | Path) -> Photo:
    """Read an image file as a :class:`Photo` with EXIF orientation applied.

    Embedded ICC profiles are converted to sRGB. A 16-bit RGB TIFF keeps its 16-bit
    precision unless it has a non-sRGB profile, which is converted at 8-bit precision.

    Raises:
        ImageReadError: the file is missing, unreadable, too large or not an image.
    """
    path = Path(path)
    sixteen_bit = None
    with _read_errors(path), Image.open(path) as opened:
        _check_size(opened, path)
        exif = _kept_exif(opened, path)
        orientation = _orientation(opened)
        dpi = opened.info.get("dpi")
        icc = opened.info.get("icc_profile")
        info = {"format": opened.format, "mode": opened.mode}
        if _is_16_bit_rgb_tiff(opened) and (not icc or _is_srgb_profile(icc)):
            sixteen_bit = _read_16_bit_tiff(path, orientation)
            image = None
        else:
            if _is_16_bit_rgb_tiff(opened):
                # NOTE: Pillow's colour management works on 8-bit pixels only.
                log.warning(
                    "%s: converting its ICC profile to sRGB at 8-bit precision", path
                )
            opened.load()
            image = ImageOps.exif_transpose(opened)

    if sixteen_bit is not None:
        rgb, alpha = sixteen_bit
        bit_depth = 16
        is_srgb = bool(icc)
    else:
        image, is_srgb = _to_srgb(image, path)
        rgb, alpha, bit_depth = _float_channels(image)
    return Photo(
        rgb=rgb,
        alpha=alpha,
        source=path,
        bit_depth=bit_depth,
        exif=exif,
        dpi=tuple(float(v) for v in dpi) if dpi else None,
        icc_profile=SRGB_ICC_PROFILE if is_srgb else None,
        info=info,
    )


def _smoothly_resizable(image: Image.Image) -> Image.Image:
    """Convert modes that Pillow resizes only by nearest neighbour, or not at all."""
    if image.mode.startswith("I;16"):
        return image.convert("I")
    if image.mode == "PA" or (image.mode == "P" and "transparency" in image.info):
        return image.convert("RGBA")
    if image.mode == "P":
        return image.convert("RGB")
    if image.mode == "1":
        return image.convert("L")
    return image


def load_thumbnail(path: str | Path, max_side: int) -> tuple[Photo, tuple[int, int]]:
    """Read a small upright sRGB copy of an image file, and the full (width, height) upright.

    JPEG files are decoded at a reduced scale, so a large photo costs a fraction of
    :func:`load_photo`. The copy fits in ``max_side`` x ``max_side``, and 16-bit RGB is
    read at 8-bit precision; it is for display, not for colourizing.

    Raises:
        ImageReadError: as :func:`load_photo`.
    """
    path = Path(path)
    with _read_errors(path), Image.open(path) as opened:
        _check_size(opened, path)
        width, height = opened.size
        orientation = _orientation(opened)
        # For JPEG, this picks the smallest DCT scale that still covers the box.
        opened.draft("RGB", (max_side, max_side))
        opened.load()
        image = _smoothly_resizable(ImageOps.exif_transpose(opened))
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    image, _ = _to_srgb(image, path)
    rgb, alpha, _ = _float_channels(image)
    full_size = (height, width) if orientation in _SWAPS_AXES else (width, height)
    return Photo(rgb=rgb, alpha=alpha, source=path, info={"format": image.format}), full_size
