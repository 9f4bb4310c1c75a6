import pytest
import torch
from safetensors.torch import save_file

from engine.catalog import ModelCatalog, import_model
from engine.errors import ModelFileError
from engine.modelfile import ModelInfo, save_generator
from engine.models import build_generator
from tests.helpers import sha256


@pytest.fixture
def user_dir(tmp_path):
    return tmp_path / "user-models"


@pytest.fixture
def model_file(tmp_path):
    """An untrained width-8 pix2pix model with a model card beside it."""
    folder = tmp_path / "downloads"
    folder.mkdir()
    torch.manual_seed(0)
    info = ModelInfo(name="Family photos", architecture="unet", width=8, description="fine-tuned")
    path = save_generator(folder / "family.safetensors", build_generator("unet", 8), info)
    path.with_suffix(".md").write_text("# Family photos\n\nTrained on our album.\n", encoding="utf-8")
    return path


def _files(folder):
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


def test_import_copies_model_and_card(model_file, user_dir):
    entry = import_model(model_file, user_dir)

    assert entry.key == "user:family"
    assert entry.name == "Family photos"
    assert not entry.shipped
    assert entry.path == user_dir / "family.safetensors"
    assert sha256(entry.path) == sha256(model_file)
    assert "Trained on our album." in entry.card_markdown
    assert _files(user_dir) == ["family.md", "family.safetensors"]
    assert ModelCatalog(user_dir).find("user:family") is not None


def test_import_never_overwrites(model_file, user_dir):
    first = import_model(model_file, user_dir)
    before = sha256(first.path)

    second = import_model(model_file, user_dir)

    assert second.key == "user:family_2"
    assert second.path.name == "family_2.safetensors"
    assert sha256(first.path) == before
    assert _files(user_dir) == ["family.md", "family.safetensors", "family_2.md", "family_2.safetensors"]


def test_import_without_card(model_file, user_dir):
    model_file.with_suffix(".md").unlink()
    entry = import_model(model_file, user_dir)
    assert _files(user_dir) == ["family.safetensors"]
    assert entry.card_markdown.startswith("# Family photos")


def test_import_of_a_file_already_there(model_file, user_dir):
    entry = import_model(model_file, user_dir)
    again = import_model(entry.path, user_dir)
    assert again.path == entry.path
    assert _files(user_dir) == ["family.md", "family.safetensors"]


def test_truncated_file_is_rejected(model_file, user_dir):
    data = model_file.read_bytes()
    model_file.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated"):
        import_model(model_file, user_dir)
    assert _files(user_dir) == []


def test_pickle_renamed_to_safetensors_is_rejected(tmp_path, user_dir):
    path = tmp_path / "checkpoint.safetensors"
    torch.save(build_generator("unet", 8).state_dict(), path)
    with pytest.raises(ModelFileError, match="not a readable safetensors model file"):
        import_model(path, user_dir)
    assert _files(user_dir) == []


def test_foreign_safetensors_file_is_rejected(tmp_path, user_dir):
    path = tmp_path / "other.safetensors"
    save_file({"encoder.weight": torch.zeros(4, 4)}, str(path), metadata={"format": "pt"})
    with pytest.raises(ModelFileError, match="not a valid ColorApp model file"):
        import_model(path, user_dir)
    assert _files(user_dir) == []


def test_tensor_shapes_are_checked(tmp_path, user_dir):
    # The metadata states width 8, but the tensors are those of a width-16 generator.
    info = ModelInfo(name="Mislabelled", architecture="unet", width=16)
    path = save_generator(tmp_path / "mislabelled.safetensors", build_generator("unet", 16), info)
    path.write_bytes(path.read_bytes().replace(b'"width":"16"', b'"width":"8" '))
    with pytest.raises(ModelFileError, match="has shape"):
        import_model(path, user_dir)
    assert _files(user_dir) == []


@pytest.mark.parametrize("name", ["model.pt", "missing.safetensors"])
def test_wrong_suffix_or_missing_file_is_rejected(tmp_path, user_dir, name):
    path = tmp_path / name
    if path.suffix == ".pt":
        path.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match=r"\.safetensors files|not found"):
        import_model(path, user_dir)
    assert _files(user_dir) == []
