"""Checks on paths before opening: supported image suffixes and reasons for rejection."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine import SUPPORTED_SUFFIXES


@dataclass(frozen=True)
class RejectedPath:
    """A path that will not be opened, with the reason as a sentence fragment."""

    path: Path
    reason: str

    def describe(self) -> str:
        return f"{self.path.name or self.path} {self.reason}"


def is_supported_image(path: Path) -> bool:
    """Check the file name suffix only; whether the file decodes is the engine's job."""
    return path.suffix.lower() in SUPPORTED_SUFFIXES


def split_image_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[RejectedPath]]:
    """Split paths into image files to open and rejected paths with reasons.

    Order is kept and duplicates are dropped.
    """
    accepted: list[Path] = []
    rejected: list[RejectedPath] = []
    seen: set[Path] = set()
    for item in paths:
        path = Path(item)
        if path in seen:
            continue
        seen.add(path)

        if path.is_dir():
            # TODO: open folders recursively once the Colorize tab has a queue.
            rejected.append(RejectedPath(path, "is a folder; open the photos inside it instead"))
        elif not path.exists():
            rejected.append(RejectedPath(path, "was not found"))
        elif not is_supported_image(path):
            rejected.append(RejectedPath(path, "is not a supported image file"))
        else:
            accepted.append(path)
    return accepted, rejected


def describe_rejected(rejected: list[RejectedPath]) -> str:
    """Build one status bar sentence that lists every rejected path and the supported types."""
    details = "; ".join(item.describe() for item in rejected)
    return f"Not opened: {details}. Supported types: {supported_suffixes_text()}."


def supported_suffixes_text() -> str:
    return ", ".join(SUPPORTED_SUFFIXES)


def open_dialog_filter() -> str:
    """Name filter for QFileDialog that lists every supported suffix in both cases."""
    patterns = [f"*{suffix}" for suffix in SUPPORTED_SUFFIXES]
    patterns += [pattern.upper() for pattern in patterns]
    return f"Images ({' '.join(patterns)});;All files (*)"
