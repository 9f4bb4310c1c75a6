"""Bad and unusual inputs through load_photo, Colorizer.colorize, export_photo and the CLI.

Each odd but valid image must colourize at its own size. Each bad file must raise a
ColorAppError whose message names the file. Originals stay byte-identical and no
partial output file is left in the output folder.
"""

from __future__ import annotations

import errno
import os
import pickle
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image
from safetensors.torch import save_file
from torch import nn

import engine.atomic
from engine.cli import main
from engine.errors import ExportError, ImageReadError, ModelFileError, TrainingError
from engine.export import export_photo
from engine.imaging import MAX_PIXELS, load_photo
from engine.inference import Colorizer
from engine.modelfile import ModelInfo, save_generator
from engine.models import build_generator
from engine.training.checkpoint import load_checkpoint
from tests.helpers import mean_chroma, real_photos, sha256

MIN_CHROMA = 1.0
"""Mean a*b* magnitude (Lab units) above which an output counts as coloured."""


@dataclass(frozen=True)
class Case:
    path: Path
    good: bool
    size: tuple[int, int] | None = None
    """(width, height) the colourized output must have; only for good cases."""


def _gray(index: int = 0) -> Image.Image:
    with Image.open(real_photos()[index]) as image:
        return image.convert("L")


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """Write a PNG that claims width x height 8-bit grayscale pixels but contains one empty row."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * (width + 1))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )
    return path


def _truncated(source: Path, target: Path) -> Path:
    data = source.read_bytes()
    target.write_bytes(data[: len(data) // 2])
    return target


def build_bad_images(folder: Path) -> dict[str, Case]:
    """Write image files that cannot be colourized into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    gray = _gray()
    whole_jpeg = folder / "whole.tmp.jpg"
    gray.save(whole_jpeg, quality=90)
    whole_png = folder / "whole.tmp.png"
    gray.save(whole_png)
    cases = {
        "zero-byte": folder / "empty.jpg",
        "truncated JPEG": _truncated(whole_jpeg, folder / "cut off.jpg"),
        "truncated PNG": _truncated(whole_png, folder / "cut off.png"),
        "text named .jpg": folder / "notes.jpg",
        "decompression bomb": _png_header_only(folder / "bomb.png", 20_000, 20_000),
    }
    whole_jpeg.unlink()
    whole_png.unlink()
    cases["zero-byte"].write_bytes(b"")
    cases["text named .jpg"].write_text("Aunt Rosa and Uncle Karl, summer 1952\n", encoding="utf-8")
    assert 20_000 * 20_000 > MAX_PIXELS
    return {name: Case(path, good=False) for name, path in cases.items()}


def build_odd_images(folder: Path) -> dict[str, Case]:
    """Write unusual but valid black-and-white images into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    gray = _gray(1)
    small = gray.resize((gray.width // 2, gray.height // 2))
    cases: dict[str, Case] = {}

    def add(name: str, path: Path, size: tuple[int, int]) -> None:
        cases[name] = Case(path, good=True, size=size)

    path = folder / "one pixel.png"
    gray.resize((1, 1)).save(path)
    add("1x1", path, (1, 1))

    path = folder / "panorama.png"
    gray.resize((20_000, 10)).save(path)
    add("20000x10", path, (20_000, 10))

    path = folder / "deep.png"
    values = (np.asarray(small, dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(values).save(path)
    add("16-bit grayscale PNG", path, small.size)

    path = folder / "deep rgb.tif"
    tifffile.imwrite(path, np.repeat(values[..., None], 3, axis=2), photometric="rgb")
    add("16-bit RGB TIFF", path, small.size)

    path = folder / "print.jpg"
    small.convert("RGB").convert("CMYK").save(path, quality=90)
    add("CMYK JPEG", path, small.size)

    path = folder / "palette.png"
    palette = small.convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    palette.save(path, transparency=0)
    add("palette PNG with transparency", path, small.size)

    path = folder / "faded.png"
    alpha = Image.linear_gradient("L").resize(small.size)
    Image.merge("LA", (small, alpha)).save(path)
    add("LA PNG", path, small.size)

    path = folder / "flicker.gif"
    frames = [small.convert("P"), small.rotate(180).convert("P")]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=200, loop=0)
    add("animated GIF", path, small.size)

    path = folder / "album.tif"
    pages = [small, small.rotate(180), small.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    pages[0].save(path, save_all=True, append_images=pages[1:])
    add("multi-page TIFF", path, small.size)

    path = folder / "sideways.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation 6: the pixels must be turned 90 degrees clockwise.
    small.save(path, exif=exif.tobytes(), quality=90)
    add("EXIF-rotated JPEG", path, (small.height, small.width))

    spaced = folder / "Fotos der Großeltern – Sommer 1952" / "Ōsaka 大阪"
    spaced.mkdir(parents=True)
    path = spaced / "Grand-mère à la plage.jpg"
    small.save(path, quality=90)
    add("non-ASCII spaced path", path, small.size)
    return cases


def build_all_images(folder: Path) -> dict[str, Case]:
    return {**build_odd_images(folder / "odd"), **build_bad_images(folder / "bad")}


def _model_with_pickle_payload(path: Path, marker: Path) -> Path:
    """Write a pickle that, if unpickled, creates ``marker`` (by calling open(marker, "w"))."""

    class CreatesMarker:
        def __reduce__(self):
            return open, (str(marker), "w")

    path.write_bytes(pickle.dumps({"generator": CreatesMarker()}, protocol=2))
    return path


def build_bad_models(folder: Path) -> tuple[dict[str, Path], Path]:
    """Write unusable model files and return them with the marker path a pickle payload would create."""
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "payload-ran"
    models = {
        "pickle as .safetensors": _model_with_pickle_payload(folder / "evil.safetensors", marker),
        "pickle as .pt": _model_with_pickle_payload(folder / "evil.pt", marker),
    }

    # ColorApp metadata for a width-8 U-Net, but the tensors of another network.
    other_network = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Conv2d(4, 2, 3))
    info = ModelInfo(name="Not a U-Net", architecture="unet", width=8)
    wrong = folder / "other network.safetensors"
    state = {name: tensor.contiguous() for name, tensor in other_network.state_dict().items()}
    save_file(state, str(wrong), metadata=info.to_metadata())
    models["wrong architecture"] = wrong

    whole = save_generator(folder / "whole.safetensors", build_generator("unet", 8),
                           ModelInfo(name="Whole", architecture="unet", width=8))
    models["truncated model"] = _truncated(whole, folder / "cut off.safetensors")
    whole.unlink()
    return models, marker


def _fingerprints(paths) -> dict[Path, str]:
    return {Path(path): sha256(path) for path in paths}


def _leftovers(folder: Path) -> list[str]:
    """Names of temporary or empty files in ``folder``, which a failed write must not leave."""
    return sorted(
        path.name for path in folder.rglob("*")
        if path.is_file() and (path.name.endswith(".part") or path.stat().st_size == 0)
    )


@pytest.fixture(scope="module")
def colorizer(shipped_model_path) -> Colorizer:
    return Colorizer(shipped_model_path, device="cpu")


@pytest.fixture(scope="module")
def shipped_model_path() -> Path:
    from engine.catalog import ModelCatalog

    return ModelCatalog().default().path


@pytest.fixture(scope="module")
def odd_images(tmp_path_factory) -> dict[str, Case]:
    return build_odd_images(tmp_path_factory.mktemp("odd"))


@pytest.fixture(scope="module")
def bad_images(tmp_path_factory) -> dict[str, Case]:
    return build_bad_images(tmp_path_factory.mktemp("bad"))


@pytest.fixture
def out_dir(tmp_path) -> Path:
    folder = tmp_path / "out"
    folder.mkdir()
    return folder


ODD_NAMES = [
    "1x1", "20000x10", "16-bit grayscale PNG", "16-bit RGB TIFF", "CMYK JPEG",
    "palette PNG with transparency", "LA PNG", "animated GIF", "multi-page TIFF",
    "EXIF-rotated JPEG", "non-ASCII spaced path",
]
BAD_NAMES = ["zero-byte", "truncated JPEG", "truncated PNG", "text named .jpg", "decompression bomb"]
BAD_REASONS = {
    "zero-byte": "not a readable image",
    "truncated JPEG": "truncated",
    "truncated PNG": "truncated",
    "text named .jpg": "not a readable image",
    "decompression bomb": "too large",
}
"""A phrase the engine's message for each bad image must contain."""
BAD_MODEL_NAMES = ["pickle as .safetensors", "pickle as .pt", "wrong architecture", "truncated model"]


@pytest.mark.parametrize("name", ODD_NAMES)
def test_odd_image_colorizes(name, odd_images, colorizer, out_dir):
    case = odd_images[name]
    before = sha256(case.path)

    photo = load_photo(case.path)
    result = colorizer.colorize(photo)
    written = export_photo(result, out_dir)

    assert photo.size == case.size
    assert result.size == case.size
    with Image.open(written) as image:
        assert image.size == case.size
    if case.size != (1, 1):
        # NOTE: a single pixel is rendered from a flat 256x256 input, so its colour is not checked.
        assert mean_chroma(written) > MIN_CHROMA
    assert sha256(case.path) == before
    assert _leftovers(out_dir) == []
    assert [path.name for path in out_dir.iterdir()] == [written.name]


def test_alpha_kept_for_transparent_sources(odd_images, colorizer, out_dir):
    for name in ("palette PNG with transparency", "LA PNG"):
        photo = load_photo(odd_images[name].path)
        assert photo.alpha is not None, name
        written = export_photo(colorizer.colorize(photo), out_dir)
        with Image.open(written) as image:
            assert image.mode == "RGBA", name


def test_16_bit_sources_stay_16_bit(odd_images):
    for name in ("16-bit grayscale PNG", "16-bit RGB TIFF"):
        assert load_photo(odd_images[name].path).bit_depth == 16, name


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_image_raises_naming_file(name, bad_images):
    case = bad_images[name]
    before = sha256(case.path)

    with pytest.raises(ImageReadError) as caught:
        load_photo(case.path)

    message = str(caught.value)
    assert message.startswith(f"{case.path}: ")
    assert BAD_REASONS[name] in message
    assert "Traceback" not in message
    assert sha256(case.path) == before


def test_bomb_message_states_limit(bad_images):
    with pytest.raises(ImageReadError, match="too large|over the limit"):
        load_photo(bad_images["decompression bomb"].path)


def test_image_under_max_pixels_not_called_too_large(tmp_path):
    # 12000 x 10000 = 120 MP: under MAX_PIXELS, over Pillow's default of 89,478,485.
    path = _png_header_only(tmp_path / "large scan.png", 12_000, 10_000)
    assert 12_000 * 10_000 < MAX_PIXELS
    # The file ends after one row: Pillow may fill the rest or fail, but not for its size.
    try:
        photo = load_photo(path)
    except ImageReadError as error:
        assert "too large" not in str(error)
    else:
        assert photo.size == (12_000, 10_000)


def test_file_deleted_while_queued(tmp_path):
    path = tmp_path / "scan.jpg"
    _gray().save(path)
    path.unlink()
    with pytest.raises(ImageReadError, match="file not found"):
        load_photo(path)


def _deny_writes_in(folder: Path, monkeypatch) -> None:
    """Make every write into ``folder`` fail with EACCES, as in a read-only folder for a non-root user."""
    folder = folder.resolve()
    real_open, real_link, real_replace = os.open, os.link, os.replace
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def inside(path) -> bool:
        return Path(os.fsdecode(path)).resolve().parent == folder

    def denied(path):
        return PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))

    def guarded_open(path, flags, *args, **kwargs):
        if flags & write_flags and inside(path):
            raise denied(path)
        return real_open(path, flags, *args, **kwargs)

    def guarded_link(source, target, *args, **kwargs):
        if inside(target):
            raise denied(target)
        return real_link(source, target, *args, **kwargs)

    def guarded_replace(source, target, *args, **kwargs):
        if inside(target):
            raise denied(target)
        return real_replace(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "link", guarded_link)
    monkeypatch.setattr(os, "replace", guarded_replace)


def test_read_only_output_folder(odd_images, colorizer, out_dir, monkeypatch):
    case = odd_images["EXIF-rotated JPEG"]
    before = sha256(case.path)
    result = colorizer.colorize(load_photo(case.path))
    out_dir.chmod(0o555)
    _deny_writes_in(out_dir, monkeypatch)
    try:
        with pytest.raises(ExportError) as caught:
            export_photo(result, out_dir)
    finally:
        out_dir.chmod(0o755)

    message = str(caught.value)
    assert message.startswith(str(out_dir / "sideways_colorized.png"))
    assert "not writable" in message
    assert list(out_dir.iterdir()) == []
    assert sha256(case.path) == before


def test_read_only_folder_link_denied_only(odd_images, colorizer, out_dir, monkeypatch):
    # A file system without hard links (FAT) denies link() but allows a rename,
    # so the export still lands under its final name.
    def no_links(*args, **kwargs):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    result = colorizer.colorize(load_photo(odd_images["CMYK JPEG"].path))
    monkeypatch.setattr(engine.atomic.os, "link", no_links)
    written = export_photo(result, out_dir)
    assert [path.name for path in out_dir.iterdir()] == [written.name]


def test_full_disk_leaves_nothing(odd_images, colorizer, out_dir, monkeypatch):
    # Real file systems often report ENOSPC only when the written data is flushed.
    def flush_fails(path):
        assert path.stat().st_size > 0
        raise OSError(errno.ENOSPC, "No space left on device")

    case = odd_images["16-bit RGB TIFF"]
    before = sha256(case.path)
    result = colorizer.colorize(load_photo(case.path))
    monkeypatch.setattr(engine.atomic, "_fsync", flush_fails)

    with pytest.raises(ExportError) as caught:
        export_photo(result, out_dir, fmt="tiff", bit_depth=16)

    assert str(caught.value).startswith(str(out_dir / "deep rgb_colorized.tif"))
    assert "disk is full" in str(caught.value)
    assert list(out_dir.iterdir()) == []
    assert sha256(case.path) == before


@pytest.fixture(scope="module")
def bad_models(tmp_path_factory) -> tuple[dict[str, Path], Path]:
    return build_bad_models(tmp_path_factory.mktemp("models"))


@pytest.mark.parametrize("name", BAD_MODEL_NAMES)
def test_bad_model_raises_naming_file(name, bad_models):
    models, marker = bad_models
    path = models[name]
    before = sha256(path)

    with pytest.raises(ModelFileError) as caught:
        Colorizer(path, device="cpu")

    assert str(caught.value).startswith(f"{path}: ")
    assert not marker.exists()
    assert sha256(path) == before


def test_pickle_checkpoint_not_executed(bad_models):
    models, marker = bad_models
    with pytest.raises(TrainingError, match="cannot load the checkpoint"):
        load_checkpoint(models["pickle as .pt"])
    assert not marker.exists()


def test_pickle_checkpoint_message_is_plain(bad_models):
    models, _ = bad_models
    with pytest.raises(TrainingError) as caught:
        load_checkpoint(models["pickle as .pt"])

    message = str(caught.value)
    assert "\n" not in message
    assert "\x1b" not in message
    assert "weights_only" not in message
    assert "add_safe_globals" not in message


def test_cli_reports_each_bad_input(tmp_path, shipped_model_path, capsys):
    cases = build_all_images(tmp_path / "inputs")
    deleted = tmp_path / "inputs" / "deleted before the run.jpg"
    _gray().save(deleted)
    deleted.unlink()
    inputs = [case.path for case in cases.values()] + [deleted]
    originals = _fingerprints(case.path for case in cases.values())
    out_dir = tmp_path / "out"

    code = main(["colorize", *map(str, inputs), "-o", str(out_dir), "--model", str(shipped_model_path),
                 "--device", "cpu"])

    captured = capsys.readouterr()
    bad = [case.path for case in cases.values() if not case.good] + [deleted]
    good = [case.path for case in cases.values() if case.good]
    failure_lines = [line for line in captured.err.splitlines() if line.startswith("failed: ")]
    assert code == 1
    assert len(failure_lines) == len(bad)
    for path in bad:
        assert sum(line.startswith(f"failed: {path}: ") for line in failure_lines) == 1, path
    assert f"{len(bad)} of {len(inputs)} inputs failed" in captured.err
    written = sorted(path.name for path in out_dir.iterdir())
    assert written == sorted(f"{path.stem}_colorized.png" for path in good)
    assert len(captured.out.splitlines()) == len(good)
    assert _leftovers(out_dir) == []
    assert _fingerprints(originals) == originals


@pytest.mark.parametrize("name", BAD_MODEL_NAMES)
def test_cli_rejects_bad_model(name, tmp_path, bad_models, capsys):
    models, marker = bad_models
    photo = tmp_path / "scan.jpg"
    _gray().save(photo)
    out_dir = tmp_path / "out"

    code = main(["colorize", str(photo), "-o", str(out_dir), "--model", str(models[name]), "--device", "cpu"])

    captured = capsys.readouterr()
    error_lines = [line for line in captured.err.splitlines() if line.startswith("error: ")]
    assert code == 2
    assert len(error_lines) == 1
    assert error_lines[0].startswith(f"error: {models[name]}: ")
    assert not out_dir.exists() or list(out_dir.iterdir()) == []
    assert not marker.exists()
