"""Model cards: a Markdown summary of a model file's metadata, written beside it."""

from __future__ import annotations

from pathlib import Path

from engine.atomic import write_atomic
from engine.modelfile import ModelInfo

_METRIC_NAMES = {
    "val_l1_ab": "Mean absolute ab error (Lab units, lower is better)",
    "val_psnr": "RGB PSNR, dB (higher is better)",
    "baseline_psnr": "RGB PSNR of the grayscale baseline (ab = 0), dB",
    "heldout_photos": "Held-out photos measured",
    "rgb_psnr": "RGB PSNR, dB (higher is better)",
    "rgb_ssim": "RGB SSIM (higher is better)",
    "paper_psnr": "PSNR on scaled Lab (paper protocol), dB",
    "paper_ssim": "SSIM on scaled Lab (paper protocol)",
    "colourfulness": "Mean colourfulness (Hasler-Suesstrunk)",
    "baseline_rgb_psnr": "RGB PSNR of the grayscale baseline (ab = 0), dB",
    "baseline_rgb_ssim": "RGB SSIM of the grayscale baseline",
    "truth_colourfulness": "Mean colourfulness of the ground truth",
}


def _table(rows: list[tuple[str, str]], header: tuple[str, str] = ("Field", "Value")) -> list[str]:
    lines = [f"| {header[0]} | {header[1]} |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in rows]
    return lines


def render_card(info: ModelInfo, parameters: int | None = None, notes: str = "") -> str:
    """Return the Markdown model card for ``info``; ``notes`` is appended as written."""
    data = info.training_data
    lines = [f"# {info.name}", ""]
    if info.description:
        lines += [info.description, ""]
    lines += ["## Model", ""]
    model_rows = [
        ("Architecture", info.architecture),
        ("Width", str(info.width)),
        ("Classes", str(info.num_classes) if info.num_classes else "none"),
        ("Recipe", info.recipe or "unknown"),
        ("Version", info.version),
        ("Licence of the weights", info.license or "not stated"),
    ]
    if parameters is not None:
        model_rows.insert(2, ("Parameters", f"{parameters:,}"))
    lines += _table(model_rows)

    if data:
        lines += ["", "## Training data", ""]
        lines += _table([(str(k).replace("_", " "), str(v)) for k, v in data.items()])
    if info.hyperparameters:
        lines += ["", "## Hyperparameters", ""]
        lines += _table([(k, str(v)) for k, v in info.hyperparameters.items()], ("Field", "Value"))
    if info.metrics:
        lines += ["", "## Validation", ""]
        lines += _table(
            [(_METRIC_NAMES.get(k, k), f"{v:.3f}" if isinstance(v, float) else str(v))
             for k, v in info.metrics.items()],
            ("Metric", "Value"),
        )
    if notes:
        lines += ["", notes.strip()]
    return "\n".join(lines) + "\n"


def write_card(model_path: Path, info: ModelInfo, parameters: int | None = None, notes: str = "") -> Path:
    """Write the card as ``model_path`` with the suffix ``.md``."""
    card = Path(model_path).with_suffix(".md")
    text = render_card(info, parameters, notes)
    write_atomic(card, lambda temporary: temporary.write_text(text, encoding="utf-8"))
    return card
