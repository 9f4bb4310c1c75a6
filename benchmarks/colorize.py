"""Time and peak memory of colourizing a 12-megapixel scan with each model, per render mode.

Usage: python benchmarks/colorize.py [--device auto] [--repeats 3] [--threads N]
       [--model FILE ...] [PHOTO]

Without PHOTO, a test photograph is upscaled to 4000x3000 grayscale. Without
--model, the models of the catalogue are measured. Each model runs
in whole-image mode and in tiled mode at working sizes 1024 and 2048. The table
gives the median time and the peak resident memory of the process during the run,
with what the run added on top of the loaded photo and model. Copy the rows into
docs/benchmarks.md with the machine they ran on.

Peak memory is exact on Linux, where the kernel's high-water mark (VmHWM) is reset
before each run. Elsewhere it is the process's lifetime peak (ru_maxrss).
"""

from __future__ import annotations

import argparse
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.catalog import ModelCatalog
from engine.imaging import load_photo
from engine.inference import Colorizer, RenderSettings

ROOT = Path(__file__).resolve().parent.parent
MODES = {
    "whole image": RenderSettings(),
    "tiled 1024": RenderSettings(tiled=True, working_size=1024),
    "tiled 2048": RenderSettings(tiled=True, working_size=2048),
}


def _scan(path: Path | None, scratch: Path) -> Path:
    if path is not None:
        return path
    source = sorted((ROOT / "tests" / "data").glob("*.jpg"))[0]
    target = scratch / "scan_12mp.png"
    with Image.open(source) as image:
        image.convert("L").resize((4000, 3000), Image.Resampling.BICUBIC).save(target)
    return target


def _status_mib(field: str) -> float | None:
    """Return a field of /proc/self/status (VmRSS, VmHWM) in MiB, or None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Reset the kernel's peak RSS of this process (Linux 4.0 and later)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mib(exact: bool) -> float:
    if exact:
        return _status_mib("VmHWM")
    divisor = 1024 if sys.platform != "darwin" else 1024 * 1024  # kB on Linux, bytes on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / divisor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("photo", nargs="?", type=Path)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--model", action="append", type=Path, default=[],
                        help="a .safetensors model file to measure; repeat for several")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp"))
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    scan = _scan(args.photo, args.scratch)
    started = time.perf_counter()
    photo = load_photo(scan)
    load_seconds = time.perf_counter() - started
    width, height = photo.size
    print(f"machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads")
    print(f"scan: {scan.name} {width}x{height} ({width * height / 1e6:.1f} MP), load {load_seconds:.2f} s")
    print("| model | device | mode | seconds (median) | peak RSS MiB | added MiB |")
    print("| --- | --- | --- | --- | --- | --- |")
    models = [(path.stem, path) for path in args.model]
    models = models or [(entry.key, entry.path) for entry in ModelCatalog().entries()]
    for key, path in models:
        colorizer = Colorizer(path, device=args.device)
        on_cuda = colorizer.device.startswith("cuda")
        for mode in args.modes:
            settings = MODES[mode]
            colorizer.colorize(photo, settings)  # warm-up: first-call allocations and kernels
            if on_cuda:
                torch.cuda.synchronize()
                torch.cuda.reset_peak_memory_stats()
            exact = _reset_peak()
            before = _status_mib("VmRSS") or 0.0
            timings = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                colorizer.colorize(photo, settings)
                if on_cuda:
                    torch.cuda.synchronize()
                timings.append(time.perf_counter() - started)
            peak = _peak_mib(exact)
            memory = f"{peak:.0f}"
            if on_cuda:
                memory += f" (GPU {torch.cuda.max_memory_allocated() / 2**20:.0f})"
            print(
                f"| {key} | {colorizer.device} | {mode} | {np.median(timings):.2f} | "
                f"{memory} | {peak - before:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
