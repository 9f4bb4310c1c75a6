import json

import pytest
import torch
from safetensors.torch import save_file

from engine.errors import ModelFileError
from engine.modelfile import ModelInfo, load_generator, read_model_info, save_generator
from engine.models import build_generator


def _info(**overrides):
    fields = dict(
        name="Test model",
        architecture="unet-class",
        width=8,
        num_classes=4,
        recipe="pix2pix-class",
        hyperparameters={"batch_size": 8, "generator_lr": 2e-4},
        training_data={"photos": 12, "licences": ["CC-BY-SA-4.0"]},
        metrics={"val_psnr": 23.5},
        label_centers=[[0.1] * 64] * 4,
    )
    fields.update(overrides)
    return ModelInfo(**fields)


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    model = build_generator("unet-class", 8, num_classes=4).eval()
    path = save_generator(tmp_path / "model.safetensors", model, _info())
    return path, model


def test_round_trip_keeps_metadata(saved):
    path, _ = saved
    info = read_model_info(path)
    assert info == _info()


def test_round_trip_keeps_weights_in_fp16(saved):
    path, model = saved
    loaded, _ = load_generator(path)
    for name, tensor in model.state_dict().items():
        reloaded = loaded.state_dict()[name]
        if tensor.is_floating_point():
            assert torch.allclose(reloaded, tensor.half().float())
        else:
            assert torch.equal(reloaded, tensor)
    assert not loaded.training


def test_round_trip_predictions_agree(saved):
    path, model = saved
    loaded, _ = load_generator(path)
    x = torch.rand(1, 1, 256, 256) * 2 - 1
    with torch.no_grad():
        expected, _ = model(x)
        result, _ = loaded(x)
    assert (expected - result).abs().max() < 1e-2


def test_save_is_fp16_and_compact(saved):
    path, model = saved
    parameters = sum(p.numel() for p in model.parameters())
    assert path.stat().st_size < parameters * 2 * 1.1


def test_truncated_file_raises(saved, tmp_path):
    path, _ = saved
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="truncated.safetensors"):
        load_generator(truncated)


def test_garbage_file_raises(tmp_path):
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"\x00\x01not a model at all" * 10)
    with pytest.raises(ModelFileError, match="garbage.safetensors"):
        read_model_info(path)


def test_missing_file_raises(tmp_path):
    with pytest.raises(ModelFileError, match="not found"):
        read_model_info(tmp_path / "absent.safetensors")


def test_foreign_safetensors_raises(tmp_path):
    path = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3)}, str(path), metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match="not a valid ColorApp model"):
        read_model_info(path)


def test_wrong_shapes_raise(tmp_path):
    model = build_generator("unet", 8)
    path = save_generator(tmp_path / "m.safetensors", model, _info(architecture="unet", width=16, num_classes=None))
    with pytest.raises(ModelFileError, match="do not match|has shape"):
        load_generator(path)


def test_wrong_architecture_raises(tmp_path):
    model = build_generator("unet", 8)
    path = save_generator(tmp_path / "m.safetensors", model, _info())
    with pytest.raises(ModelFileError, match="do not match"):
        load_generator(path)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"architecture": "resnet"}, "unknown architecture"),
        ({"width": "wide"}, "malformed"),
        ({"metrics": "{not json"}, "malformed"),
        ({"format_version": "99"}, "newer"),
    ],
)
def test_invalid_metadata_raises(tmp_path, change, message):
    model = build_generator("unet", 8)
    metadata = _info(architecture="unet", num_classes=None).to_metadata()
    metadata.update(change)
    path = tmp_path / "m.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path), metadata=metadata)
    with pytest.raises(ModelFileError, match=message):
        read_model_info(path)


def test_non_finite_weights_raise(tmp_path):
    model = build_generator("unet", 8)
    with torch.no_grad():
        next(model.parameters()).fill_(float("nan"))
    path = save_generator(tmp_path / "m.safetensors", model, _info(architecture="unet", num_classes=None))
    with pytest.raises(ModelFileError, match="NaN"):
        load_generator(path)


def test_metadata_is_plain_strings(saved):
    from safetensors import safe_open

    path, _ = saved
    with safe_open(str(path), framework="pt") as handle:
        metadata = handle.metadata()
    assert all(isinstance(v, str) for v in metadata.values())
    assert json.loads(metadata["metrics"]) == {"val_psnr": 23.5}
