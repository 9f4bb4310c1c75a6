"""Ship a training checkpoint as a default model: export, measure, compare, write the card.

Usage: python tools/ship_model.py RECIPE CHECKPOINT [--base-model FILE] [--val DIR] [--force]

1. The checkpoint's generator is exported as an fp16 model file in a temporary folder.
2. ``engine.evaluation`` measures it and the grayscale baseline on the held-out
   photos (default: crops/val of the corpus from tools/build_corpus.py), leaving out
   photos without colour as training does.
3. The figures go into the model's metadata, so the card and the file agree.
4. resources/models/RECIPE.safetensors is replaced only when the candidate's RGB
   PSNR beats the shipped file's on the same photos (``--force`` overrides this),
   and the card is written beside it with the notes of tools/model_notes/RECIPE.md
   and tools/model_notes/corpus.md.

Choose CHECKPOINT by the run's metrics.jsonl and a contact sheet
(tools/contact_sheet.py), not simply the last one.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.evaluation import BASELINE, GROUND_TRUTH, evaluate, select_photos  # noqa: E402
from engine.modelcard import write_card  # noqa: E402
from engine.modelinfo import read_model_info  # noqa: E402
from engine.training.checkpoint import load_checkpoint  # noqa: E402
from engine.training.export import export_checkpoint  # noqa: E402

MODELS = REPO_ROOT / "resources" / "models"
NOTES = REPO_ROOT / "tools" / "model_notes"
DEFAULT_VAL = Path("/work/cache/corpus/crops/val")

NAMES = {
    "pix2pix": ("pix2pix (compact)",
                "U-Net generator trained with a PatchGAN discriminator, GAN + L1 loss."),
    "pix2pix-class": ("pix2pix + scene classes (compact)",
                      "U-Net generator with a scene-classification branch, GAN + L1 + cross-entropy."),
    "wgan-gp-class": ("WGAN-GP + scene classes (compact)",
                      "U-Net generator with a scene-classification branch, WGAN-GP + L2 + cross-entropy."),
}
TRAINING_DATA = {
    "folder": "crops/train of the open corpus built by tools/build_corpus.py",
    "corpus": "365 colour photographs from 10 Debian packages (329 training, 36 held out)",
    "photos": "1,636 256x256 crops of the 329 training photographs",
    "validation_photos": "33 crops of the 36 held-out photographs: those with colour",
    "skipped": "91 crops of one flat tint (sky, wall) or no colour, left out by the colour screening",
    "licences": "public domain, CC0, CC-BY, CC-BY-SA, GPL, LGPL, BSD, Apache-2.0; "
                "per-photo list in docs/corpus/manifest.csv",
}
LICENSE = "CC-BY-SA-4.0"


def measure(models: dict[str, Path], photos: list[Path]) -> dict[str, dict[str, float | int]]:
    """Return the held-out figures of each named model, with the baseline's, as stored in the metadata."""
    result = evaluate(models, photos, device="cpu")
    baseline = result.figures[BASELINE]
    return {
        name: {
            "heldout_photos": result.photos,
            "rgb_psnr": result.figures[name]["rgb_psnr"],
            "rgb_ssim": result.figures[name]["rgb_ssim"],
            "paper_psnr": result.figures[name]["paper_psnr"],
            "paper_ssim": result.figures[name]["paper_ssim"],
            "colourfulness": result.figures[name]["colourfulness"],
            "baseline_rgb_psnr": baseline["rgb_psnr"],
            "baseline_rgb_ssim": baseline["rgb_ssim"],
            "truth_colourfulness": result.figures[GROUND_TRUTH]["colourfulness"],
        }
        for name in models
    }


def describe(metrics: dict) -> str:
    return (f"RGB PSNR {metrics['rgb_psnr']:.3f} dB (baseline {metrics['baseline_rgb_psnr']:.3f}), "
            f"colourfulness {metrics['colourfulness']:.1f} (truth {metrics['truth_colourfulness']:.1f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", choices=sorted(NAMES))
    parser.add_argument("checkpoint", type=Path, help="a step_*.pt file of the recipe's run")
    parser.add_argument("--val", type=Path, default=DEFAULT_VAL, help="held-out photos (default %(default)s)")
    parser.add_argument("--base-model", type=Path,
                        help="the model file the run was fine-tuned from (--init-model), for the card's history")
    parser.add_argument("--force", action="store_true", help="replace the shipped file even when it measures better")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    name, summary = NAMES[args.recipe]
    target = MODELS / f"{args.recipe}.safetensors"
    photos = select_photos(args.val)
    notes = "\n\n".join(
        (NOTES / file_name).read_text(encoding="utf-8").strip() for file_name in (f"{args.recipe}.md", "corpus.md")
    )
    options = dict(
        description=f"{summary} Width 16, trained on a CPU on a small open photo corpus.",
        license=LICENSE,
        training_data=dict(TRAINING_DATA, **_history(args.base_model, args.checkpoint)),
    )
    with tempfile.TemporaryDirectory() as folder:
        candidate = Path(folder) / target.name
        export_checkpoint(args.checkpoint, candidate, name, **options)
        # One pass measures the candidate and the shipped file on the same photos.
        compared = {"candidate": candidate}
        if target.exists() and not args.force:
            compared["shipped"] = target
        figures = measure(compared, photos)
        metrics = figures["candidate"]
        print(f"candidate {args.checkpoint.name}: {describe(metrics)}")
        if metrics["rgb_psnr"] <= metrics["baseline_rgb_psnr"]:
            print("warning: the candidate does not beat the grayscale baseline in RGB PSNR")
        if metrics["colourfulness"] < metrics["truth_colourfulness"] / 2:
            print("warning: the candidate has less than half the ground truth's colourfulness")

        if "shipped" in figures:
            shipped = figures["shipped"]
            print(f"shipped {target.name}: {describe(shipped)}")
            if shipped["rgb_psnr"] >= metrics["rgb_psnr"]:
                print("kept the shipped file: the candidate is not better in RGB PSNR (--force replaces it)")
                return 1

    # save_generator writes atomically, so the shipped file is either the old one or the new one.
    _, info = export_checkpoint(args.checkpoint, target, name, metrics=metrics, **options)
    card = write_card(target, info, parameters=_parameters(target), notes=notes)
    print(f"wrote {target} and {card}")
    return 0


def _history(base_model: Path | None, checkpoint: Path) -> dict[str, str]:
    """Card facts about the weights a fine-tuning run started from, if it started from a model."""
    if base_model is None:
        return {}
    base = read_model_info(base_model)
    base_steps = int(base.training_data.get("steps", 0))
    base_images = int(base.training_data.get("images_seen", 0))
    state = load_checkpoint(checkpoint)
    steps, images = state["step"], state["step"] * state["recipe"]["batch_size"]
    return {
        "started_from": f"{base.recipe} weights after {base_steps:,} steps ({base_images:,} images)",
        "steps_in_total": f"{base_steps + steps:,} ({base_steps:,} before, {steps:,} in this run)",
        "images_seen_in_total": f"{base_images + images:,}",
    }


def _parameters(path: Path) -> int:
    from engine.modelfile import load_generator

    model, _ = load_generator(path)
    return sum(parameter.numel() for parameter in model.parameters())


if __name__ == "__main__":
    sys.exit(main())
