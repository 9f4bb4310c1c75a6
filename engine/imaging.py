"""Reading photos into a linear-algebra-friendly form: orientation, modes, bit depth, ICC."""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from engine.errors import ImageReadError

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".webp", ".bmp")
MAX_PIXELS = 250_000_000
"""Largest image accepted (about a 600 dpi A3 scan is 70 MP); larger files are rejected."""

_SRGB_PROFILE = ImageCms.createProfile("sRGB")


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
    dpi: tuple[float, float] | None = None
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
            info=dict(self.info),
        )


def _to_srgb(image: Image.Image, path: Path) -> Image.Image:
    """Convert an image with an embedded ICC profile to sRGB; keep it as is on failure."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    try:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        output_mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(
            image, source_profile, _SRGB_PROFILE, outputMode=output_mode
        )
    except (ImageCms.PyCMSError, OSError, ValueError) as error:
        log.warning("ignoring the unusable ICC profile of %s: %s", path, error)
        return image


def _float_channels(image: Image.Image) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Return (rgb (H, W, 3), alpha (H, W) or None, bit depth) for any Pillow mode."""
    mode = image.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        values = np.asarray(image, dtype=np.float64)
        # Mode I holds 16-bit PNGs in 0..65535; wider data is scaled by its own maximum.
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


def load_photo(path: str | Path) -> Photo:
    """Read an image file as a :class:`Photo` with EXIF orientation applied.

    Raises:
        ImageReadError: the file is missing, unreadable, too large or not an image.
    """
    path = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as opened:
                width, height = opened.size
                if width * height > MAX_PIXELS:
                    raise ImageReadError(
                        f"{path}: {width}x{height} pixels is over the limit of "
                        f"{MAX_PIXELS:,}; scale the scan down before colourizing it"
                    )
                opened.load()
                exif = opened.info.get("exif")
                dpi = opened.info.get("dpi")
                info = {"format": opened.format, "mode": opened.mode}
                image = ImageOps.exif_transpose(opened)
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
    except (OSError, SyntaxError, ValueError) as error:
        raise ImageReadError(
            f"{path}: could not decode the image ({error}); the file may be truncated or damaged"
        ) from None

    image = _to_srgb(image, path)
    rgb, alpha, bit_depth = _float_channels(image)
    if exif is not None:
        # The pixels are now upright, so the written EXIF must not rotate them again.
        exif = _reset_orientation(exif)
    return Photo(
        rgb=rgb,
        alpha=alpha,
        source=path,
        bit_depth=bit_depth,
        exif=exif,
        dpi=tuple(float(v) for v in dpi) if dpi else None,
        info=info,
    )


def _reset_orientation(exif_bytes: bytes) -> bytes | None:
    try:
        exif = Image.Exif()
        exif.load(exif_bytes)
        exif[0x0112] = 1  # Orientation: normal.
        return exif.tobytes()
    except Exception as error:  # Pillow raises assorted types on malformed EXIF.
        log.warning("dropping unreadable EXIF data: %s", error)
        return None
