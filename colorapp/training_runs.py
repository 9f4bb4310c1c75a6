"""Qt-free state behind the Train tab: loss history, progress text and the unfinished run."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

from colorapp.batch import format_duration
from engine.errors import TrainingError
from engine.training.session import RunRecord, read_run_record

logger = logging.getLogger(__name__)

LOSS_LABELS = {
    "generator": "Generator loss (total)",
    "adversarial": "Adversarial loss (generator)",
    "reconstruction": "Reconstruction loss (ab)",
    "classification": "Classification loss (cross-entropy)",
    "discriminator": "Discriminator loss",
    "wasserstein": "Wasserstein distance estimate",
    "gradient_penalty": "Gradient penalty",
}
"""Chart titles of the loss terms that ``Trainer.train_step`` reports."""
SMOOTHING = 0.9
"""Weight of the previous value in the exponential moving average of a loss curve."""


def loss_label(name: str) -> str:
    return LOSS_LABELS.get(name, name.replace("_", " ").capitalize())


@dataclass
class LossCurve:
    steps: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    """Bias-corrected exponential moving average of ``values``."""
    _average: float = 0.0

    def add(self, step: int, value: float) -> None:
        self.steps.append(step)
        self.values.append(value)
        self._average = SMOOTHING * self._average + (1.0 - SMOOTHING) * value
        # Dividing by 1 - w^n removes the pull towards the zero start, as TensorBoard does.
        self.smoothed.append(self._average / (1.0 - SMOOTHING ** len(self.values)))


class LossHistory:
    """Every loss term of every step of a run, in the order the terms first appeared.

    Non-finite values are skipped: the trainer stops on them, and a chart axis cannot
    show them.
    """

    def __init__(self) -> None:
        self._curves: dict[str, LossCurve] = {}
        self.validation_steps: list[int] = []
        self.validation_error: list[float] = []
        """Mean absolute ab error (Lab units) of each validation."""
        self.base_error: float | None = None
        """The base model's ab error on the same photos, before training."""

    def clear(self) -> None:
        self._curves.clear()
        self.validation_steps.clear()
        self.validation_error.clear()
        self.base_error = None

    def add_step(self, step: int, losses: dict[str, float]) -> None:
        for name, value in losses.items():
            if math.isfinite(value):
                self._curves.setdefault(name, LossCurve()).add(step, value)

    def add_validation(self, step: int, metrics: dict[str, float]) -> None:
        if "val_l1_ab" in metrics:
            self.validation_steps.append(step)
            self.validation_error.append(metrics["val_l1_ab"])

    def names(self) -> list[str]:
        return list(self._curves)

    def curve(self, name: str) -> LossCurve:
        return self._curves[name]

    def points(self, name: str, max_points: int = 400, smoothed: bool = False) -> list[tuple[float, float]]:
        """Return (step, value) pairs of a term, at most ``max_points``, averaged over equal step ranges."""
        curve = self._curves[name]
        values = curve.smoothed if smoothed else curve.values
        return downsample(curve.steps, values, max_points)

    def __len__(self) -> int:
        return max((len(curve.steps) for curve in self._curves.values()), default=0)


def downsample(steps: list[int], values: list[float], max_points: int) -> list[tuple[float, float]]:
    """Average consecutive points in groups so that at most ``max_points`` remain."""
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, got {max_points}")
    count = len(steps)
    if count <= max_points:
        return list(zip(map(float, steps), values))
    group = math.ceil(count / max_points)
    points = []
    for start in range(0, count, group):
        chunk_steps = steps[start:start + group]
        chunk_values = values[start:start + group]
        points.append((sum(chunk_steps) / len(chunk_steps), sum(chunk_values) / len(chunk_values)))
    return points


def describe_step(step: int, total_steps: int, epoch: int, steps_per_epoch: int,
                  images_per_second: float, eta_seconds: float) -> str:
    """Return the progress line of a training step, such as "Step 120 of 600 · epoch 5 of 25 · …"."""
    parts = [f"Step {step:,} of {total_steps:,}"]
    if steps_per_epoch > 0:
        epochs = math.ceil(total_steps / steps_per_epoch)
        parts.append(f"epoch {min(epoch + 1, epochs)} of {epochs}")
    parts.append(f"{images_per_second:.1f} images/s")
    if step < total_steps:
        parts.append(f"about {format_duration(eta_seconds)} left")
    return " · ".join(parts)


def unfinished_run(run_folder: str) -> RunRecord | None:
    """Return the record of the run in ``run_folder`` if it can be resumed, else None.

    An unreadable record is logged and reads as no run.
    """
    if not run_folder:
        return None
    try:
        record = read_run_record(Path(run_folder))
    except TrainingError as error:
        logger.warning("Ignoring the unfinished training run: %s", error)
        return None
    if not record.resumable:
        logger.info("The training run %s is %s and cannot be resumed", run_folder, record.status)
        return None
    return record
