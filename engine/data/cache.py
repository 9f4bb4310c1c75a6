"""A pre-decoded image cache: every training image once, as a memory-mapped uint8 array.

Decoding and resizing JPEGs can take longer than a training step of a compact model on a
GPU. The cache pays that once; later epochs and runs read (3, S, S) slices straight
from the page cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from engine.atomic import write_atomic
from engine.data.photo_folder import PhotoFolderDataset, load_training_image

log = logging.getLogger(__name__)


def _fingerprint(files: list[Path], size: int) -> str:
    digest = hashlib.sha256(str(size).encode())
    for path in files:
        stat = path.stat()
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


class CachedDataset(Dataset):
    """Wrap a :class:`PhotoFolderDataset`, serving its images from ``cache_dir``.

    A change of the file list, file sizes, dates or image size writes a new cache file.
    """

    def __init__(self, source: PhotoFolderDataset, cache_dir: str | Path) -> None:
        self.source = source
        self.labels = source.labels
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        fingerprint = _fingerprint(source.files, source.size)
        self.array_path = cache_dir / f"images_{source.size}_{fingerprint[:16]}.npy"
        if not self.array_path.exists():
            self._build()
        self.images = np.load(self.array_path, mmap_mode="r")
        if self.images.shape != (len(source), source.size, source.size, 3):
            raise ValueError(f"{self.array_path}: unexpected cache shape {self.images.shape}; delete it")

    def _build(self) -> None:
        size = self.source.size
        log.info("caching %d images at %dx%d in %s", len(self.source), size, size, self.array_path)

        def write(temporary: Path) -> None:
            array = np.lib.format.open_memmap(
                temporary, mode="w+", dtype=np.uint8, shape=(len(self.source), size, size, 3)
            )
            for index, path in enumerate(self.source.files):
                try:
                    array[index] = load_training_image(path, size)
                except (OSError, ValueError) as error:
                    # Keep the slot (labels stay aligned) as mid-grey; screening
                    # normally removed such files already.
                    log.warning("cannot cache %s (%s); using a grey image in its place", path, error)
                    array[index] = 128
            array.flush()
            del array

        write_atomic(self.array_path, write)
        manifest = self.array_path.with_suffix(".json")
        files = [str(p) for p in self.source.files]
        write_atomic(manifest, lambda temporary: temporary.write_text(json.dumps(files), encoding="utf-8"))

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        image = torch.from_numpy(np.array(self.images[index]))
        return image.permute(2, 0, 1).contiguous(), self.labels[index]
