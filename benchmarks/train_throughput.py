"""Training throughput, in images per second, of each recipe at widths 16 and 64.

Usage: python benchmarks/train_throughput.py [--device auto] [--steps 3] [--widths 16 64]

Runs real training steps (generator and discriminator updates, data loading
included) on the test photographs at the recipe's batch size of 8. Prints a
Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from engine.data.photo_folder import PhotoFolderDataset
from engine.training.recipes import RECIPES
from engine.training.trainer import Trainer

ROOT = Path(__file__).resolve().parent.parent


def measure(recipe_name: str, width: int, device: str, steps: int, warmup: int) -> tuple[str, float]:
    recipe = RECIPES[recipe_name]
    photos = sorted((ROOT / "tests" / "data").glob("*.jpg")) * 4
    labels = [i % 4 for i in range(len(photos))] if recipe.architecture == "unet-class" else None
    dataset = PhotoFolderDataset(photos, labels)
    with tempfile.TemporaryDirectory() as out_dir:
        trainer = Trainer(recipe, dataset, out_dir, width=width, num_classes=4 if labels else None,
                          device=device, checkpoint_every=0, validate_every=0)
        loader = DataLoader(dataset, batch_size=recipe.batch_size, shuffle=True, drop_last=True)
        batches = iter(loader)

        def step() -> None:
            nonlocal batches
            try:
                rgb, label = next(batches)
            except StopIteration:
                batches = iter(loader)
                rgb, label = next(batches)
            trainer.train_step(rgb, label)

        for _ in range(warmup):
            step()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        for _ in range(steps):
            step()
        if trainer.device.type == "cuda":
            torch.cuda.synchronize()
        elapsed = time.perf_counter() - started
    return str(trainer.device), steps * recipe.batch_size / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per measurement")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps before timing")
    parser.add_argument("--widths", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--recipes", nargs="+", default=sorted(RECIPES), choices=sorted(RECIPES))
    args = parser.parse_args()

    print(f"machine: {platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print("| recipe | width | device | images/s |")
    print("| --- | --- | --- | --- |")
    for recipe_name in args.recipes:
        for width in args.widths:
            device, rate = measure(recipe_name, width, args.device, args.steps, args.warmup)
            print(f"| {recipe_name} | {width} | {device} | {rate:.2f} |", flush=True)


if __name__ == "__main__":
    main()
