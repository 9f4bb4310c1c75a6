"""Checks on paths before opening: supported image suffixes, folder search and reasons for rejection."""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from engine import SUPPORTED_SUFFIXES
from engine.data.photo_folder import find_images

logger = logging.getLogger(__name__)


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


def collect_image_paths(paths: Iterable[str | Path]) -> tuple[list[Path], list[RejectedPath]]:
    """Split paths into image files to open and rejected paths with reasons.

    Folders are searched recursively with ``find_images``, which skips hidden and
    operating system files (such as Thumbs.db) and files with other suffixes.
    Order is kept and duplicates are dropped. Whether a file decodes is checked
    later, when it is read.
    """
    accepted: list[Path] = []
    rejected: list[RejectedPath] = []
    seen: set[Path] = set()

    def accept(path: Path) -> None:
        if path not in seen:
            seen.add(path)
            accepted.append(path)

    for item in paths:
        path = Path(item)
        if path.is_dir():
            try:
                found = find_images(path)
            except OSError as error:
                logger.warning("Searching the folder %s failed: %s", path, error)
                rejected.append(RejectedPath(path, f"could not be searched ({error.strerror or error})"))
                continue
            if not found:
                rejected.append(RejectedPath(path, "contains no supported image files"))
            logger.info("Found %d image file(s) in %s", len(found), path)
            for image in found:
                accept(image)
        elif not path.exists():
            rejected.append(RejectedPath(path, "was not found"))
        elif not is_supported_image(path):
            rejected.append(RejectedPath(path, "is not a supported image file"))
        else:
            accept(path)
    return accepted, rejected


def paths_in_text(text: str) -> list[Path]:
    """Return the existing local paths among the lines of pasted text, as plain paths or file:// URLs."""
    paths = []
    for line in text.splitlines():
        line = line.strip().strip('"')
        if not line:
            continue
        if line.startswith("file://"):
            path = Path(urllib.parse.unquote(urllib.parse.urlparse(line).path))
        else:
            path = Path(line).expanduser()
        if path.exists():
            paths.append(path)
    return paths


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
