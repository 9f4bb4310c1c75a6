"""Colorized results of the queue, kept in memory up to a budget and in files beyond it.

A result is a full-resolution ``engine.imaging.Photo`` of float32 pixels, 12 bytes
per pixel, so a box of large scans does not fit in memory. The least recently
used results move into pickle files in a private session folder and come back
when they are needed again.
"""

from __future__ import annotations

import itertools
import logging
import pickle
import threading
from collections import OrderedDict
from pathlib import Path

from engine.imaging import Photo

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_BUDGET = 1_500_000_000
"""Bytes of result pixels kept in memory before older results move to files."""


def photo_bytes(photo: Photo) -> int:
    """Return the memory the photo's pixel arrays use, in bytes."""
    return photo.rgb.nbytes + (photo.alpha.nbytes if photo.alpha is not None else 0)


class ResultStore:
    """Results by queue item id. Thread-safe: workers put and get, the UI thread discards.

    ``spill_folder`` must be private to this session, because its files are
    unpickled. Nothing else may write there.
    """

    def __init__(self, spill_folder: Path, memory_budget: int = DEFAULT_MEMORY_BUDGET) -> None:
        if memory_budget < 0:
            raise ValueError(f"memory_budget must be 0 or more bytes, got {memory_budget}")
        self._folder = Path(spill_folder)
        self._budget = memory_budget
        self._lock = threading.Lock()
        self._in_memory: OrderedDict[int, Photo] = OrderedDict()
        self._memory_used = 0
        self._in_files: dict[int, Path] = {}
        # Results being written to files outside the lock, so that get() still finds them.
        self._spilling: dict[int, Photo] = {}
        self._file_numbers = itertools.count(1)

    def __contains__(self, item_id: int) -> bool:
        with self._lock:
            return item_id in self._in_memory or item_id in self._in_files or item_id in self._spilling

    def memory_used(self) -> int:
        with self._lock:
            return self._memory_used

    def put(self, item_id: int, photo: Photo) -> None:
        """Store a result, replacing any earlier one for the same item."""
        with self._lock:
            self._discard_locked(item_id)
            self._in_memory[item_id] = photo
            self._memory_used += photo_bytes(photo)
            victims = self._take_victims_locked()
        for victim_id, victim in victims:
            self._spill(victim_id, victim)

    def get(self, item_id: int) -> Photo | None:
        """Return the result, read back from its file if needed, or None if there is none."""
        with self._lock:
            photo = self._in_memory.get(item_id)
            if photo is not None:
                self._in_memory.move_to_end(item_id)
                return photo
            if item_id in self._spilling:
                return self._spilling[item_id]
            path = self._in_files.get(item_id)
        if path is None:
            return None
        try:
            with path.open("rb") as file:
                # The file was written by _spill into the private session folder.
                photo = pickle.load(file)  # noqa: S301
        except (OSError, pickle.UnpicklingError, EOFError) as error:
            logger.error("Reading the stored result %s failed: %s", path, error)
            return None
        return photo

    def discard(self, item_id: int) -> None:
        with self._lock:
            self._discard_locked(item_id)

    def clear(self) -> None:
        with self._lock:
            for item_id in list(self._in_memory) + list(self._in_files) + list(self._spilling):
                self._discard_locked(item_id)

    def _discard_locked(self, item_id: int) -> None:
        photo = self._in_memory.pop(item_id, None)
        if photo is not None:
            self._memory_used -= photo_bytes(photo)
        self._spilling.pop(item_id, None)
        path = self._in_files.pop(item_id, None)
        if path is not None:
            path.unlink(missing_ok=True)

    def _take_victims_locked(self) -> list[tuple[int, Photo]]:
        # The newest result always stays in memory, even when it alone exceeds the budget.
        victims = []
        while self._memory_used > self._budget and len(self._in_memory) > 1:
            item_id, photo = self._in_memory.popitem(last=False)
            self._memory_used -= photo_bytes(photo)
            self._spilling[item_id] = photo
            victims.append((item_id, photo))
        return victims

    def _spill(self, item_id: int, photo: Photo) -> None:
        # A fresh name per file, so an older write of the same item never meets a newer one.
        path = self._folder / f"result-{item_id}-{next(self._file_numbers)}.pickle"
        try:
            self._folder.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as file:
                pickle.dump(photo, file, protocol=pickle.HIGHEST_PROTOCOL)
        except OSError as error:
            # The result is lost, so the queue colorizes the photo again when it is needed.
            logger.error("Storing the result of queue item %s in %s failed: %s", item_id, path, error)
            path.unlink(missing_ok=True)
            with self._lock:
                if self._spilling.get(item_id) is photo:
                    del self._spilling[item_id]
            return
        with self._lock:
            if self._spilling.get(item_id) is not photo:
                # Discarded or replaced while it was being written.
                path.unlink(missing_ok=True)
                return
            del self._spilling[item_id]
            self._in_files[item_id] = path
        logger.info("Moved the result of queue item %s (%d MB) to %s", item_id, photo_bytes(photo) >> 20, path)
