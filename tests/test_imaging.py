import io
import logging
import struct

import numpy as np
import pytest
import tifffile
from PIL import Image, ImageCms

from engine.errors import ImageReadError
from engine.imaging import SRGB_ICC_PROFILE, apply_orientation, load_photo, load_thumbnail
from tests.helpers import real_photos

ORIENTATION = 0x0112
MAKE = 0x010F


def _s15_fixed16(*values):
    return b"".join(struct.pack(">i", round(value * 65536)) for value in values)


def gamma_profile(gamma=1.8, description="Gamma 1.8 RGB (test)"):
    """Build a minimal ICC v2 RGB display profile: sRGB primaries, a pure gamma curve.

    It is not sRGB, so loading must convert pixels that carry it.
    """
    text = description.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    tags = [
        (b"desc", desc),
        (b"wtpt", b"XYZ \0\0\0\0" + _s15_fixed16(0.9642, 1.0, 0.8249)),
        (b"rXYZ", b"XYZ \0\0\0\0" + _s15_fixed16(0.4361, 0.2225, 0.0139)),
        (b"gXYZ", b"XYZ \0\0\0\0" + _s15_fixed16(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", b"XYZ \0\0\0\0" + _s15_fixed16(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text\0\0\0\0public domain\0"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, body in tags:
        table += signature + struct.pack(">II", offset + len(data), len(body))
        data += body + b"\0" * (-len(body) % 4)
    size = offset + len(data)
    header = (
        struct.pack(">I", size) + b"\0" * 4 + bytes((2, 0x10, 0, 0)) + b"mntrRGB XYZ "
        + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24
        + struct.pack(">I", 0) + _s15_fixed16(0.9642, 1.0, 0.8249) + b"\0" * 48
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + data


def _asymmetric_pixels(dtype=np.uint16, channels=3, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.random((30, 47, channels)) * np.iinfo(dtype).max).astype(dtype)


def test_gamma_profile_is_usable():
    profile = ImageCms.ImageCmsProfile(io.BytesIO(gamma_profile()))
    assert "Gamma 1.8" in ImageCms.getProfileDescription(profile)


def test_16_bit_rgb_tiff_keeps_precision(tmp_path):
    pixels = _asymmetric_pixels()
    tifffile.imwrite(tmp_path / "scan.tif", pixels, photometric="rgb")

    photo = load_photo(tmp_path / "scan.tif")

    assert photo.bit_depth == 16
    assert photo.alpha is None
    assert np.array_equal(np.round(photo.rgb * 65535).astype(np.uint16), pixels)
    assert np.any(pixels % 257 != 0)  # values an 8-bit read could not give


def test_16_bit_rgba_tiff_keeps_alpha(tmp_path):
    pixels = _asymmetric_pixels(channels=4)
    tifffile.imwrite(tmp_path / "scan.tif", pixels, photometric="rgb", extrasamples=["unassalpha"])

    photo = load_photo(tmp_path / "scan.tif")

    assert np.array_equal(np.round(photo.alpha * 65535).astype(np.uint16), pixels[..., 3])
    assert np.array_equal(np.round(photo.rgb * 65535).astype(np.uint16), pixels[..., :3])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_16_bit_tiff_orientation_matches_pillow(tmp_path, orientation):
    pixels = _asymmetric_pixels()
    tifffile.imwrite(
        tmp_path / "deep.tif", pixels, photometric="rgb", extratags=[(ORIENTATION, "H", 1, orientation, True)]
    )
    Image.fromarray((pixels >> 8).astype(np.uint8)).save(tmp_path / "shallow.tif", tiffinfo={ORIENTATION: orientation})

    deep = load_photo(tmp_path / "deep.tif")
    shallow = load_photo(tmp_path / "shallow.tif")

    assert deep.bit_depth == 16
    assert shallow.bit_depth == 8
    height, width = pixels.shape[:2]
    assert deep.size == ((height, width) if orientation >= 5 else (width, height))
    assert shallow.size == deep.size
    high_bytes = (np.round(deep.rgb * 65535).astype(np.uint16) >> 8).astype(np.uint8)
    assert np.array_equal(high_bytes, np.round(shallow.rgb * 255).astype(np.uint8))
    exif = Image.Exif()
    exif.load(deep.exif)
    assert exif[ORIENTATION] == 1


def test_apply_orientation_rejects_nothing_unknown():
    pixels = _asymmetric_pixels()
    assert apply_orientation(pixels, 0) is pixels
    assert apply_orientation(pixels, 9) is pixels


def test_16_bit_tiff_with_foreign_profile_is_converted(tmp_path, caplog):
    pixels = _asymmetric_pixels()
    tifffile.imwrite(tmp_path / "scan.tif", pixels, photometric="rgb", iccprofile=gamma_profile())

    with caplog.at_level(logging.WARNING, logger="engine.imaging"):
        photo = load_photo(tmp_path / "scan.tif")

    assert photo.bit_depth == 8
    assert photo.icc_profile == SRGB_ICC_PROFILE
    assert "8-bit precision" in caplog.text
    # Gamma 1.8 pixels shown as sRGB (about gamma 2.2) come out lighter in the middle.
    assert photo.rgb.mean() > (pixels >> 8).mean() / 255 + 0.01


def test_srgb_16_bit_tiff_stays_16_bit(tmp_path):
    pixels = _asymmetric_pixels()
    tifffile.imwrite(tmp_path / "scan.tif", pixels, photometric="rgb", iccprofile=SRGB_ICC_PROFILE)

    photo = load_photo(tmp_path / "scan.tif")

    assert photo.bit_depth == 16
    assert photo.icc_profile == SRGB_ICC_PROFILE


def test_jpeg_metadata_is_read_and_orientation_applied(tmp_path):
    with Image.open(real_photos()[0]) as image:
        width, height = image.size
        exif = Image.Exif()
        exif[ORIENTATION] = 6
        exif[MAKE] = "TestCam"
        image.save(tmp_path / "rotated.jpg", exif=exif.tobytes(), icc_profile=gamma_profile(), dpi=(300, 300))

    photo = load_photo(tmp_path / "rotated.jpg")

    assert photo.size == (height, width)
    assert photo.icc_profile == SRGB_ICC_PROFILE
    assert photo.dpi == pytest.approx((300.0, 300.0))
    kept = Image.Exif()
    kept.load(photo.exif)
    assert kept[ORIENTATION] == 1
    assert kept[MAKE] == "TestCam"


def test_photo_without_profile_has_none(tmp_path):
    with Image.open(real_photos()[1]) as image:
        image.save(tmp_path / "plain.png")
    assert load_photo(tmp_path / "plain.png").icc_profile is None


def test_tiff_exif_drops_layout_tags(tmp_path):
    with Image.open(real_photos()[1]) as image:
        image.save(tmp_path / "tagged.tif", tiffinfo={MAKE: "ScanCo", ORIENTATION: 1})

    photo = load_photo(tmp_path / "tagged.tif")

    kept = Image.Exif()
    kept.load(photo.exif)
    assert kept[MAKE] == "ScanCo"
    assert 256 not in kept  # ImageWidth belongs to the file, not to the kept EXIF
    assert 273 not in kept  # StripOffsets


def test_16_bit_grayscale_png_keeps_precision(tmp_path):
    values = (np.random.default_rng(4).random((20, 30)) * 65535).astype(np.uint16)
    Image.fromarray(values).save(tmp_path / "gray16.png")

    photo = load_photo(tmp_path / "gray16.png")

    assert photo.bit_depth == 16
    assert np.array_equal(np.round(photo.rgb[..., 0] * 65535).astype(np.uint16), values)


def _mean_abs_difference(small, photo):
    reduced = photo.to_pil().convert("RGB").resize(small.size, Image.Resampling.LANCZOS)
    return np.abs(np.asarray(reduced, dtype=np.float32) / 255.0 - small.rgb).mean()


def test_large_jpeg_thumbnail_matches_photo(tmp_path):
    with Image.open(real_photos()[2]) as image:
        exif = Image.Exif()
        exif[ORIENTATION] = 6
        image.resize((3000, 1688)).save(tmp_path / "large.jpg", quality=92, exif=exif.tobytes(),
                                        icc_profile=gamma_profile())

    small, size = load_thumbnail(tmp_path / "large.jpg", 96)
    photo = load_photo(tmp_path / "large.jpg")

    assert size == photo.size == (1688, 3000)
    assert max(small.size) == 96
    assert small.size[0] < small.size[1]
    # Same orientation and colours (ICC-converted) as the full read, shrunk.
    assert _mean_abs_difference(small, photo) < 0.02


@pytest.mark.parametrize("mode", ["RGBA", "L", "I;16", "P", "1"])
def test_thumbnail_of_png_modes(tmp_path, mode):
    with Image.open(real_photos()[1]) as image:
        if mode == "I;16":
            converted = Image.fromarray(np.asarray(image.convert("L"), dtype=np.uint16) * 257)
        else:
            converted = image.convert(mode)
        converted.save(tmp_path / "photo.png")

    small, size = load_thumbnail(tmp_path / "photo.png", 64)
    photo = load_photo(tmp_path / "photo.png")

    assert size == photo.size
    assert (small.alpha is not None) == (mode == "RGBA")
    assert _mean_abs_difference(small, photo) < 0.03


def test_broken_file_thumbnail_error(tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(real_photos()[0].read_bytes()[:300])
    with pytest.raises(ImageReadError, match="broken.jpg: could not decode"):
        load_thumbnail(broken, 96)
