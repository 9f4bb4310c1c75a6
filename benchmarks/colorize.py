"""Time and peak memory of colourizing a 12-megapixel scan with each shipped model.

Usage: python benchmarks/colorize.py [--device auto] [--repeats 3] [PHOTO]

Without PHOTO, a test photograph is upscaled to 4000x3000. Prints one row per model;
copy the rows into docs/benchmarks.md with the machine they ran on.
"""

from __future__ import annotations

import argparse
import platform
import resource
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.catalog import ModelCatalog
from engine.imaging import load_photo
from engine.inference import Colorizer

ROOT = Path(__file__).resolve().parent.parent


def _scan(path: Path | None, scratch: Path) -> Path:
    if path is not None:
        return path
    source = sorted((ROOT / "tests" / "data").glob("*.jpg"))[0]
    target = scratch / "scan_12mp.png"
    with Image.open(source) as image:
        image.convert("L").resize((4000, 3000), Image.Resampling.BICUBIC).save(target)
    return target


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photo", nargs="?", type=Path)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--scratch", type=Path, default=Path("/tmp"))
    args = parser.parse_args()

    scan = _scan(args.photo, args.scratch)
    started = time.perf_counter()
    photo = load_photo(scan)
    load_seconds = time.perf_counter() - started
    width, height = photo.size
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads")
    print(f"scan: {scan.name} {width}x{height} ({width * height / 1e6:.1f} MP), load {load_seconds:.2f} s")
    print("| model | device | mode | seconds (median) | peak RSS MiB |")
    print("| --- | --- | --- | --- | --- |")
    for entry in ModelCatalog().entries():
        colorizer = Colorizer(entry.path, device=args.device)
        if colorizer.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats()
        timings = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            colorizer.colorize(photo)
            if colorizer.device.startswith("cuda"):
                torch.cuda.synchronize()
            timings.append(time.perf_counter() - started)
        memory = f"{_peak_rss_mib():.0f}"
        if colorizer.device.startswith("cuda"):
            memory += f" (GPU {torch.cuda.max_memory_allocated() / 2**20:.0f})"
        print(f"| {entry.key} | {colorizer.device} | whole image | {np.median(timings):.2f} | {memory} |")


if __name__ == "__main__":
    main()
