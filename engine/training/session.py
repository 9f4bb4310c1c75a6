"""A fine-tuning run as the desktop app drives it: dataset check, trainer, events and export.

Before a run, ``check_dataset`` reports which photos of a folder can teach colour.
``FineTuneSession.run`` builds the data sets with ``build_datasets`` and trains with
:class:`Trainer`. At the end it exports the generator with its model card into the
user model folder. Progress reaches the caller as event objects through ``on_event``,
which runs on the training thread. Each run has a folder (under
``engine.paths.checkpoint_dir()`` by default) with its checkpoints, ``metrics.jsonl``
and ``session.json``, the record from which an interrupted run is resumed.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine import paths
from engine.atomic import write_atomic
from engine.data.datasets import MAX_VALIDATION, VALIDATION_FRACTION, build_datasets
from engine.data.photo_folder import screen_folder
from engine.data.screening import Screening
from engine.errors import CancelledError, ModelFileError, TrainingError
from engine.modelcard import write_card
from engine.modelinfo import MODEL_SUFFIX, read_model_info
from engine.models import build_generator
from engine.training.callbacks import Callback, LoggingCallback, StepEvent, ValidationEvent
from engine.training.checkpoint import LAST_NAME
from engine.training.export import export_checkpoint
from engine.training.recipes import RECIPES, Recipe, get_recipe
from engine.training.trainer import Trainer

log = logging.getLogger(__name__)

MIN_BATCHES = 2
"""Training photos (after the validation hold-out) below this many batches get a warning."""
PREVIEW_PHOTOS = 4
"""Validation photos shown as previews; ``Trainer.validate`` sends this many by default."""
KEEP_CHECKPOINTS = 2
"""Step checkpoints kept in a run folder besides ``last.pt``."""
SESSION_FILE = "session.json"

# Run states stored in session.json.
CREATED = "created"
TRAINING = "training"
"""Also what a run that crashed or was killed still shows."""
INTERRUPTED = "interrupted"
"""Stopped with a checkpoint and no export, to be resumed later."""
FAILED = "failed"
CANCELLED = "cancelled"
"""Stopped before its first step; nothing to resume or export."""
EXPORTED = "exported"
RESUMABLE_STATES = (TRAINING, INTERRUPTED, FAILED)


# Dataset check


def validation_count(usable: int) -> int:
    """Return how many of ``usable`` photos ``build_datasets`` holds out for validation."""
    if usable <= 0:
        return 0
    return min(MAX_VALIDATION, max(1, round(usable * VALIDATION_FRACTION)))


@dataclass(frozen=True)
class DatasetReport:
    """Result of a dataset check: the usable photos of a folder, and the skipped files with reasons."""

    folder: Path
    usable: tuple[Path, ...]
    skipped: tuple[Screening, ...]
    """Each with ``reason`` "broken", "too small", "grayscale" or "sepia" and a detail."""

    @property
    def validation_count(self) -> int:
        return validation_count(len(self.usable))

    @property
    def training_count(self) -> int:
        return len(self.usable) - self.validation_count

    def skipped_by_reason(self) -> dict[str, int]:
        """Return the count of skipped files per reason, most frequent first."""
        return dict(Counter(result.reason for result in self.skipped).most_common())

    def minimum_photos(self, batch_size: int) -> int:
        """Return the usable photos needed for ``MIN_BATCHES`` training batches after the hold-out."""
        needed = MIN_BATCHES * batch_size
        count = needed
        while count - validation_count(count) < needed:
            count += 1
        return count

    def can_train(self, batch_size: int) -> bool:
        """Return whether the trainer accepts the data: at least one full training batch."""
        return self.training_count >= batch_size

    def warning(self, batch_size: int) -> str:
        """Return a warning for too few photos at ``batch_size``, or "" when there are enough."""
        if self.training_count >= MIN_BATCHES * batch_size:
            return ""
        needed = self.minimum_photos(batch_size)
        text = (
            f"Only {len(self.usable)} usable colour photos: {self.training_count} for training and "
            f"{self.validation_count} held out for previews. Training needs at least {MIN_BATCHES} "
            f"batches of {batch_size} photos, so add photos until there are {needed} usable ones"
        )
        if batch_size > 2:
            text += " or lower the batch size"
        if not self.can_train(batch_size):
            text += ". Training cannot start with less than one batch"
        return text + "."


def check_dataset(
    folder: str | Path,
    progress: Callable[[int, int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> DatasetReport:
    """Screen every image under ``folder`` (recursive) as training data.

    ``progress(done, total)`` is called after each file and ``cancelled()`` is checked
    before each one.

    Raises:
        TrainingError: the folder does not exist.
        CancelledError: ``cancelled()`` returned True.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise TrainingError(f"{folder}: folder not found; choose a folder of colour photos")
    usable, skipped = screen_folder(folder, progress, cancelled)
    for result in skipped:
        log.info("dataset check: skipped %s: %s (%s)", result.path, result.reason, result.detail)
    report = DatasetReport(folder, tuple(usable), tuple(skipped))
    log.info("dataset check of %s: %d usable colour photos, %d skipped %s",
             folder, len(usable), len(skipped), report.skipped_by_reason())
    return report


# Settings and the run record


def recipes_for(architecture: str) -> list[str]:
    """Return the names of the recipes that train a generator of ``architecture``."""
    return [name for name, recipe in RECIPES.items() if recipe.architecture == architecture]


def default_learning_rate(recipe_name: str, fine_tuning: bool) -> float:
    """Return the recipe's generator learning rate, times ``finetune_lr_scale`` when fine-tuning."""
    recipe = get_recipe(recipe_name)
    return recipe.generator_lr * (recipe.finetune_lr_scale if fine_tuning else 1.0)


@dataclass(frozen=True)
class FineTuneSettings:
    """The choices of a run. ``None`` fields take the recipe's default."""

    data_dir: Path
    model_name: str
    """Display name of the exported model; its file name is derived from it."""
    recipe: str = "pix2pix"
    base_model: Path | None = None
    """Model file to fine-tune from, or None to train from scratch."""
    epochs: int | None = None
    batch_size: int | None = None
    learning_rate: float | None = None
    """Generator learning rate; None takes :func:`default_learning_rate`."""
    width: int = 16
    """Generator width when training from scratch; a base model fixes its own."""
    device: str = "auto"
    validate_every: int = 100
    """Steps between validations (with previews) and checkpoints."""
    max_steps: int | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.model_name.strip():
            raise ValueError("the model name is empty; enter a name for the new model")
        if self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}; choose one of {sorted(RECIPES)}")
        positive = {"epochs": self.epochs, "validate_every": self.validate_every,
                    "max_steps": self.max_steps, "width": self.width}
        for name, value in positive.items():
            if value is not None and value < 1:
                raise ValueError(f"{name} must be at least 1, got {value}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")

    @property
    def fine_tuning(self) -> bool:
        return self.base_model is not None

    def build_recipe(self) -> Recipe:
        """Return the recipe with these settings applied.

        The learning rate given here is the one used, because the trainer's fine-tuning
        scale is set to 1. The discriminator's rate and the cosine schedule's final rate
        are scaled by the same factor as the generator's, so the schedule keeps its shape.
        """
        recipe = get_recipe(self.recipe)
        rate = self.learning_rate or default_learning_rate(self.recipe, self.fine_tuning)
        factor = rate / recipe.generator_lr
        overrides = {
            "generator_lr": rate,
            "discriminator_lr": recipe.discriminator_lr * factor,
            "final_lr": recipe.final_lr * factor,
            "finetune_lr_scale": 1.0,
        }
        if self.epochs is not None:
            overrides["epochs"] = self.epochs
        if self.batch_size is not None:
            overrides["batch_size"] = self.batch_size
        return recipe.replace(**overrides)

    def to_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["data_dir"] = str(self.data_dir)
        data["base_model"] = str(self.base_model) if self.base_model is not None else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> FineTuneSettings:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            log.warning("ignoring unknown run settings %s", unknown)
        values = {key: value for key, value in data.items() if key in known}
        values["data_dir"] = Path(values["data_dir"])
        if values.get("base_model") is not None:
            values["base_model"] = Path(values["base_model"])
        return cls(**values)


@dataclass
class RunRecord:
    """The state of a run folder, stored as ``session.json`` in it."""

    run_dir: Path
    settings: FineTuneSettings
    status: str = CREATED
    step: int = 0
    """Step of the last checkpoint."""
    total_steps: int = 0
    model_path: Path | None = None
    """The exported model file, once there is one."""
    base_metrics: dict = field(default_factory=dict)
    """Validation figures of the base model before training."""
    updated: float = 0.0
    """Time of the last change, in seconds since the epoch."""

    @property
    def checkpoint(self) -> Path:
        return self.run_dir / "checkpoints" / LAST_NAME

    @property
    def resumable(self) -> bool:
        """Whether the run stopped early and has a checkpoint to continue from."""
        return self.status in RESUMABLE_STATES and self.checkpoint.is_file()

    def save(self) -> None:
        self.updated = time.time()
        data = {
            "settings": self.settings.to_dict(),
            "status": self.status,
            "step": self.step,
            "total_steps": self.total_steps,
            "model_path": str(self.model_path) if self.model_path is not None else None,
            "base_metrics": self.base_metrics,
            "updated": self.updated,
        }
        text = json.dumps(data, indent=2)
        write_atomic(self.run_dir / SESSION_FILE, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def read_run_record(run_dir: str | Path) -> RunRecord:
    """Read a run folder's ``session.json``.

    Raises:
        TrainingError: the file is missing or not a valid run record.
    """
    run_dir = Path(run_dir)
    path = run_dir / SESSION_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        settings = FineTuneSettings.from_dict(data["settings"])
        model_path = data.get("model_path")
        return RunRecord(
            run_dir=run_dir,
            settings=settings,
            status=str(data.get("status", CREATED)),
            step=int(data.get("step", 0)),
            total_steps=int(data.get("total_steps", 0)),
            model_path=Path(model_path) if model_path else None,
            base_metrics=dict(data.get("base_metrics", {})),
            updated=float(data.get("updated", 0.0)),
        )
    except FileNotFoundError:
        raise TrainingError(f"{path}: run record not found; the run folder was moved or deleted") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise TrainingError(f"{path}: invalid run record ({error}); start a new run") from None


def model_file_stem(name: str) -> str:
    """Return a file name stem for a model name: letters, digits, "-" and "_" only."""
    stem = re.sub(r"[^\w\-]+", "_", name.strip()).strip("_")
    return stem[:60] or "model"


def new_run_dir(model_name: str, root: Path | None = None) -> Path:
    """Create and return a fresh run folder named after the model and the time."""
    root = Path(root) if root is not None else paths.checkpoint_dir()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    stem = model_file_stem(model_name)
    for index in range(1, 1000):
        folder = root / (f"{stem}-{stamp}" if index == 1 else f"{stem}-{stamp}-{index}")
        try:
            folder.mkdir(parents=True)
        except FileExistsError:
            continue
        return folder
    raise TrainingError(f"{root}: cannot create a new run folder for {model_name!r}; clean up old runs")


# Events sent to ``on_event``, on the training thread


@dataclass(frozen=True)
class StageEvent:
    """The session's current activity before or after the training steps."""

    stage: str
    """"data", "model", "base previews", "training" or "export"."""
    message: str


@dataclass(frozen=True)
class StartEvent:
    """The training loop starts, at ``step`` when resuming."""

    step: int
    total_steps: int
    steps_per_epoch: int
    training_photos: int
    validation_photos: int
    device: str


@dataclass(frozen=True)
class BasePreviewEvent:
    """The base model's result on the preview photos, computed once before training."""

    metrics: dict[str, float]
    previews: list
    """Per photo, (H, W, 3) uint8 arrays: input L, base model's prediction, truth."""


@dataclass(frozen=True)
class PauseEvent:
    paused: bool
    """True once the loop waits, False when it continues or stops."""
    step: int


@dataclass(frozen=True)
class CheckpointEvent:
    step: int
    path: Path


@dataclass(frozen=True)
class SessionResult:
    reason: str
    """"finished" or "stopped" (both exported), "interrupted" (checkpoint, no export) or
    "cancelled" (stopped before the first step)."""
    step: int
    total_steps: int
    model_name: str
    model_path: Path | None = None
    card_path: Path | None = None
    metrics: dict = field(default_factory=dict)
    """Figures of the last validation, as in the model card."""


class _EventForwarder(Callback):
    def __init__(self, session: FineTuneSession) -> None:
        self.session = session

    def on_train_start(self, trainer) -> None:
        self.session._emit(StartEvent(
            trainer.step, trainer.total_steps, trainer.steps_per_epoch,
            len(trainer.train_set), len(trainer.val_set) if trainer.val_set is not None else 0,
            str(trainer.device),
        ))

    def on_step_end(self, trainer, event: StepEvent) -> None:
        self.session._emit(event)

    def on_validation_end(self, trainer, event: ValidationEvent) -> None:
        self.session._emit(event)

    def on_checkpoint(self, trainer, path) -> None:
        record = self.session.record
        record.step = trainer.step
        record.total_steps = trainer.total_steps
        record.save()
        self.session._emit(CheckpointEvent(trainer.step, Path(path)))

    def on_pause(self, trainer) -> None:
        self.session._emit(PauseEvent(True, trainer.step))

    def on_unpause(self, trainer) -> None:
        self.session._emit(PauseEvent(False, trainer.step))


# The session


class FineTuneSession:
    """One run folder's training: start it with :meth:`create`, continue it with :meth:`open`.

    ``run`` blocks until the run ends. ``pause``, ``unpause`` and ``stop`` may be called
    from any thread, also before the trainer exists; they take effect between steps.
    """

    def __init__(
        self,
        record: RunRecord,
        user_model_dir: Path | None = None,
        on_event: Callable[[object], None] | None = None,
        report: DatasetReport | None = None,
    ) -> None:
        self.record = record
        self.report = report
        """The dataset check of the run's folder, reused by a new run instead of screening again."""
        self.user_model_dir = Path(user_model_dir) if user_model_dir is not None else paths.user_model_dir()
        self.on_event = on_event
        self._lock = threading.Lock()
        self._trainer: Trainer | None = None
        self._pause_requested = False
        self._stop_requested = False
        self._export_on_stop = True

    @classmethod
    def create(
        cls,
        settings: FineTuneSettings,
        runs_root: Path | None = None,
        user_model_dir: Path | None = None,
        on_event: Callable[[object], None] | None = None,
        report: DatasetReport | None = None,
    ) -> FineTuneSession:
        """Make a new run folder under ``runs_root`` (default ``paths.checkpoint_dir()``).

        ``report``, a dataset check of ``settings.data_dir``, spares the run a second screening.
        """
        record = RunRecord(new_run_dir(settings.model_name, runs_root), settings)
        record.save()
        log.info("created run folder %s for the model %r", record.run_dir, settings.model_name)
        return cls(record, user_model_dir, on_event, report)

    @classmethod
    def open(
        cls,
        run_dir: str | Path,
        user_model_dir: Path | None = None,
        on_event: Callable[[object], None] | None = None,
    ) -> FineTuneSession:
        """Open an existing run folder, to resume or export it."""
        return cls(read_run_record(run_dir), user_model_dir, on_event)

    @property
    def run_dir(self) -> Path:
        return self.record.run_dir

    @property
    def settings(self) -> FineTuneSettings:
        return self.record.settings

    # Control from other threads.

    def pause(self) -> None:
        with self._lock:
            self._pause_requested = True
            if self._trainer is not None:
                self._trainer.pause()

    def unpause(self) -> None:
        with self._lock:
            self._pause_requested = False
            if self._trainer is not None:
                self._trainer.unpause()

    def stop(self, export_model: bool = True) -> None:
        """Stop after the current step and save a checkpoint, then export the model if ``export_model``."""
        with self._lock:
            self._stop_requested = True
            self._export_on_stop = export_model
            if self._trainer is not None:
                self._trainer.request_stop()

    @property
    def paused(self) -> bool:
        return self._pause_requested

    # Running.

    def _emit(self, event: object) -> None:
        if self.on_event is not None:
            self.on_event(event)

    def _stage(self, stage: str, message: str) -> None:
        log.info("%s: %s", self.run_dir.name, message)
        self._emit(StageEvent(stage, message))

    def _set_status(self, status: str) -> None:
        self.record.status = status
        self.record.save()

    def run(self, resume: bool = False) -> SessionResult:
        """Train, from the run folder's last checkpoint if ``resume``, and export the model.

        Raises:
            TrainingError: the data, the base model or a setting is unusable, or
                training stopped on an error; the last checkpoint is kept.
            CancelledError: :meth:`stop` came before the training loop started.
        """
        if resume and not self.record.checkpoint.is_file():
            raise TrainingError(
                f"{self.run_dir}: no checkpoint to resume from yet; start the run again instead"
            )
        log.info("%s run %s: %s", "resuming" if resume else "starting", self.run_dir, self.settings)
        try:
            return self._run(resume)
        except CancelledError:
            if not resume:
                self._set_status(CANCELLED)
            raise
        except BaseException:
            self._set_status(FAILED)
            raise

    def _run(self, resume: bool) -> SessionResult:
        settings = self.settings
        recipe = settings.build_recipe()
        base_info = self._check_base_model(recipe)

        self._stage("data", f"Reading the photos in {settings.data_dir}…")
        base = str(settings.base_model) if settings.base_model is not None else None
        # A resumed run screens again: the folder may have changed since the check.
        screened = None
        if not resume and self.report is not None and self.report.folder == Path(settings.data_dir):
            screened = (list(self.report.usable), list(self.report.skipped))
        data = build_datasets(settings.data_dir, None, recipe, None, base, settings.seed, screened)
        self._raise_if_stopped()

        self._stage("model", "Preparing the models…")
        trainer = Trainer(
            recipe,
            data.train,
            self.run_dir,
            width=settings.width,
            num_classes=data.num_classes,
            val_set=data.val,
            init_model=settings.base_model,
            device=settings.device,
            seed=settings.seed,
            max_steps=settings.max_steps,
            checkpoint_every=settings.validate_every,
            validate_every=settings.validate_every,
            keep_checkpoints=KEEP_CHECKPOINTS,
            callbacks=[LoggingCallback(), _EventForwarder(self)],
            extra_state=data.extra_state,
        )
        self._raise_if_stopped()

        if base_info is not None:
            # Before fit() the generator still has the base model's weights, also when resuming.
            self._stage("base previews", f"Colorizing the preview photos with {base_info.name}…")
            # Iterating a DataLoader draws from the global RNG, whose state a resumed run must reproduce.
            with torch.random.fork_rng(devices=[]):
                metrics, previews = trainer.evaluate(PREVIEW_PHOTOS)
            self.record.base_metrics = metrics
            self._emit(BasePreviewEvent(metrics, previews))

        with self._lock:
            self._trainer = trainer
            if self._pause_requested:
                trainer.pause()
            if self._stop_requested:
                trainer.request_stop()
        self.record.total_steps = trainer.total_steps
        self._set_status(TRAINING)
        self._stage("training", f"Training on {trainer.device}…")
        try:
            reason = trainer.fit(resume=self.run_dir if resume else None)
        finally:
            with self._lock:
                self._trainer = None
        self.record.step = trainer.step

        if reason == "stopped" and trainer.step == 0:
            self._set_status(CANCELLED)
            return SessionResult("cancelled", 0, trainer.total_steps, settings.model_name)
        if reason == "stopped" and not self._export_on_stop:
            self._set_status(INTERRUPTED)
            log.info("run %s interrupted at step %d; resume it later", self.run_dir, trainer.step)
            return SessionResult("interrupted", trainer.step, trainer.total_steps, settings.model_name,
                                 metrics=dict(trainer.last_metrics))
        model_path, card_path = self.export()
        return SessionResult(reason, trainer.step, trainer.total_steps, settings.model_name,
                             model_path, card_path, dict(trainer.last_metrics))

    def _raise_if_stopped(self) -> None:
        if self._stop_requested:
            raise CancelledError(f"the run {self.run_dir.name} was stopped before training began")

    def _check_base_model(self, recipe: Recipe):
        if self.settings.base_model is None:
            return None
        try:
            info = read_model_info(self.settings.base_model)
        except ModelFileError as error:
            raise TrainingError(f"the base model cannot be used: {error}") from None
        if info.architecture != recipe.architecture:
            raise TrainingError(
                f"the base model {info.name!r} is a {info.architecture!r} generator, but the recipe "
                f"{recipe.name!r} trains {recipe.architecture!r}; choose one of "
                f"{recipes_for(info.architecture)}"
            )
        return info

    # Export.

    def _model_path(self) -> Path:
        # A run that was exported before overwrites its own file; a new export never
        # replaces another model or card.
        if self.record.model_path is not None:
            return self.record.model_path
        stem = model_file_stem(self.settings.model_name)
        for index in range(1, 1000):
            name = stem if index == 1 else f"{stem}_{index}"
            path = self.user_model_dir / f"{name}{MODEL_SUFFIX}"
            if not path.exists() and not path.with_suffix(".md").exists():
                return path
        raise TrainingError(f"{self.user_model_dir}: too many models named {stem}*; choose another name")

    def export(self) -> tuple[Path, Path]:
        """Write the last checkpoint's generator and its model card into the user model folder.

        Return the model file and the card. The figures are those of the last validation.
        """
        settings = self.settings
        if not self.record.checkpoint.is_file():
            raise TrainingError(f"{self.run_dir}: no checkpoint to export yet")
        self._stage("export", f"Saving the model {settings.model_name}…")
        base_info = None
        if settings.base_model is not None:
            try:
                base_info = read_model_info(settings.base_model)
            except ModelFileError as error:
                log.warning("the base model's facts are missing from the card: %s", error)
        self.user_model_dir.mkdir(parents=True, exist_ok=True)
        path = self._model_path()
        training_data = {"run_folder": str(self.run_dir)}
        if base_info is not None:
            training_data["base_model"] = base_info.name
        model_path, info = export_checkpoint(
            self.record.checkpoint,
            path,
            settings.model_name,
            description=self._description(base_info),
            license=base_info.license if base_info is not None else "",
            training_data=training_data,
        )
        generator = build_generator(info.architecture, info.width, info.num_classes)
        parameters = sum(parameter.numel() for parameter in generator.parameters())
        card_path = write_card(model_path, info, parameters, self._card_notes(base_info))
        self.record.model_path = model_path
        self._set_status(EXPORTED)
        log.info("exported the model %r to %s", settings.model_name, model_path)
        return model_path, card_path

    def _description(self, base_info) -> str:
        folder = self.settings.data_dir
        if base_info is None:
            return f"Trained from scratch on the colour photos in {folder}."
        return f"Fine-tuned from {base_info.name} on the colour photos in {folder}."

    def _card_notes(self, base_info) -> str:
        base = self.record.base_metrics
        if base_info is None or "val_psnr" not in base:
            return ""
        return (
            "## Before fine-tuning\n\n"
            f"On the same validation photos, the base model {base_info.name} had a mean absolute "
            f"ab error of {base['val_l1_ab']:.3f} and an RGB PSNR of {base['val_psnr']:.3f} dB."
        )
