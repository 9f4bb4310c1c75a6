"""Progress of a run over several queue photos, as plain Python state without Qt."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class RunKind(enum.Enum):
    COLORIZE = "colorize"
    EXPORT = "export"


@dataclass
class BatchProgress:
    """Counts and timing of a run. ``clock`` returns seconds, and tests replace it."""

    kind: RunKind
    item_ids: list[int]
    clock: Callable[[], float] = time.monotonic
    succeeded: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    """Item id to the failure message."""
    cancelled: list[int] = field(default_factory=list)
    current_id: int | None = None
    current_fraction: float = 0.0
    cancel_requested: bool = False
    started_at: float = 0.0

    def __post_init__(self) -> None:
        self.started_at = self.clock()

    @property
    def total(self) -> int:
        return len(self.item_ids)

    @property
    def completed(self) -> int:
        return len(self.succeeded) + len(self.failed) + len(self.cancelled)

    @property
    def is_complete(self) -> bool:
        return self.completed >= self.total

    def fraction(self) -> float:
        """Return the share of the run that is done, 0 to 1, counting the running photo's progress."""
        if self.total == 0:
            return 1.0
        return min((self.completed + self.current_fraction) / self.total, 1.0)

    def start_item(self, item_id: int) -> None:
        self.current_id = item_id
        self.current_fraction = 0.0

    def set_item_fraction(self, item_id: int, fraction: float) -> None:
        if item_id == self.current_id:
            self.current_fraction = min(max(fraction, 0.0), 1.0)

    def finish_item(self, item_id: int, error: str | None = None, cancelled: bool = False) -> None:
        """Record a photo's outcome: success, failure with ``error``, or ``cancelled``."""
        if cancelled:
            self.cancelled.append(item_id)
        elif error is not None:
            self.failed[item_id] = error
        else:
            self.succeeded.append(item_id)
        if item_id == self.current_id:
            self.current_id = None
            self.current_fraction = 0.0

    def remaining_seconds(self) -> float | None:
        """Estimate the seconds left from the average time per photo so far.

        Return None until at least half a photo is done, because earlier
        estimates include loading the model and mislead.
        """
        done = self.completed - len(self.cancelled) + self.current_fraction
        if done < 0.5 or self.cancel_requested:
            return None
        elapsed = self.clock() - self.started_at
        return max(elapsed / done * (self.total - len(self.cancelled) - done), 0.0)

    def describe(self, current_name: str | None) -> str:
        """Describe the run for its progress label, such as "Colorizing 2 of 5: scan.jpg · about 40 s left"."""
        verb = "Colorizing" if self.kind is RunKind.COLORIZE else "Exporting"
        if self.cancel_requested:
            return f"Cancelling… {self.completed} of {self.total} done."
        number = min(self.completed + 1, self.total)
        text = f"{verb} {number} of {self.total}"
        if current_name:
            text += f": {current_name}"
        remaining = self.remaining_seconds()
        if remaining is not None and self.total > 1:
            text += f" · about {format_duration(remaining)} left"
        return text

    def summary(self) -> str:
        """Describe the outcome for the status bar, such as "Colorized 4 photos; 1 failed."."""
        verb = "Colorized" if self.kind is RunKind.COLORIZE else "Exported"
        parts = [f"{verb} {_photos(len(self.succeeded))}"]
        if self.failed:
            parts.append(f"{len(self.failed)} failed")
        if self.cancelled:
            parts.append(f"{len(self.cancelled)} cancelled")
        return "; ".join(parts) + "."


def format_duration(seconds: float) -> str:
    """Format a duration for a progress label: "45 s", "3 min 5 s" or "2 h 10 min"."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def _photos(count: int) -> str:
    return f"{count} photo" if count == 1 else f"{count} photos"
