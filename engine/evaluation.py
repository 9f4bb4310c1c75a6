"""Evaluating colourization models against ground-truth colour photos.

Every photo is resized to 256x256 (the models' input size, and the size of the
Places205 images), its L channel goes to each model, and the prediction is
compared with the photo. The grayscale baseline predicts ab = 0.

Two protocols:
- "rgb": sRGB in [0, 1].
- "paper": L*a*b* scaled to [0, 1] per channel (L/100, (ab/110 + 1)/2) with the
  input L kept. NOTE: this is our reading of how the paper's public code scales
  Lab before computing PSNR and SSIM; the figures are comparable between models
  here but may differ from the paper's table in absolute terms.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.color import lab_to_rgb_keep_lightness, rgb_to_lab
from engine.devices import pick_device
from engine.errors import ColorAppError
from engine.metrics import colourfulness, psnr, ssim
from engine.modelfile import load_generator

log = logging.getLogger(__name__)

EVAL_SIZE = 256
BASELINE = "grayscale baseline"


@dataclass
class Evaluation:
    """Mean figures per model name, and how many photos they cover."""

    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    photos: int = 0
    skipped: list[str] = field(default_factory=list)


def load_eval_image(path: Path) -> torch.Tensor:
    """Return (3, 256, 256) float sRGB in [0, 1]: the photo squashed to 256x256."""
    with Image.open(path) as image:
        image.draft("RGB", (EVAL_SIZE, EVAL_SIZE))
        image = image.convert("RGB").resize((EVAL_SIZE, EVAL_SIZE), Image.Resampling.BICUBIC)
        return torch.from_numpy(np.array(image, dtype=np.float32) / 255.0).permute(2, 0, 1)


def paper_scale(lab: torch.Tensor) -> torch.Tensor:
    """Scale Lab (N, 3, H, W) to [0, 1] per channel: L/100 and (ab/110 + 1)/2."""
    return torch.cat((lab[:, :1] / 100.0, (lab[:, 1:] / 110.0 + 1.0) / 2.0), dim=1).clamp(0, 1)


def predict_lab(model: torch.nn.Module, truth_lab: torch.Tensor) -> torch.Tensor:
    """Return the model's Lab prediction (N, 3, 256, 256) with the truth's L kept."""
    lightness = truth_lab[:, :1]
    output = model(lightness / 50.0 - 1.0)
    ab = (output[0] if isinstance(output, tuple) else output).float() * 110.0
    return torch.cat((lightness, ab), dim=1)


def _measure(truth_lab: torch.Tensor, truth_rgb: torch.Tensor, lab: torch.Tensor) -> dict[str, torch.Tensor]:
    rgb = lab_to_rgb_keep_lightness(lab)
    paper_truth, paper_prediction = paper_scale(truth_lab), paper_scale(lab)
    return {
        "rgb_psnr": psnr(rgb, truth_rgb),
        "rgb_ssim": ssim(rgb, truth_rgb),
        "paper_psnr": psnr(paper_prediction, paper_truth),
        "paper_ssim": ssim(paper_prediction, paper_truth),
        "colourfulness": colourfulness(rgb),
    }


def _batches(files: list[Path], batch_size: int, skipped: list[str]) -> Iterable[torch.Tensor]:
    batch = []
    for path in files:
        try:
            batch.append(load_eval_image(path))
        except (OSError, ValueError) as error:
            log.warning("skipping %s: %s", path, error)
            skipped.append(f"{path}: {error}")
            continue
        if len(batch) == batch_size:
            yield torch.stack(batch)
            batch = []
    if batch:
        yield torch.stack(batch)


@torch.inference_mode()
def evaluate(
    model_paths: dict[str, Path],
    files: list[Path],
    device: str = "auto",
    batch_size: int = 16,
    progress: Callable[[int, int], None] | None = None,
) -> Evaluation:
    """Evaluate each named model file and the grayscale baseline on ``files``."""
    if not files:
        raise ColorAppError("no photos to evaluate on; point --data at a folder of colour photos")
    target = pick_device(device)
    models = {}
    for name, path in model_paths.items():
        model, _ = load_generator(path)
        models[name] = model.to(target).eval()

    result = Evaluation()
    sums: dict[str, dict[str, float]] = {}
    truth_sums: dict[str, float] = {"colourfulness": 0.0}
    for images in _batches(files, batch_size, result.skipped):
        images = images.to(target)
        truth_lab = rgb_to_lab(images)
        predictions = {BASELINE: torch.cat((truth_lab[:, :1], torch.zeros_like(truth_lab[:, 1:])), dim=1)}
        for name, model in models.items():
            predictions[name] = predict_lab(model, truth_lab)
        for name, lab in predictions.items():
            for metric, values in _measure(truth_lab, images, lab).items():
                bucket = sums.setdefault(name, {})
                bucket[metric] = bucket.get(metric, 0.0) + float(values.sum())
        truth_sums["colourfulness"] += float(colourfulness(images).sum())
        result.photos += images.shape[0]
        if progress is not None:
            progress(result.photos, len(files))
    result.figures = {
        name: {metric: total / result.photos for metric, total in bucket.items()}
        for name, bucket in sums.items()
    }
    result.figures["ground truth"] = {"colourfulness": truth_sums["colourfulness"] / result.photos}
    return result


COLUMNS = [
    ("rgb_psnr", "PSNR (RGB)"),
    ("rgb_ssim", "SSIM (RGB)"),
    ("paper_psnr", "PSNR (paper)"),
    ("paper_ssim", "SSIM (paper)"),
    ("colourfulness", "Colourfulness"),
]


def markdown_table(evaluation: Evaluation) -> str:
    """Return the figures as a Markdown table, one row per model."""
    lines = ["| model | " + " | ".join(title for _, title in COLUMNS) + " |"]
    lines.append("| --- |" + " --- |" * len(COLUMNS))
    for name, figures in evaluation.figures.items():
        cells = [f"{figures[key]:.3f}" if key in figures else "" for key, _ in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
