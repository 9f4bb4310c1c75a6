import dataclasses
import datetime
import errno
import os
import struct
import zlib

import numpy as np
import pytest
import tifffile
from PIL import Image

import engine.atomic
import engine.export
from engine.errors import ExportError
from engine.export import BIT_DEPTHS, FORMATS, export_photo
from engine.imaging import SRGB_ICC_PROFILE, load_photo
from tests.helpers import real_photos, sha256

ORIENTATION = 0x0112
MAKE = 0x010F
EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 0x9003
CASES = [(fmt, depth) for fmt in FORMATS for depth in BIT_DEPTHS[fmt]]


@pytest.fixture
def camera_photo(tmp_path):
    """A real photo loaded from a JPEG with orientation 6, EXIF, an sRGB profile and 300 dpi."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[MAKE] = "TestCam"
    exif.get_ifd(EXIF_IFD)[DATE_TIME_ORIGINAL] = "1950:06:01 12:00:00"
    source = tmp_path / "source" / "holiday.jpg"
    source.parent.mkdir()
    with Image.open(real_photos()[0]) as image:
        image.save(source, exif=exif.tobytes(), icc_profile=SRGB_ICC_PROFILE, dpi=(300, 300), quality=95)
    return load_photo(source)


@pytest.fixture
def out_dir(tmp_path):
    """An empty output folder beside the source photos."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


def _with_fine_values(photo, alpha=False, shape=None):
    """The photo with random pixels that 8 bits cannot hold, and optionally an alpha ramp."""
    rng = np.random.default_rng(0)
    height, width = shape or photo.rgb.shape[:2]
    changes = {"rgb": rng.random((height, width, 3)).astype(np.float32)}
    if alpha:
        changes["alpha"] = np.tile(np.linspace(0, 1, width, dtype=np.float32), (height, 1))
    return dataclasses.replace(photo, **changes)


def _read_png_16(path):
    """Decode a 16-bit RGB(A) PNG independently of the writer: chunks, CRCs, all five filters."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks = 8, []
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        body = data[position + 8:position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length:position + 12 + length])
        assert crc == zlib.crc32(kind + body), kind
        chunks.append((kind, body))
        position += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", chunks[0][1][:10])
    assert depth == 16
    channels = {2: 3, 6: 4}[colour_type]
    pixel_bytes = 2 * channels
    stride = width * pixel_bytes
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    rows = np.zeros((height + 1, stride), dtype=np.int64)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        kind, values = line[0], np.frombuffer(line[1:], dtype=np.uint8).astype(np.int64)
        above = rows[y]
        current = rows[y + 1]
        for x in range(stride):
            left = current[x - pixel_bytes] if x >= pixel_bytes else 0
            upper_left = above[x - pixel_bytes] if x >= pixel_bytes else 0
            if kind == 0:
                predictor = 0
            elif kind == 1:
                predictor = left
            elif kind == 2:
                predictor = above[x]
            elif kind == 3:
                predictor = (left + above[x]) // 2
            else:
                estimate = left + above[x] - upper_left
                distances = [abs(estimate - left), abs(estimate - above[x]), abs(estimate - upper_left)]
                predictor = (left, above[x], upper_left)[int(np.argmin(distances))]
            current[x] = (values[x] + predictor) % 256
    pixels = rows[1:].astype(np.uint8).reshape(height, width * channels, 2)
    return (pixels[..., 0].astype(np.uint16) << 8 | pixels[..., 1]).reshape(height, width, channels), dict(chunks)


def _assert_16_bit_equal(pixels, values):
    """Check that uint16 ``pixels`` are ``values`` in [0, 1] rounded to 16 bits."""
    assert pixels.dtype == np.uint16
    assert np.abs(pixels - values.astype(np.float64) * 65535).max() <= 0.5 + 1e-2


def _exif_of(image):
    exif = image.getexif()
    return exif, exif.get_ifd(EXIF_IFD)


@pytest.mark.parametrize("fmt, bit_depth", CASES)
def test_export_keeps_metadata(out_dir, camera_photo, fmt, bit_depth):
    path = export_photo(camera_photo, out_dir, fmt=fmt, bit_depth=bit_depth)

    assert path == out_dir / f"holiday_colorized{FORMATS[fmt]}"
    with Image.open(path) as written:
        written.load()
        assert written.size == camera_photo.size
        exif, exif_ifd = _exif_of(written)
        assert exif[ORIENTATION] == 1
        assert exif[MAKE] == "TestCam"
        assert exif_ifd[DATE_TIME_ORIGINAL] == "1950:06:01 12:00:00"
        assert written.info.get("icc_profile") == SRGB_ICC_PROFILE
        if fmt != "webp":  # WebP has no resolution field
            assert written.info["dpi"] == pytest.approx((300, 300), abs=0.01)
        pixels = np.asarray(written.convert("RGB"), dtype=np.float32) / 255
    error = np.abs(pixels - camera_photo.rgb)
    if fmt in ("png", "tiff"):
        assert error.max() <= 1 / 255 + 1e-6
    else:
        assert error.mean() < 0.03


def test_16_bit_tiff_is_really_16_bit(out_dir, camera_photo):
    photo = _with_fine_values(camera_photo, alpha=True)
    path = export_photo(photo, out_dir, fmt="tiff", bit_depth=16)

    with tifffile.TiffFile(path) as tiff:
        page = tiff.pages[0]
        pixels = page.asarray()
        assert page.bitspersample == 16
        assert page.tags["Orientation"].value == 1
        assert page.tags["Make"].value == "TestCam"
        assert page.tags["ExifTag"].value["DateTimeOriginal"] == "1950:06:01 12:00:00"
        assert page.tags["InterColorProfile"].value == SRGB_ICC_PROFILE
    _assert_16_bit_equal(pixels[..., :3], photo.rgb)
    _assert_16_bit_equal(pixels[..., 3], photo.alpha)
    assert np.any(pixels % 257 != 0)


@pytest.mark.parametrize("alpha", [False, True])
def test_16_bit_png_is_really_16_bit(out_dir, camera_photo, alpha):
    photo = _with_fine_values(camera_photo, alpha=alpha, shape=(70, 90))
    path = export_photo(photo, out_dir, fmt="png", bit_depth=16)

    pixels, chunks = _read_png_16(path)

    _assert_16_bit_equal(pixels[..., :3], photo.rgb)
    if alpha:
        _assert_16_bit_equal(pixels[..., 3], photo.alpha)
    assert zlib.decompress(chunks[b"iCCP"].split(b"\0", 1)[1][1:]) == SRGB_ICC_PROFILE
    assert b"pHYs" in chunks
    assert b"eXIf" in chunks


@pytest.mark.parametrize("fmt", ["png", "tiff", "webp"])
def test_alpha_is_kept(out_dir, camera_photo, fmt):
    photo = _with_fine_values(camera_photo, alpha=True)
    with Image.open(export_photo(photo, out_dir, fmt=fmt, quality=100)) as written:
        assert written.mode == "RGBA"
        alpha = np.asarray(written.getchannel("A"), dtype=np.float32) / 255
    assert np.abs(alpha - photo.alpha).max() <= 1 / 255 + 1e-6


def test_jpeg_flattens_alpha_onto_white(out_dir, camera_photo):
    photo = dataclasses.replace(camera_photo, alpha=np.zeros(camera_photo.rgb.shape[:2], dtype=np.float32))
    with Image.open(export_photo(photo, out_dir, fmt="jpeg")) as written:
        assert written.mode == "RGB"
        assert np.asarray(written).min() > 245


def test_no_profile_without_source_profile(tmp_path):
    with Image.open(real_photos()[1]) as image:
        image.save(tmp_path / "plain.png")
    photo = load_photo(tmp_path / "plain.png")
    out = tmp_path / "out"
    out.mkdir()
    for fmt in FORMATS:
        with Image.open(export_photo(photo, out, fmt=fmt)) as written:
            assert "icc_profile" not in written.info, fmt


def test_rerun_adds_numeric_suffix(out_dir, camera_photo):
    first = export_photo(camera_photo, out_dir)
    before = sha256(first)
    second = export_photo(camera_photo, out_dir)
    third = export_photo(camera_photo, out_dir)

    assert first.name == "holiday_colorized.png"
    assert second.name == "holiday_colorized_2.png"
    assert third.name == "holiday_colorized_3.png"
    assert sha256(first) == before


def test_never_writes_over_the_source(tmp_path):
    source = tmp_path / "scan.png"
    with Image.open(real_photos()[1]) as image:
        image.save(source)
    before = sha256(source)

    written = export_photo(load_photo(source), tmp_path, name_template="{name}")

    assert written.name == "scan_2.png"
    assert sha256(source) == before


def test_template_fields(out_dir, camera_photo):
    today = datetime.date.today().isoformat()
    path = export_photo(camera_photo, out_dir, "{name}-{model}-{date}", fmt="jpeg", model="user:family")
    assert path.name == f"holiday-user-family-{today}.jpg"


@pytest.mark.parametrize(
    "template, model, message",
    [
        ("{name}_{size}", None, "unknown field"),
        ("{}", None, "unknown field"),
        ("{name", None, "invalid name template"),
        ("{model}", None, "no model name was given"),
        ("out/{name}", None, "invalid file name"),
        ("   ", None, "invalid file name"),
    ],
)
def test_invalid_templates_raise(out_dir, camera_photo, template, model, message):
    with pytest.raises(ExportError, match=message):
        export_photo(camera_photo, out_dir, template, model=model)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize(
    "options, message",
    [
        ({"fmt": "gif"}, "unsupported export format"),
        ({"fmt": "jpeg", "bit_depth": 16}, "8 bits per channel"),
        ({"fmt": "webp", "bit_depth": 16}, "8 bits per channel"),
        ({"fmt": "tiff", "bit_depth": 12}, "8 or 16"),
        ({"quality": 0}, "quality"),
    ],
)
def test_invalid_options_raise(out_dir, camera_photo, options, message):
    with pytest.raises(ExportError, match=message):
        export_photo(camera_photo, out_dir, **options)


def test_missing_folder_raises(tmp_path, camera_photo):
    with pytest.raises(ExportError, match="output folder not found"):
        export_photo(camera_photo, tmp_path / "missing")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_folder_raises(tmp_path, camera_photo):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(ExportError, match="not writable"):
            export_photo(camera_photo, folder)
        assert list(folder.iterdir()) == []
    finally:
        folder.chmod(0o755)


def test_permission_denied_raises(out_dir, camera_photo, monkeypatch):
    # Simulates a read-only folder, as the real one cannot be tested as root.
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(engine.atomic.tempfile, "mkstemp", denied)
    with pytest.raises(ExportError, match="holiday_colorized.png.*not writable"):
        export_photo(camera_photo, out_dir)
    assert list(out_dir.iterdir()) == []


@pytest.mark.parametrize("fmt", ["tiff", "png"])
def test_disk_full_leaves_no_partial_file(out_dir, camera_photo, monkeypatch, fmt):
    # Each writer really writes its file, then the disk runs full on the last bytes.
    real_writer = engine.export.write_tiff if fmt == "tiff" else engine.export.write_png_16

    def runs_out_of_space(path, *args):
        real_writer(path, *args)
        assert path.stat().st_size > 0
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(engine.export, "write_tiff" if fmt == "tiff" else "write_png_16", runs_out_of_space)
    with pytest.raises(ExportError, match=rf"holiday_colorized\{FORMATS[fmt]}.*disk is full"):
        export_photo(camera_photo, out_dir, fmt=fmt, bit_depth=16)
    assert list(out_dir.iterdir()) == []


def test_export_format_tables_agree():
    assert list(FORMATS) == ["png", "jpeg", "tiff", "webp"]
    assert set(BIT_DEPTHS) == set(FORMATS) == set(engine.export.FORMAT_LABELS)
    assert all(8 in depths for depths in BIT_DEPTHS.values())
