"""Adding photos to the queue: opened or dropped paths, folders, pasted images.

Folder searches, pasted-image files and thumbnails are made in the loader
worker, and ``PhotoIntake`` writes what they return into the ``PhotoQueue``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QImage

from colorapp import image_files
from colorapp.photo_queue import ItemStatus, PhotoQueue, QueueItem
from colorapp.tasks import FoundPhotos, PhotoPreview, find_photos, load_preview, save_pasted_image
from colorapp.workers import Job, WorkerThread

logger = logging.getLogger(__name__)

PASTED_NAME = "Pasted {number}"


def failure_reason(message: str, path: Path) -> str:
    """Shorten an engine error for a queue row: drop the leading "PATH: " that names the file."""
    prefix = f"{path}: "
    return message[len(prefix):] if message.startswith(prefix) else message


class PhotoIntake(QObject):
    """Queues photos and reads each once in the loader worker for its size and thumbnail."""

    photos_added = Signal(list, str)
    """The new QueueItems (possibly none) and a status bar message about the request."""
    preview_ready = Signal(int, QImage)
    """Item id and thumbnail of a photo whose size is now known."""
    read_failed = Signal(int, str)
    """Item id and the engine's message for a photo that cannot be read."""

    def __init__(self, queue: PhotoQueue, loader: WorkerThread, pasted_folder: Path, parent: QObject | None = None):
        super().__init__(parent)
        self._queue = queue
        self._loader = loader
        self._pasted_folder = pasted_folder
        self._pasted_count = 0
        self._preview_jobs: dict[int, Job] = {}

    def add_paths(self, paths: Iterable[str | Path]) -> None:
        """Queue image files and every image file in folders (recursively), in the background.

        ``photos_added`` follows, also when nothing was added.
        """
        paths = [Path(path) for path in paths]
        if not paths:
            self.photos_added.emit([], "Nothing to open.")
            return
        description = f"Searching {paths[0]}" if len(paths) == 1 else f"Searching {len(paths)} paths"
        job = Job(description, partial(find_photos, paths))
        job.finished.connect(self._on_found)
        job.failed.connect(lambda message: self.photos_added.emit([], message))
        # Urgent, so that new rows appear even while many thumbnails are waiting.
        self._loader.submit(job, urgent=True)

    def add_image(self, image: QImage) -> None:
        """Queue a pasted bitmap as "Pasted N", saved first as a PNG file in the session folder."""
        self._pasted_count += 1
        name = PASTED_NAME.format(number=self._pasted_count)
        path = self._pasted_folder / f"{name}.png"
        job = Job(f"Saving the pasted image as {path}", partial(save_pasted_image, image.copy(), path))
        job.finished.connect(lambda saved: self._add_entries([(saved, name)], []))
        job.failed.connect(lambda message: self.photos_added.emit([], message))
        self._loader.submit(job, urgent=True)

    def cancel_previews(self, item_ids: Iterable[int]) -> None:
        for item_id in item_ids:
            job = self._preview_jobs.pop(item_id, None)
            if job is not None:
                job.cancel()

    @Slot(object)
    def _on_found(self, found: FoundPhotos) -> None:
        self._add_entries([(path, path.name) for path in found.files], found.rejected)

    def _add_entries(self, entries: list[tuple[Path, str]], rejected: list) -> None:
        for item in rejected:
            logger.info("Not opening %s: %s", item.path, item.reason)
        already_queued = [path for path, _ in entries if self._queue.find_path(path) is not None]
        added = self._queue.add(entries)
        for item in added:
            self._submit_preview(item)

        messages = []
        if added:
            messages.append(f"Added {len(added)} photo{'s' if len(added) != 1 else ''} to the queue.")
        if already_queued:
            names = ", ".join(path.name for path in already_queued[:3])
            more = f" and {len(already_queued) - 3} more" if len(already_queued) > 3 else ""
            messages.append(f"Already in the queue: {names}{more}.")
        if rejected:
            messages.append(image_files.describe_rejected(rejected))
        self.photos_added.emit(added, " ".join(messages) or "Nothing to open.")

    def _submit_preview(self, item: QueueItem) -> None:
        job = Job(f"Reading {item.path}", partial(load_preview, item.item_id, item.path))
        job.finished.connect(self._on_preview)
        job.failed.connect(lambda message, item=item: self._on_preview_failed(item, message))
        self._preview_jobs[item.item_id] = job
        self._loader.submit(job)

    @Slot(object)
    def _on_preview(self, preview: PhotoPreview) -> None:
        self._preview_jobs.pop(preview.item_id, None)
        if self._queue.update(preview.item_id, size=preview.size) is not None:
            self.preview_ready.emit(preview.item_id, preview.thumbnail)

    def _on_preview_failed(self, item: QueueItem, message: str) -> None:
        self._preview_jobs.pop(item.item_id, None)
        updated = self._queue.update(
            item.item_id, status=ItemStatus.FAILED, reason=failure_reason(message, item.path)
        )
        if updated is not None:
            self.read_failed.emit(item.item_id, message)
