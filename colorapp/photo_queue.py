"""The photo queue of the Colorize tab as plain Python state, without Qt.

``PhotoQueue`` contains one ``QueueItem`` per photo and notifies subscribers of
every change, so a Qt model can mirror it row for row. All methods must be called
from the UI thread. Workers return values that the tab then writes here.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


class ItemStatus(enum.Enum):
    WAITING = "waiting"
    COLORIZING = "colorizing"
    DONE = "done"
    FAILED = "failed"
    EXPORTED = "exported"


@dataclass(frozen=True)
class QueueItem:
    """One photo in the queue and what has happened to it."""

    item_id: int
    path: Path
    """The original file. A pasted image is saved to a session file first."""
    name: str
    """Display name: the file name, or "Pasted N" for a pasted image."""
    size: tuple[int, int] | None = None
    """(width, height) in pixels, known once the preview has loaded."""
    status: ItemStatus = ItemStatus.WAITING
    reason: str = ""
    """Failure message of the last step, shown with ``ItemStatus.FAILED``."""
    result_model: str = ""
    """Display name of the model that made the stored result, or empty without a result."""
    result_signature: tuple | None = None
    """Model and render settings of the stored result, to tell whether it is out of date."""
    exported_path: Path | None = None
    progress: float = 0.0
    """Fraction of the running colorize step, 0 to 1."""

    @property
    def has_result(self) -> bool:
        return self.result_signature is not None

    @property
    def is_loaded(self) -> bool:
        """Whether the photo was read once, so its size is known (or it failed)."""
        return self.size is not None or self.status is ItemStatus.FAILED

    def size_text(self) -> str:
        if self.size is None:
            return "reading…" if self.status is not ItemStatus.FAILED else "size unknown"
        width, height = self.size
        return f"{width} × {height} px"

    def status_text(self) -> str:
        """Return the status as the queue shows it, such as "failed: file not found"."""
        if self.status is ItemStatus.COLORIZING:
            return f"colorizing… {round(self.progress * 100)} %" if self.progress > 0 else "colorizing…"
        if self.status is ItemStatus.DONE:
            return f"done ({self.result_model})" if self.result_model else "done"
        if self.status is ItemStatus.FAILED:
            return f"failed: {self.reason}"
        if self.status is ItemStatus.EXPORTED and self.exported_path is not None:
            return f"exported: {self.exported_path.name}"
        return self.status.value


class _Event:
    """A list of plain callbacks that ``emit`` calls in subscription order."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., None]] = []

    def subscribe(self, callback: Callable[..., None]) -> None:
        self._callbacks.append(callback)

    def unsubscribe(self, callback: Callable[..., None]) -> None:
        self._callbacks.remove(callback)

    def emit(self, *args: object) -> None:
        for callback in list(self._callbacks):
            callback(*args)


class PhotoQueue:
    """Ordered photos with change events.

    Events fire after the change: ``inserted(first_row, items)``,
    ``removed(row, item)``, ``changed(row, item)`` and ``cleared()``.
    """

    def __init__(self) -> None:
        self._items: list[QueueItem] = []
        self._next_id = 1
        self.inserted = _Event()
        self.removed = _Event()
        self.changed = _Event()
        self.cleared = _Event()

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[QueueItem]:
        return list(self._items)

    def item_at(self, row: int) -> QueueItem:
        return self._items[row]

    def get(self, item_id: int) -> QueueItem | None:
        """Return the item with this id, or None once it was removed."""
        row = self.row_of(item_id)
        return None if row < 0 else self._items[row]

    def row_of(self, item_id: int) -> int:
        """Return the item's row, or -1 when it is not in the queue."""
        for row, item in enumerate(self._items):
            if item.item_id == item_id:
                return row
        return -1

    def find_path(self, path: Path) -> QueueItem | None:
        return next((item for item in self._items if item.path == path), None)

    def add(self, entries: Iterable[tuple[Path, str]]) -> list[QueueItem]:
        """Append photos given as (path, display name), skipping paths already queued.

        Return the new items.
        """
        known = {item.path for item in self._items}
        added: list[QueueItem] = []
        for path, name in entries:
            if path in known:
                continue
            known.add(path)
            added.append(QueueItem(item_id=self._next_id, path=path, name=name))
            self._next_id += 1
        if added:
            first_row = len(self._items)
            self._items.extend(added)
            self.inserted.emit(first_row, added)
        return added

    def update(self, item_id: int, **changes: object) -> QueueItem | None:
        """Replace fields of an item. Return the new item, or None when it was removed."""
        row = self.row_of(item_id)
        if row < 0:
            return None
        item = dataclasses.replace(self._items[row], **changes)
        self._items[row] = item
        self.changed.emit(row, item)
        return item

    def remove(self, item_ids: Iterable[int]) -> list[QueueItem]:
        """Remove items by id, ignoring unknown ids. Return the removed items."""
        ids_to_remove = set(item_ids)
        removed: list[QueueItem] = []
        # From the end, so that the rows of the items still to remove stay valid.
        for row in range(len(self._items) - 1, -1, -1):
            if self._items[row].item_id in ids_to_remove:
                item = self._items.pop(row)
                removed.append(item)
                self.removed.emit(row, item)
        removed.reverse()
        return removed

    def clear(self) -> list[QueueItem]:
        """Remove every item and return them."""
        removed, self._items = self._items, []
        if removed:
            self.cleared.emit()
        return removed
