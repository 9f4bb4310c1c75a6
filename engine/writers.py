"""Encoders that Pillow lacks: 16-bit RGB PNG, and TIFF with full EXIF at 8 or 16 bits.

Pillow writes PNG only up to 8 bits per channel for RGB, and cannot write 48-bit
TIFF at all. Both formats are simple enough to write directly: PNG is zlib-
compressed filtered rows in CRC-checked chunks (ISO/IEC 15948), and TIFF is a header,
pixel strips and one directory of tags (TIFF 6.0).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_ZLIB_LEVEL = 6
_ROWS_PER_STRIP = 64


def to_integers(values: np.ndarray, bit_depth: int) -> np.ndarray:
    """Round floats in [0, 1] to uint8 (bit_depth 8) or uint16 (bit_depth 16)."""
    peak = (1 << bit_depth) - 1
    dtype = np.uint8 if bit_depth == 8 else np.uint16
    return np.clip(values * peak + 0.5, 0, peak).astype(dtype)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png_16(
    path: Path,
    pixels: np.ndarray,
    icc_profile: bytes | None = None,
    dpi: tuple[float, float] | None = None,
    exif: bytes | None = None,
) -> None:
    """Write (H, W, 3 or 4) uint16 RGB or RGBA as a 16-bit PNG with optional iCCP, pHYs and eXIf."""
    if pixels.dtype != np.uint16 or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"expected (H, W, 3 or 4) uint16 pixels, got {pixels.dtype} {pixels.shape}")
    height, width, channels = pixels.shape
    colour_type = 2 if channels == 3 else 6
    with open(path, "wb") as handle:
        handle.write(PNG_SIGNATURE)
        handle.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)))
        if icc_profile:
            # Profile name, a NUL, compression method 0 (zlib), then the compressed profile.
            handle.write(_png_chunk(b"iCCP", b"sRGB\0\0" + zlib.compress(icc_profile)))
        if dpi:
            per_metre = [round(value / 0.0254) for value in dpi]
            handle.write(_png_chunk(b"pHYs", struct.pack(">IIB", *per_metre, 1)))
        if exif:
            # The eXIf chunk contains the TIFF structure without JPEG's "Exif\0\0" prefix.
            handle.write(_png_chunk(b"eXIf", exif.removeprefix(b"Exif\x00\x00")))

        # Every row uses the Up filter (type 2): each byte minus the byte above it.
        compressor = zlib.compressobj(_ZLIB_LEVEL)
        row_bytes = pixels.astype(">u2").reshape(height, width * channels).view(np.uint8)
        previous = np.zeros(row_bytes.shape[1], dtype=np.uint8)
        for top in range(0, height, _ROWS_PER_STRIP):
            rows = row_bytes[top:top + _ROWS_PER_STRIP]
            above = np.vstack((previous[None], rows[:-1]))
            filtered = np.empty((rows.shape[0], rows.shape[1] + 1), dtype=np.uint8)
            filtered[:, 0] = 2
            filtered[:, 1:] = rows - above
            previous = rows[-1]
            handle.write(_png_chunk(b"IDAT", compressor.compress(filtered.tobytes()) + compressor.flush(zlib.Z_FULL_FLUSH)))
        handle.write(_png_chunk(b"IDAT", compressor.flush()))
        handle.write(_png_chunk(b"IEND", b""))


def write_tiff(
    path: Path,
    pixels: np.ndarray,
    icc_profile: bytes | None = None,
    dpi: tuple[float, float] | None = None,
    exif: bytes | None = None,
) -> None:
    """Write (H, W, 3 or 4) uint8 or uint16 RGB(A) as a Deflate-compressed TIFF.

    The EXIF block's tags go into the TIFF's own directory, with its Exif and GPS
    sub-directories, as cameras and scanners write them. A fourth channel is
    stored as unassociated alpha.
    """
    if pixels.dtype not in (np.uint8, np.uint16) or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"expected (H, W, 3 or 4) uint8 or uint16 pixels, got {pixels.dtype} {pixels.shape}")
    height, width, channels = pixels.shape
    bits = pixels.dtype.itemsize * 8
    tags = Image.Exif()
    if exif:
        tags.load(exif)
    else:
        tags.endian = "<"
    tags[256] = width
    tags[257] = height
    tags[258] = (bits,) * channels
    tags[259] = 8  # Adobe Deflate.
    tags[262] = 2  # RGB.
    tags[277] = channels
    tags[278] = _ROWS_PER_STRIP
    tags[284] = 1  # Samples interleaved.
    tags[317] = 2  # Horizontal differencing.
    if channels == 4:
        tags[338] = 2  # Unassociated alpha.
    if dpi:
        tags[282] = float(dpi[0])
        tags[283] = float(dpi[1])
        tags[296] = 2  # Inch.
    if icc_profile:
        tags[34675] = icc_profile

    # The strips use the byte order of the EXIF block, which Pillow keeps.
    placeholder = tags.tobytes(offset=8).removeprefix(b"Exif\x00\x00")
    order = "<" if placeholder[:2] == b"II" else ">"
    # Horizontal differencing (TIFF predictor 2) makes photographs compress well.
    strips = []
    for top in range(0, height, _ROWS_PER_STRIP):
        rows = pixels[top:top + _ROWS_PER_STRIP]
        differences = rows.copy()
        differences[:, 1:] -= rows[:, :-1]
        data = differences.astype(f"{order}u{pixels.dtype.itemsize}").tobytes()
        strips.append(zlib.compress(data, _ZLIB_LEVEL))

    # The header and directory come first and the strips follow. Pillow adds the
    # directory's end to StripOffsets, so they are given relative to it.
    starts = np.cumsum([0] + [len(strip) for strip in strips[:-1]])
    tags[273] = tuple(int(start) for start in starts)
    tags[279] = tuple(len(strip) for strip in strips)
    with open(path, "wb") as handle:
        handle.write(tags.tobytes(offset=8).removeprefix(b"Exif\x00\x00"))
        for strip in strips:
            handle.write(strip)
