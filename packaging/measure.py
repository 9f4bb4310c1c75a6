"""Measure the frozen app dist/ColorApp/: folder size and start-up times.

    python3 packaging/measure.py [--runs 5] [--venv build/venv]

Prints Markdown tables for docs/benchmarks.md. Each time is the median wall-clock time
of ``--runs`` runs after one warm-up run, so the files are in the page cache. With
``--venv``, the same commands also run from that virtual environment's console
scripts (not frozen) for comparison. Needs only the standard library.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
APP_DIR = REPO_ROOT / "dist" / "ColorApp"
DEFAULT_PHOTO = REPO_ROOT / "tests" / "data" / "building_berlin_cathedral.jpg"

SIZE_ROWS = [
    ("whole folder", "."),
    ("torch", "_internal/torch"),
    ("of which libtorch_cpu.so", "_internal/torch/lib/libtorch_cpu.so"),
    ("PySide6 (Qt)", "_internal/PySide6"),
    ("ColorApp executable", "ColorApp"),
    ("colorapp-engine executable", "colorapp-engine"),
    ("shipped models and cards", "_internal/resources/models"),
]


def folder_size(path: Path) -> str:
    """Return the disk usage of ``path`` as ``du -sh`` prints it."""
    return subprocess.run(["du", "-sh", str(path)], capture_output=True, text=True, check=True).stdout.split()[0]


def user_env(home: Path) -> dict[str, str]:
    """Return an environment with empty settings, log and model folders under ``home``."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["HOME"] = str(home)
    for variable in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[variable] = str(home / variable.lower())
    return env


def median_seconds(command: list[str], runs: int, env: dict[str, str], scratch: Path) -> float:
    """Run ``command`` once to warm up, then ``runs`` times; return the median seconds.

    ``{out}`` in the command becomes a new empty folder for each run.
    """
    times = []
    for run in range(runs + 1):
        out_dir = scratch / f"out{run}"
        arguments = [part.replace("{out}", str(out_dir)) for part in command]
        started = time.perf_counter()
        result = subprocess.run(arguments, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(f"{' '.join(arguments)} failed with exit status {result.returncode}:\n{result.stderr}")
        if run > 0:
            times.append(elapsed)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", type=Path, default=APP_DIR, help=f"frozen app folder (default {APP_DIR})")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per command (default 5)")
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO, help="photo to colourize")
    parser.add_argument("--venv", type=Path, help="also time this virtual environment's console scripts")
    args = parser.parse_args()
    if not (args.app / "ColorApp").is_file():
        sys.exit(f"no frozen app in {args.app}; build it with packaging/build.sh")

    print("| part | size |")
    print("| --- | --- |")
    for label, relative in SIZE_ROWS:
        print(f"| {label} | {folder_size(args.app / relative)} |")
    print()

    builds = [("frozen", args.app / "ColorApp", args.app / "colorapp-engine")]
    if args.venv is not None:
        builds.append((f"{args.venv} (not frozen)", args.venv / "bin" / "colorapp", args.venv / "bin" / "colorapp-engine"))
    commands = [
        ("`ColorApp --help` (offscreen)", lambda gui, cli: [str(gui), "--help"]),
        ("`colorapp-engine --help`", lambda gui, cli: [str(cli), "--help"]),
        ("`colorapp-engine colorize` one photo", lambda gui, cli: [
            str(cli), "colorize", str(args.photo), "-o", "{out}", "--model", "pix2pix", "--device", "cpu"]),
    ]

    print(f"| command | {' | '.join(name for name, _, _ in builds)} |")
    print(f"| --- |{' --- |' * len(builds)}")
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        env = user_env(scratch / "home")
        for label, make_command in commands:
            cells = [
                f"{median_seconds(make_command(gui, cli), args.runs, env, scratch):.2f} s"
                for _, gui, cli in builds
            ]
            print(f"| {label} | {' | '.join(cells)} |")


if __name__ == "__main__":
    main()
