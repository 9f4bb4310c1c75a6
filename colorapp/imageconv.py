"""Conversion of Pillow images and engine Photos to QImage for display.

The functions build QImages in memory only, so they are safe to call in a worker
thread. Creating a QPixmap is not, and stays in the widgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from engine.imaging import Photo

_FORMATS = {
    "RGB": (QImage.Format.Format_RGB888, 3),
    "RGBA": (QImage.Format.Format_RGBA8888, 4),
}


def pil_to_qimage(image: Image.Image) -> QImage:
    """Copy an 8-bit Pillow image into a QImage that owns its pixels.

    RGB and RGBA are copied as they are. Other modes are converted first: to RGBA
    when they carry transparency, otherwise to RGB.
    """
    if image.mode not in _FORMATS:
        has_alpha = image.mode in ("LA", "PA", "La") or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")

    qt_format, channels = _FORMATS[image.mode]
    width, height = image.size
    data = image.tobytes()
    # Pillow packs rows without padding, while QImage otherwise assumes rows
    # aligned to 4 bytes, so the row stride must be given explicitly.
    bytes_per_line = width * channels
    view = QImage(data, width, height, bytes_per_line, qt_format)
    # The QImage above borrows ``data``. The copy owns its pixels and outlives it.
    return view.copy()


def photo_to_qimage(photo: Photo) -> QImage:
    """Convert an engine Photo (float sRGB, optional alpha) to a QImage."""
    return pil_to_qimage(photo.to_pil())


def photo_thumbnail(photo: Photo, max_side: int) -> QImage:
    """Return a QImage of the photo scaled down to fit ``max_side`` pixels, aspect ratio kept."""
    image = photo.to_pil()
    image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    return pil_to_qimage(image)

