"""The three shipped models: files, metadata, cards, and a real photo colourized by each."""

import dataclasses
import re

import numpy as np
import pytest
from PIL import Image
from safetensors import safe_open
from skimage.color import rgb2lab

from engine.catalog import ModelCatalog
from engine.imaging import load_photo
from engine.inference import Colorizer
from engine.modelfile import load_generator
from engine.modelinfo import read_model_info
from engine.paths import shipped_model_dir
from engine.training.recipes import RECIPES
from tests.helpers import real_photos

SHIPPED = {"pix2pix": "unet", "pix2pix-class": "unet-class", "wgan-gp-class": "unet-class"}
SIZE_LIMIT = 40 * 1024 * 1024
# The recipe's losses and optimiser settings; a fine-tuning stage may run fewer epochs.
RECIPE_FIELDS = (
    "adversarial", "reconstruction", "adversarial_weight", "reconstruction_weight", "classification_weight",
    "critic_steps", "gradient_penalty_weight", "generator_lr", "discriminator_lr", "beta1", "batch_size",
)


def test_shipped_models_size_budget():
    files = sorted(shipped_model_dir().glob("*.safetensors"))
    assert sorted(path.stem for path in files) == sorted(SHIPPED)
    assert sum(path.stat().st_size for path in files) < SIZE_LIMIT
    assert {entry.path.stem for entry in ModelCatalog().entries() if entry.shipped} == set(SHIPPED)


@pytest.mark.parametrize("recipe", sorted(SHIPPED))
def test_shipped_model_metadata_and_card(recipe):
    path = shipped_model_dir() / f"{recipe}.safetensors"
    info = read_model_info(path)
    assert info.architecture == SHIPPED[recipe]
    assert info.recipe == recipe
    assert info.width == 16
    for name in RECIPE_FIELDS:
        assert info.hyperparameters[name] == getattr(RECIPES[recipe], name), name
    if info.architecture == "unet-class":
        assert info.num_classes and len(info.label_centers) == info.num_classes
    assert info.training_data["steps"] > 0
    assert info.training_data["images_seen"] == info.training_data["steps"] * info.hyperparameters["batch_size"]

    # Held-out figures, measured by tools/ship_model.py when the model was shipped.
    metrics = info.metrics
    assert metrics["heldout_photos"] >= 30
    assert metrics["rgb_psnr"] > metrics["baseline_rgb_psnr"]
    assert metrics["colourfulness"] >= metrics["truth_colourfulness"] / 2

    with safe_open(str(path), framework="pt") as handle:
        dtypes = {handle.get_slice(key).get_dtype() for key in handle.keys()}
    # Weights are fp16; BatchNorm's batch counters stay integers.
    assert dtypes - {"I64"} == {"F16"}

    model, _ = load_generator(path)
    parameters = sum(parameter.numel() for parameter in model.parameters())
    card = path.with_suffix(".md").read_text(encoding="utf-8")
    assert f"| Parameters | {parameters:,} |" in card
    assert f"| RGB PSNR, dB (higher is better) | {metrics['rgb_psnr']:.3f} |" in card
    assert f"| steps | {info.training_data['steps']} |" in card
    weaknesses = card.split("## Known weaknesses", 1)[1]
    assert len(re.findall(r"^- ", weaknesses, flags=re.MULTILINE)) >= 3


@pytest.mark.parametrize("recipe", sorted(SHIPPED))
def test_shipped_model_colourizes_photo(tmp_path, recipe):
    source = real_photos()[2]
    gray_path = tmp_path / "gray.png"
    with Image.open(source) as image:
        image.convert("L").save(gray_path)
    photo = load_photo(gray_path)

    result = Colorizer(shipped_model_dir() / f"{recipe}.safetensors", device="cpu").colorize(photo)

    assert result.rgb.shape == photo.rgb.shape
    lab = rgb2lab(result.rgb.astype(np.float64))
    assert np.abs(lab[..., 0] - rgb2lab(photo.rgb.astype(np.float64))[..., 0]).mean() < 1.0
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    assert chroma.mean() > 4.0, f"{recipe} left the photo nearly gray (mean chroma {chroma.mean():.1f})"
