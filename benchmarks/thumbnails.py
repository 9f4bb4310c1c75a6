"""Time of making a queue thumbnail of a 12-megapixel photo, against reading the whole photo.

Usage: python benchmarks/thumbnails.py [--repeats 5] [PHOTO ...]

Without PHOTO, a test photograph is upscaled to 4000x3000 and saved as JPEG
(quality 92) and as PNG. The table gives the median time of
``engine.imaging.load_thumbnail`` (96 pixels, as in the queue) and of
``engine.imaging.load_photo`` for each file. Copy the rows into docs/benchmarks.md
with the machine they ran on.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from engine.imaging import load_photo, load_thumbnail  # noqa: E402

THUMBNAIL_SIDE = 96


def _median_seconds(function, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _test_scans(folder: Path) -> list[Path]:
    source = sorted((ROOT / "tests" / "data").glob("*.jpg"))[0]
    with Image.open(source) as image:
        large = image.convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC)
    large.save(folder / "scan_12mp.jpg", quality=92)
    large.save(folder / "scan_12mp.png")
    return [folder / "scan_12mp.jpg", folder / "scan_12mp.png"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photos", nargs="*", type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as scratch:
        photos = args.photos or _test_scans(Path(scratch))
        print("| file | thumbnail ms (median) | whole photo ms (median) |")
        print("| --- | --- | --- |")
        for path in photos:
            thumbnail = _median_seconds(lambda: load_thumbnail(path, THUMBNAIL_SIDE), args.repeats)
            whole = _median_seconds(lambda: load_photo(path), args.repeats)
            print(f"| {path.name} | {thumbnail * 1000:.0f} | {whole * 1000:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
