"""A folder of colour photos as a training data set of 256x256 RGB images."""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from engine.data.screening import Screening, screen_photo
from engine.errors import CancelledError
from engine.imaging import SUPPORTED_SUFFIXES

log = logging.getLogger(__name__)

_JUNK_NAMES = {"thumbs.db", "desktop.ini", ".ds_store"}


def find_images(root: Path) -> list[Path]:
    """Return image files under ``root`` (recursive, sorted), skipping hidden and OS junk files.

    Unreadable sub-folders are logged and skipped.
    """
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: folder not found")
    found = []

    def report(error: OSError) -> None:
        log.warning("skipping unreadable folder %s: %s", error.filename, error.strerror)

    for folder, subfolders, files in os.walk(root, onerror=report):
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.lower() in _JUNK_NAMES:
                continue
            if Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                found.append(Path(folder) / name)
    return found


def screen_folder(
    root: Path,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> tuple[list[Path], list[Screening]]:
    """Return (usable photos, skipped screenings) for every image under ``root``.

    ``progress(done, total)`` is called after each file and ``cancelled()`` is checked
    before each one.

    Raises:
        FileNotFoundError: ``root`` does not exist.
        CancelledError: ``cancelled()`` returned True.
    """
    files = find_images(root)
    usable, skipped = [], []
    for index, path in enumerate(files):
        if cancelled is not None and cancelled():
            raise CancelledError(f"Checking {root} was cancelled")
        result = screen_photo(path)
        if result.usable:
            usable.append(path)
        else:
            skipped.append(result)
            log.debug("skipped %s: %s (%s)", result.path, result.reason, result.detail)
        if progress is not None:
            progress(index + 1, len(files))
    if skipped:
        counts = Counter(result.reason for result in skipped)
        log.info(
            "%s: %d usable colour photos; skipped %s",
            root,
            len(usable),
            ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items())),
        )
    return usable, skipped


def load_training_image(path: Path, size: int) -> np.ndarray:
    """Decode ``path`` as (size, size, 3) uint8 RGB, squashed to a square as pix2pix does."""
    with Image.open(path) as image:
        image.draft("RGB", (size, size))
        image = image.convert("RGB")
        if image.size != (size, size):
            image = image.resize((size, size), Image.Resampling.BICUBIC)
        return np.array(image, dtype=np.uint8)


class PhotoFolderDataset(Dataset):
    """Photos as ``(rgb, label)``: rgb a (3, size, size) uint8 tensor, label an int (-1: none).

    Conversion to Lab happens on the training device, on whole batches.
    """

    def __init__(self, files: list[Path], labels: list[int] | None = None, size: int = 256) -> None:
        if labels is not None and len(labels) != len(files):
            raise ValueError(f"{len(labels)} labels for {len(files)} files")
        self.files = list(files)
        self.labels = list(labels) if labels is not None else [-1] * len(self.files)
        self.size = size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path = self.files[index]
        try:
            array = load_training_image(path, self.size)
        except (OSError, ValueError) as error:
            # A file that passed screening but fails now (deleted, changed): use a
            # neighbour so one bad file does not stop a long run.
            log.warning("skipping %s during training: %s", path, error)
            return self[(index + 1) % len(self)]
        return torch.from_numpy(array).permute(2, 0, 1).contiguous(), self.labels[index]
