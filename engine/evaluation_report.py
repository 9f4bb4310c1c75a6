"""An Evaluation as Markdown: one table row per model, then notes that qualify the figures."""

from __future__ import annotations

import csv
import io
import math

from engine.evaluation import BASELINE, EVAL_SIZE, FID_SAMPLE_WARNING, GROUND_TRUTH, Evaluation
from engine.fid import FEATURE_DIM

COLUMNS = [
    ("paper_fid", "FID (paper)"),
    ("paper_ssim", "SSIM (paper)"),
    ("paper_psnr", "PSNR (paper)"),
    ("paper_lpips", "LPIPS (paper)"),
    ("rgb_fid", "FID (RGB)"),
    ("rgb_ssim", "SSIM (RGB)"),
    ("rgb_psnr", "PSNR (RGB)"),
    ("rgb_lpips", "LPIPS (RGB)"),
    ("colourfulness", "Colourfulness"),
]


def _family(metric: str) -> str:
    """Return "fid" for "paper_fid", "lpips" for "rgb_lpips" and so on."""
    return metric.rsplit("_", 1)[-1]


def markdown_report(evaluation: Evaluation, source: str) -> str:
    """Return the figures as a Markdown table followed by a list of notes.

    ``source`` describes the photos (a folder, or a CSV file and split) in the notes.
    A metric without figures shows a short reason in its cells, and a numbered note
    names what is missing and how to provide it.
    """
    # Notes are numbered in column order: FID before LPIPS.
    families = [family for family in ("fid", "lpips") if family in evaluation.unavailable]
    note_numbers = {family: number for number, family in enumerate(families, start=1)}

    lines = ["| model | " + " | ".join(title for _, title in COLUMNS) + " |"]
    lines.append("| --- |" + " --- |" * len(COLUMNS))
    for name, figures in evaluation.figures.items():
        cells = []
        for key, _ in COLUMNS:
            family = _family(key)
            if key in figures:
                cells.append(f"{figures[key]:.3f}")
            elif family in evaluation.unavailable and name != GROUND_TRUTH:
                cells.append(f"{evaluation.unavailable[family].cell} ({note_numbers[family]})")
            else:
                cells.append("")
        lines.append(f"| {name.replace('|', chr(92) + '|')} | " + " | ".join(cells) + " |")

    lines.append("")
    for family, number in note_numbers.items():
        lines.append(f"- ({number}) {evaluation.unavailable[family].reason}")
    lines.extend(f"- {note}" for note in _general_notes(evaluation, source))
    return "\n".join(lines) + "\n"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _general_notes(evaluation: Evaluation, source: str) -> list[str]:
    notes = []
    photos = f"{_count(evaluation.photos, 'photo')} from {source}, each resized to {EVAL_SIZE}x{EVAL_SIZE}"
    if evaluation.skipped:
        photos += f"; {_count(len(evaluation.skipped), 'unreadable file')} skipped (the log names them)"
    notes.append(photos + ".")
    if evaluation.monochrome:
        names = ", ".join(path.name for path, _ in evaluation.monochrome)
        notes.append(
            f"{_count(len(evaluation.monochrome), 'photo')} without colour (grayscale or one tint) left out, "
            f"as training leaves them out: {names}. Pass --keep-monochrome to include them."
        )
    notes.extend(_paired_notes(evaluation))
    notes.append(
        "Paper protocol: CIE Lab with the input L kept, scaled to [0, 1] as L/100 and (ab/110 + 1)/2; "
        "FID and LPIPS read these three channels as RGB. RGB protocol: sRGB in [0, 1]."
    )
    notes.append(
        "Lower FID and LPIPS are better; higher SSIM and PSNR (dB) are better. Colourfulness is "
        "the Hasler-Suesstrunk measure on the 0-255 scale, and the ground-truth row gives the photos' own."
    )

    if "fid" in evaluation.weight_files and "fid" not in evaluation.unavailable:
        weights = evaluation.weight_files["fid"][0]
        if evaluation.standard_fid:
            notes.append(f"FID: InceptionV3 pool3 features ({FEATURE_DIM}) with the TensorFlow FID weights {weights}.")
        else:
            notes.append(
                f"FID uses torchvision's ImageNet InceptionV3 weights {weights}, not the TensorFlow FID "
                "weights, so it is comparable only with FIDs computed the same way, not with published ones."
            )
        if evaluation.photos < FID_SAMPLE_WARNING:
            notes.append(
                f"FID from {_count(evaluation.photos, 'photo')}, fewer than the {FEATURE_DIM} feature dimensions: the "
                "covariances are rank-deficient and FID is biased upward, so compare it only with FIDs "
                "from the same photos."
            )
    if "lpips" in evaluation.weight_files:
        vgg, linear = evaluation.weight_files["lpips"]
        notes.append(f"LPIPS 0.1 on VGG16 with {vgg} and {linear}.")
    return notes


def _paired_notes(evaluation: Evaluation) -> list[str]:
    """Per model: its RGB PSNR minus the baseline's, photo by photo, with the standard error of the mean."""
    baseline = evaluation.per_photo.get(BASELINE, {}).get("rgb_psnr")
    if not baseline or len(baseline) < 2:
        return []
    notes = []
    for name, metrics in evaluation.per_photo.items():
        if name in (BASELINE, GROUND_TRUTH):
            continue
        differences = [model - gray for model, gray in zip(metrics["rgb_psnr"], baseline)]
        count = len(differences)
        mean = sum(differences) / count
        spread = math.sqrt(sum((value - mean) ** 2 for value in differences) / (count - 1))
        higher = sum(value > 0 for value in differences)
        notes.append(
            f"{name}: RGB PSNR {mean:+.3f} dB against the grayscale baseline, photo by photo "
            f"(standard error {spread / math.sqrt(count):.3f} dB); higher on {higher} of {count} photos."
        )
    return notes


def per_photo_csv(evaluation: Evaluation) -> str:
    """Return one CSV row per photo and row name, with every per-photo figure."""
    metrics = sorted({metric for values in evaluation.per_photo.values() for metric in values})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["photo", "model", *metrics])
    for index, path in enumerate(evaluation.measured):
        for name, values in evaluation.per_photo.items():
            writer.writerow([str(path), name, *(
                f"{values[metric][index]:.4f}" if metric in values else "" for metric in metrics
            )])
    return buffer.getvalue()
