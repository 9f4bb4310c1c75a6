"""Trainer events: a callback base class whose hooks do nothing by default."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class StepEvent:
    step: int
    """Generator updates done so far (1-based after the first)."""
    total_steps: int
    epoch: int
    losses: dict[str, float]
    learning_rate: float
    images_per_second: float
    eta_seconds: float


@dataclass
class ValidationEvent:
    step: int
    metrics: dict[str, float]
    previews: list = field(default_factory=list)
    """(H, W, 3) uint8 arrays: input L, prediction, truth for each preview photo."""


class Callback:
    """Override the hooks you need; the trainer calls them on its own thread."""

    def on_train_start(self, trainer) -> None: ...

    def on_step_end(self, trainer, event: StepEvent) -> None: ...

    def on_epoch_end(self, trainer, epoch: int) -> None: ...

    def on_validation_end(self, trainer, event: ValidationEvent) -> None: ...

    def on_checkpoint(self, trainer, path) -> None: ...

    def on_pause(self, trainer) -> None:
        """Called when the loop has paused, before it waits to start the next step."""

    def on_unpause(self, trainer) -> None:
        """Called when the loop leaves the pause, to continue or to stop."""

    def on_train_end(self, trainer, reason: str) -> None:
        """``reason`` is "finished", "max steps" or "stopped"."""

    def on_error(self, trainer, error: BaseException) -> None: ...


class LoggingCallback(Callback):
    """Log progress every ``every`` steps and every validation."""

    def __init__(self, every: int = 50) -> None:
        self.every = every

    def on_step_end(self, trainer, event: StepEvent) -> None:
        if event.step % self.every and event.step not in (1, event.total_steps):
            return
        losses = " ".join(f"{name}={value:.4f}" for name, value in event.losses.items())
        log.info(
            "step %d/%d epoch %d %s lr=%.2e %.1f img/s eta %.0f min",
            event.step,
            event.total_steps,
            event.epoch,
            losses,
            event.learning_rate,
            event.images_per_second,
            event.eta_seconds / 60,
        )

    def on_validation_end(self, trainer, event: ValidationEvent) -> None:
        figures = " ".join(f"{name}={value:.4f}" for name, value in event.metrics.items())
        log.info("validation at step %d: %s", event.step, figures)
