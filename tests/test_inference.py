import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.color import rgb2lab

import engine.inference
from engine.errors import CancelledError, InferenceError
from engine.imaging import load_photo
from engine.inference import Colorizer, RenderSettings
from engine.modelfile import ModelInfo, save_generator
from engine.models import build_generator
from engine.tiling import TILE_SIZE, tile_grid, tile_starts
from tests.helpers import real_photos

LANDSCAPE = 2  # index of landscape_machu_picchu.jpg in real_photos()


@pytest.fixture(scope="module")
def shipped_colorizer():
    from engine.catalog import ModelCatalog

    return Colorizer(ModelCatalog().default().path, device="cpu")


def _untrained_model(folder, architecture):
    torch.manual_seed(0)
    num_classes = 5 if architecture == "unet-class" else None
    model = build_generator(architecture, 8, num_classes)
    info = ModelInfo(name=f"untrained {architecture}", architecture=architecture, width=8, num_classes=num_classes)
    return save_generator(folder / f"{architecture}.safetensors", model, info)


def _gray_photo(tmp_path, index=LANDSCAPE, long_side=None):
    """A black-and-white copy of a real photo, upscaled so that its long side is ``long_side``."""
    with Image.open(real_photos()[index]) as image:
        gray = image.convert("L")
        if long_side is not None:
            scale = long_side / max(gray.size)
            size = (round(gray.width * scale), round(gray.height * scale))
            gray = gray.resize(size, Image.Resampling.BICUBIC)
        path = tmp_path / f"gray_{index}_{gray.width}.png"
        gray.save(path)
    return load_photo(path)


def _lab(photo):
    return rgb2lab(photo.rgb.astype(np.float64))


def _tile_border_lines(length, overlap):
    edges = set()
    for start in tile_starts(length, overlap):
        edges |= {start, start + TILE_SIZE}
    return sorted(edges - {0, length})


def _seam_ratio(ab, overlap):
    """Mean ab gradient across tile borders divided by that 2 to 8 pixels away from them.

    ``ab`` is (H, W, 2) at the working resolution. About 1 means no seam.
    """
    height, width = ab.shape[:2]
    row_steps = np.abs(np.diff(ab, axis=0)).sum(axis=-1).mean(axis=1)
    column_steps = np.abs(np.diff(ab, axis=1)).sum(axis=-1).mean(axis=0)
    across, nearby = [], []
    for steps, borders in ((row_steps, _tile_border_lines(height, overlap)),
                           (column_steps, _tile_border_lines(width, overlap))):
        for border in borders:
            step = border - 1  # steps[i] is the change from line i to line i + 1
            across.append(steps[step])
            nearby.append(np.r_[steps[step - 8:step - 1], steps[step + 2:step + 9]].mean())
    return float(np.mean(across) / np.mean(nearby))


def _max_tile_colour_shift(ab, reference_ab, overlap):
    height, width = ab.shape[:2]
    shifts = []
    for top, left in tile_grid(height, width, overlap):
        window = (slice(top, top + TILE_SIZE), slice(left, left + TILE_SIZE))
        shifts.append(np.abs(ab[window].mean(axis=(0, 1)) - reference_ab[window].mean(axis=(0, 1))).max())
    return float(max(shifts))


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"render_size": 300}, "render_size"),
        ({"render_size": 128}, "render_size"),
        ({"render_size": 4096}, "render_size"),
        ({"strength": -0.1}, "strength"),
        ({"strength": 1.6}, "strength"),
        ({"working_size": 100}, "working_size"),
        ({"working_size": 1024.0}, "working_size"),
        ({"tile_overlap": -1}, "tile_overlap"),
        ({"tile_overlap": 129}, "tile_overlap"),
    ],
)
def test_render_settings_reject_invalid_values(changes, field):
    with pytest.raises(ValueError, match=field):
        RenderSettings(**changes)


def test_render_settings_are_frozen():
    settings = RenderSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.strength = 0.5


def test_whole_image_keeps_size_alpha_and_lightness(tmp_path, shipped_colorizer):
    with Image.open(real_photos()[0]) as image:
        rgba = image.convert("L").convert("RGBA")
    alpha = np.tile(np.linspace(0, 255, rgba.width, dtype=np.uint8), (rgba.height, 1))
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(tmp_path / "transparent.png")
    photo = load_photo(tmp_path / "transparent.png")

    result = shipped_colorizer.colorize(photo)

    assert result.size == photo.size
    assert np.array_equal(result.alpha, photo.alpha)
    assert np.abs(_lab(result)[..., 0] - _lab(photo)[..., 0]).max() < 0.5
    assert np.hypot(*_lab(result)[..., 1:].transpose(2, 0, 1)).mean() > 2.0


def test_strength_keyword_overrides_settings(tmp_path, shipped_colorizer):
    photo = _gray_photo(tmp_path)
    full = _lab(shipped_colorizer.colorize(photo, RenderSettings(strength=1.0)))
    none = _lab(shipped_colorizer.colorize(photo, RenderSettings(strength=1.0), strength=0.0))
    half = _lab(shipped_colorizer.colorize(photo, strength=0.5))

    assert np.abs(none[..., 1:]).max() < 0.5
    chroma_full = np.hypot(full[..., 1], full[..., 2]).mean()
    chroma_half = np.hypot(half[..., 1], half[..., 2]).mean()
    assert chroma_half == pytest.approx(chroma_full / 2, rel=0.1)


def test_settings_must_be_render_settings(tmp_path, shipped_colorizer):
    with pytest.raises(TypeError, match="strength="):
        shipped_colorizer.colorize(_gray_photo(tmp_path), 0.5)


def test_keep_tone_keeps_a_sepia_tint(tmp_path, shipped_colorizer):
    gray = _gray_photo(tmp_path).rgb[..., 0]
    sepia = np.stack((gray, gray * 0.86, gray * 0.65), axis=-1)
    Image.fromarray((sepia * 255 + 0.5).astype(np.uint8)).save(tmp_path / "sepia.png")
    photo = load_photo(tmp_path / "sepia.png")
    source_tint = _lab(photo)[..., 1:].mean(axis=(0, 1))

    toned = _lab(shipped_colorizer.colorize(photo, RenderSettings(strength=0.0, keep_tone=True)))
    plain = _lab(shipped_colorizer.colorize(photo, RenderSettings(strength=0.0)))

    assert source_tint[1] > 10  # the test image really is sepia (b* well above 0)
    assert np.abs(toned[..., 1:].mean(axis=(0, 1)) - source_tint).max() < 1.5
    assert np.abs(plain[..., 1:]).max() < 0.5


@pytest.mark.parametrize("architecture", ["unet", "unet-class", "shipped"])
def test_render_size_512(tmp_path, architecture, shipped_model):
    path = shipped_model if architecture == "shipped" else _untrained_model(tmp_path, architecture)
    colorizer = Colorizer(path, device="cpu")
    inputs = []
    original_forward = colorizer.model.forward

    def recording_forward(x, *args, **kwargs):
        inputs.append(tuple(x.shape))
        return original_forward(x, *args, **kwargs)

    colorizer.model.forward = recording_forward
    photo = _gray_photo(tmp_path, index=0)

    result = colorizer.colorize(photo, RenderSettings(render_size=512))
    baseline = colorizer.colorize(photo)

    assert inputs[0] == (1, 1, 512, 512)
    assert result.size == photo.size
    assert np.abs(result.rgb - baseline.rgb).max() > 1e-3


def test_classification_model_takes_global_branch_at_256(tmp_path):
    colorizer = Colorizer(_untrained_model(tmp_path, "unet-class"), device="cpu")
    model = colorizer.model
    global_inputs, fusion_vectors = [], []
    original_global, original_forward = model.global_features, model.forward

    def recording_global(x):
        global_inputs.append(tuple(x.shape))
        return original_global(x)

    def recording_forward(x, fusion_vector=None):
        fusion_vectors.append(fusion_vector.clone())
        return original_forward(x, fusion_vector=fusion_vector)

    model.global_features = recording_global
    model.forward = recording_forward
    photo = _gray_photo(tmp_path, long_side=700)

    colorizer.colorize(photo, RenderSettings(render_size=512, tiled=True, working_size=700))

    assert global_inputs == [(1, 1, 256, 256)]
    assert len(fusion_vectors) > 1  # the whole image, then the batches of tiles
    for vector in fusion_vectors:
        assert torch.equal(vector, fusion_vectors[0][:1].expand_as(vector))


def test_tiled_output_has_no_seams(tmp_path, shipped_colorizer):
    photo = _gray_photo(tmp_path, long_side=1024)
    settings = RenderSettings(tiled=True, working_size=1024, tile_overlap=64)

    tiled = _lab(shipped_colorizer.colorize(photo, settings))

    assert np.abs(tiled[..., 0] - _lab(photo)[..., 0]).max() < 0.5
    assert _seam_ratio(tiled[..., 1:], overlap=64) < 1.15


def test_seam_measure_detects_unmatched_tiles(tmp_path, shipped_colorizer, monkeypatch):
    # Without overlap and without low-frequency matching, each tile keeps its own
    # colour cast and its border artefacts, so the measure must flag the borders.
    monkeypatch.setattr(engine.inference, "match_low_frequencies", lambda tiles, reference, sigma: tiles)
    photo = _gray_photo(tmp_path, long_side=1024)
    settings = RenderSettings(tiled=True, working_size=1024, tile_overlap=0)

    unmatched = _lab(shipped_colorizer.colorize(photo, settings))

    assert _seam_ratio(unmatched[..., 1:], overlap=0) > 1.3


def test_tiled_colour_matches_whole_image(tmp_path, shipped_colorizer):
    photo = _gray_photo(tmp_path, long_side=1024)
    whole = _lab(shipped_colorizer.colorize(photo))
    tiled = _lab(shipped_colorizer.colorize(photo, RenderSettings(tiled=True, working_size=1024)))

    assert _max_tile_colour_shift(tiled[..., 1:], whole[..., 1:], overlap=64) < 1.5
    # The tiles add detail: the result is not just the whole-image prediction.
    assert np.abs(tiled[..., 1:] - whole[..., 1:]).mean() > 0.5


def test_tiled_mode_on_a_small_photo(tmp_path, shipped_colorizer):
    photo = _gray_photo(tmp_path, index=3)  # 333x221: upsampled to the working size, then back
    result = shipped_colorizer.colorize(photo, RenderSettings(tiled=True, working_size=512))
    assert result.size == photo.size
    assert np.abs(_lab(result)[..., 0] - _lab(photo)[..., 0]).max() < 0.5


def test_progress_counts_increase(tmp_path, shipped_colorizer):
    calls = []
    photo = _gray_photo(tmp_path, long_side=800)
    shipped_colorizer.colorize(
        photo, RenderSettings(tiled=True, working_size=800), progress=lambda done, total: calls.append((done, total))
    )
    done = [call[0] for call in calls]
    totals = {call[1] for call in calls}
    assert len(totals) == 1
    assert all(later > earlier for earlier, later in zip(done, done[1:]))
    assert done[-1] == totals.pop()
    assert len(calls) >= 4


def test_cancel_between_tiles(tmp_path, monkeypatch):
    colorizer = Colorizer(_untrained_model(tmp_path, "unet"), device="cpu", tile_batch_size=2)
    batches = []
    original = colorizer._call_model

    def counting_call(l_input, fusion, device):
        batches.append(l_input.shape[0])
        return original(l_input, fusion, device)

    monkeypatch.setattr(colorizer, "_call_model", counting_call)
    photo = _gray_photo(tmp_path, long_side=1024)

    with pytest.raises(CancelledError, match="cancelled"):
        colorizer.colorize(photo, RenderSettings(tiled=True, working_size=1024), cancel=lambda: len(batches) >= 3)

    assert len(batches) == 3  # the whole image, then two of the eight batches of tiles


def test_cancel_before_start(tmp_path, shipped_colorizer):
    with pytest.raises(CancelledError):
        shipped_colorizer.colorize(_gray_photo(tmp_path), cancel=lambda: True)


def test_out_of_memory_halves_the_batch(tmp_path, monkeypatch):
    colorizer = Colorizer(_untrained_model(tmp_path, "unet"), device="cpu", tile_batch_size=8)
    photo = _gray_photo(tmp_path, long_side=900)
    settings = RenderSettings(tiled=True, working_size=900)
    expected = colorizer.colorize(photo, settings)
    original = colorizer._call_model
    batch_sizes = []

    def small_memory(l_input, fusion, device):
        batch_sizes.append(l_input.shape[0])
        if l_input.shape[0] > 2:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return original(l_input, fusion, device)

    monkeypatch.setattr(colorizer, "_call_model", small_memory)
    messages = []

    result = colorizer.colorize(photo, settings, notify=messages.append)

    assert len(messages) == 2
    assert "4 tile(s) per batch" in messages[0]
    assert "2 tile(s) per batch" in messages[1]
    assert colorizer.tile_batch_size == 2
    assert max(batch_sizes[batch_sizes.index(2):]) == 2
    assert np.allclose(result.rgb, expected.rgb, atol=1e-5)


def test_out_of_memory_moves_to_cpu(tmp_path, monkeypatch):
    colorizer = Colorizer(_untrained_model(tmp_path, "unet-class"), device="cpu", tile_batch_size=2)
    photo = _gray_photo(tmp_path, long_side=600)
    settings = RenderSettings(tiled=True, working_size=600)
    expected = colorizer.colorize(photo, settings)

    # Pretend that the colorizer runs on a GPU whose memory is always exhausted.
    placements = []
    original_call = colorizer._call_model
    original_global = colorizer._call_global_branch
    monkeypatch.setattr(colorizer, "_device", torch.device("cuda"))
    monkeypatch.setattr(colorizer, "_model_device", torch.device("cuda"))

    def record_placement(device):
        placements.append(device.type)
        colorizer._model_device = device

    monkeypatch.setattr(colorizer, "_place_model", record_placement)

    def gpu_out_of_memory(call):
        def wrapped(*args):
            if args[-1].type == "cuda":
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
            return call(*args)
        return wrapped

    monkeypatch.setattr(colorizer, "_call_model", gpu_out_of_memory(original_call))
    monkeypatch.setattr(colorizer, "_call_global_branch", gpu_out_of_memory(original_global))
    messages = []

    result = colorizer.colorize(photo, settings, notify=messages.append)

    assert len(messages) == 1
    assert "continuing on the CPU" in messages[0]
    assert placements == ["cpu", "cuda"]  # moved for this photo, then back for the next
    assert np.allclose(result.rgb, expected.rgb, atol=1e-5)


def test_out_of_memory_on_cpu_raises(tmp_path, monkeypatch):
    colorizer = Colorizer(_untrained_model(tmp_path, "unet"), device="cpu")

    def no_memory(l_input, fusion, device):
        raise torch.OutOfMemoryError("out of memory (simulated)")

    monkeypatch.setattr(colorizer, "_call_model", no_memory)
    with pytest.raises(InferenceError, match="out of memory on the CPU"):
        colorizer.colorize(_gray_photo(tmp_path))


@pytest.mark.parametrize("value, message", [(float("nan"), "NaN"), (0.0, "no colour")])
def test_unusable_prediction_raises(tmp_path, monkeypatch, value, message):
    colorizer = Colorizer(_untrained_model(tmp_path, "unet"), device="cpu")

    def broken(l_input, fusion, device):
        return torch.full((l_input.shape[0], 2, *l_input.shape[2:]), value)

    monkeypatch.setattr(colorizer, "_call_model", broken)
    with pytest.raises(InferenceError, match=message):
        colorizer.colorize(_gray_photo(tmp_path))


def test_device_list_starts_with_auto_and_cpu():
    from engine.devices import available_devices, pick_device

    devices = available_devices()
    assert devices[0][0] == "auto"
    assert devices[1] == ("cpu", "CPU")
    for device_id, label in devices:
        assert label
        pick_device(device_id)
    if torch.cuda.is_available():
        assert devices[2][0] == "cuda:0"


def test_cli_colorize_tiled_to_16_bit_tiff(tmp_path, shipped_model):
    import tifffile

    from engine.cli import main

    source = tmp_path / "scan.png"
    with Image.open(real_photos()[0]) as image:
        image.convert("L").save(source)
    out_dir = tmp_path / "out"
    code = main([
        "colorize", str(source), "-o", str(out_dir), "--model", str(shipped_model), "--tiled",
        "--working-size", "512", "--tile-overlap", "32", "--render-size", "512", "--keep-tone",
        "--format", "tiff", "--bit-depth", "16", "--name", "{name}_{model}",
    ])
    assert code == 0
    (written,) = out_dir.iterdir()
    assert written.name == f"scan_{shipped_model.stem}.tif"
    assert tifffile.imread(written).dtype == np.uint16


def test_cli_colorize_rejects_invalid_render_size(tmp_path, shipped_model, capsys):
    from engine.cli import main

    code = main(["colorize", str(real_photos()[0]), "-o", str(tmp_path), "--model", str(shipped_model),
                 "--render-size", "300"])
    assert code == 2
    assert "render_size must be a multiple of 256" in capsys.readouterr().err
