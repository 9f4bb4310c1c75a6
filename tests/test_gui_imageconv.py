"""Pillow image and engine Photo to QImage conversion: pixels, strides and alpha."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtGui import QImage

from colorapp.imageconv import photo_to_qimage, pil_to_qimage
from engine.imaging import Photo


def _qimage_array(image: QImage, channels: int) -> np.ndarray:
    """Copy a QImage's pixels row by row, skipping the padding at the end of each row."""
    buffer = np.frombuffer(image.constBits(), dtype=np.uint8)
    rows = buffer.reshape(image.height(), image.bytesPerLine())
    return rows[:, : image.width() * channels].reshape(image.height(), image.width(), channels)


@pytest.mark.parametrize("width", [1, 5, 7, 64])
def test_rgb_pixels_match_at_any_width(width):
    # Widths 1, 5 and 7 give rows of 3, 15 and 21 bytes, which are not multiples of 4.
    pixels = np.random.default_rng(width).integers(0, 256, size=(3, width, 3), dtype=np.uint8)

    image = pil_to_qimage(Image.fromarray(pixels, "RGB"))

    assert image.format() == QImage.Format.Format_RGB888
    assert (image.width(), image.height()) == (width, 3)
    np.testing.assert_array_equal(_qimage_array(image, 3), pixels)


def test_rgba_keeps_alpha():
    pixels = np.random.default_rng(1).integers(0, 256, size=(4, 5, 4), dtype=np.uint8)

    image = pil_to_qimage(Image.fromarray(pixels, "RGBA"))

    assert image.format() == QImage.Format.Format_RGBA8888
    np.testing.assert_array_equal(_qimage_array(image, 4), pixels)


def test_grayscale_becomes_rgb():
    pixels = np.arange(15, dtype=np.uint8).reshape(3, 5) * 10

    image = pil_to_qimage(Image.fromarray(pixels, "L"))

    assert image.format() == QImage.Format.Format_RGB888
    np.testing.assert_array_equal(_qimage_array(image, 3), np.repeat(pixels[..., None], 3, axis=2))


def test_la_becomes_rgba():
    image = pil_to_qimage(Image.new("LA", (3, 2), (100, 50)))

    assert image.format() == QImage.Format.Format_RGBA8888
    assert image.pixelColor(0, 0).alpha() == 50


def test_qimage_owns_its_pixels():
    source = Image.new("RGB", (5, 3), (10, 20, 30))
    image = pil_to_qimage(source)

    source.paste((200, 200, 200), (0, 0, 5, 3))
    del source

    assert image.pixelColor(4, 2).getRgb()[:3] == (10, 20, 30)


def test_photo_with_alpha_to_qimage():
    rgb = np.zeros((2, 3, 3), dtype=np.float32)
    rgb[..., 0] = 1.0
    alpha = np.full((2, 3), 0.5, dtype=np.float32)

    image = photo_to_qimage(Photo(rgb=rgb, alpha=alpha))

    assert (image.width(), image.height()) == (3, 2)
    assert image.pixelColor(2, 1).red() == 255
    assert image.pixelColor(2, 1).alpha() == 128
