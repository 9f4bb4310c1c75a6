"""The GAN trainer: one loop for the three recipes, with checkpoints, validation and callbacks."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset

from engine.color import lab_to_rgb, lab_to_rgb_keep_lightness, rgb_to_lab
from engine.devices import pick_device
from engine.errors import TrainingError
from engine.modelfile import load_generator
from engine.models import PatchDiscriminator, build_generator
from engine.training.callbacks import Callback, StepEvent, ValidationEvent
from engine.training.checkpoint import load_checkpoint, save_checkpoint
from engine.training.distributed import DistributedContext, device_for
from engine.training.losses import bce_to_target, gradient_penalty, reconstruction_loss
from engine.training.recipes import Recipe
from engine.training.sampler import ResumableSampler

log = logging.getLogger(__name__)

CHECKPOINT_VERSION = 1


def split_lab(rgb_uint8: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Turn (N, 3, H, W) uint8 sRGB into network input L/50 - 1 and target ab/110."""
    lab = rgb_to_lab(rgb_uint8.float() / 255.0)
    return lab[:, :1] / 50.0 - 1.0, lab[:, 1:] / 110.0


def psnr(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR in dB of (N, 3, H, W) images in [0, 1]."""
    mse = (prediction - target).pow(2).flatten(1).mean(dim=1).clamp(min=1e-10)
    return 10.0 * torch.log10(1.0 / mse)


class Trainer:
    """Train a generator and its discriminator with a :class:`Recipe`.

    Args:
        recipe: hyperparameters; see ``engine.training.recipes``.
        train_set: yields ``(rgb uint8 (3, S, S), label)``; label -1 means none.
        out_dir: checkpoints go to ``out_dir/checkpoints``, validation figures to
            ``out_dir/metrics.jsonl``.
        width: generator width when starting from scratch.
        num_classes: class count for "unet-class" generators.
        init_model: a model file to fine-tune from (its width and classes win).
        max_steps: stop after this many generator steps (also the schedule length).
    """

    def __init__(
        self,
        recipe: Recipe,
        train_set: Dataset,
        out_dir: str | Path,
        *,
        width: int = 16,
        num_classes: int | None = None,
        val_set: Dataset | None = None,
        init_model: str | Path | None = None,
        device: str = "auto",
        seed: int = 0,
        max_steps: int | None = None,
        checkpoint_every: int = 500,
        validate_every: int = 500,
        keep_checkpoints: int = 0,
        callbacks: list[Callback] | None = None,
        num_workers: int = 0,
        extra_state: dict | None = None,
        distributed: DistributedContext | None = None,
    ) -> None:
        if len(train_set) < recipe.batch_size:
            raise TrainingError(
                f"{len(train_set)} training photos are fewer than one batch of "
                f"{recipe.batch_size}; add photos or lower the batch size"
            )
        self.recipe = recipe
        self.train_set = train_set
        self.val_set = val_set
        self.out_dir = Path(out_dir)
        self.distributed = distributed
        self.is_main = distributed is None or distributed.is_main
        self.device = pick_device(device_for(distributed, device))
        self.seed = seed
        self.checkpoint_every = checkpoint_every
        self.validate_every = validate_every
        self.keep_checkpoints = keep_checkpoints
        self.callbacks = list(callbacks or [])
        self.num_workers = num_workers
        self.extra_state = dict(extra_state or {})
        """JSON-friendly facts kept in checkpoints (label centres, data summary)."""

        torch.manual_seed(seed)
        lr_scale = 1.0
        if init_model is not None:
            self.generator, info = load_generator(init_model)
            self.generator.train()
            width, num_classes = info.width, info.num_classes
            lr_scale = recipe.finetune_lr_scale
            if info.label_centers and "label_centers" not in self.extra_state:
                self.extra_state["label_centers"] = info.label_centers
            self.extra_state.setdefault("base_model", info.name)
        else:
            self.generator = build_generator(recipe.architecture, width, num_classes)
        if getattr(self.generator, "architecture", "") != recipe.architecture:
            raise TrainingError(
                f"recipe {recipe.name!r} needs a {recipe.architecture!r} generator, but the "
                f"base model is {self.generator.architecture!r}; pick a matching recipe"
            )
        self.width = width
        self.num_classes = num_classes
        self.discriminator = PatchDiscriminator(width, batch_norm=recipe.discriminator_batch_norm)
        self.generator.to(self.device)
        self.discriminator.to(self.device)

        betas = (recipe.beta1, recipe.beta2)
        self.generator_optimizer = torch.optim.Adam(
            self.generator.parameters(), lr=recipe.generator_lr * lr_scale, betas=betas
        )
        self.discriminator_optimizer = torch.optim.Adam(
            self.discriminator.parameters(), lr=recipe.discriminator_lr * lr_scale, betas=betas
        )
        # Under torchrun each process takes its share of the data at the full batch size.
        share = len(train_set) // (distributed.world_size if distributed else 1)
        self.steps_per_epoch = share // recipe.batch_size
        planned = recipe.epochs * self.steps_per_epoch
        self.total_steps = min(planned, max_steps) if max_steps else planned
        self.schedulers = [self._scheduler(opt) for opt in (self.generator_optimizer, self.discriminator_optimizer)]

        self.step = 0
        self.epoch = 0
        replicas = distributed.world_size if distributed else 1
        rank = distributed.rank if distributed else 0
        self.sampler = ResumableSampler(len(train_set), seed, num_replicas=replicas, rank=rank)
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.last_metrics: dict[str, float] = {}
        self._paused_seconds = 0.0
        self.use_amp = self.device.type == "cuda"
        if self.use_amp:
            self.generator.to(memory_format=torch.channels_last)
            self.discriminator.to(memory_format=torch.channels_last)
        # The networks that train_step runs: DDP wrappers under torchrun, else the modules.
        self._generator_step: nn.Module = self.generator
        self._discriminator_step: nn.Module = self.discriminator
        if distributed is not None:
            ids = [self.device.index] if self.device.type == "cuda" else None
            # The class head has no gradient in a batch without labels.
            unused = recipe.architecture == "unet-class"
            self._generator_step = DistributedDataParallel(
                self.generator, device_ids=ids, find_unused_parameters=unused
            )
            self._discriminator_step = DistributedDataParallel(self.discriminator, device_ids=ids)

    def _scheduler(self, optimizer: torch.optim.Optimizer):
        if self.recipe.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(
                optimizer, T_max=max(1, self.total_steps), eta_min=self.recipe.final_lr
            )
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda _: 1.0)

    # Control from other threads.
    def request_stop(self) -> None:
        self._stop.set()
        self._running.set()

    def pause(self) -> None:
        self._running.clear()

    def unpause(self) -> None:
        self._running.set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    # State.
    def state_dict(self) -> dict:
        state = {
            "version": CHECKPOINT_VERSION,
            "recipe": self.recipe.to_dict(),
            "architecture": self.recipe.architecture,
            "width": self.width,
            "num_classes": self.num_classes,
            "seed": self.seed,
            "step": self.step,
            "epoch": self.epoch,
            "sampler_start": self.sampler.start,
            "total_steps": self.total_steps,
            "generator": self.generator.state_dict(),
            "discriminator": self.discriminator.state_dict(),
            "generator_optimizer": self.generator_optimizer.state_dict(),
            "discriminator_optimizer": self.discriminator_optimizer.state_dict(),
            "schedulers": [s.state_dict() for s in self.schedulers],
            "torch_rng": torch.get_rng_state(),
            "extra": json.dumps(self.extra_state),
            "metrics": dict(self.last_metrics),
        }
        if self.device.type == "cuda":
            state["cuda_rng"] = torch.cuda.get_rng_state(self.device)
        return state

    def load_state_dict(self, state: dict) -> None:
        if state.get("architecture") != self.recipe.architecture or state.get("width") != self.width:
            raise TrainingError(
                f"the checkpoint contains a {state.get('architecture')} generator of width "
                f"{state.get('width')}, but this run builds {self.recipe.architecture} of width "
                f"{self.width}; use the same --recipe and --width to resume"
            )
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.generator_optimizer.load_state_dict(state["generator_optimizer"])
        self.discriminator_optimizer.load_state_dict(state["discriminator_optimizer"])
        for scheduler, scheduler_state in zip(self.schedulers, state["schedulers"]):
            scheduler.load_state_dict(scheduler_state)
        self.step = state["step"]
        self.epoch = state["epoch"]
        self.sampler.set_epoch(self.epoch, state["sampler_start"])
        torch.set_rng_state(state["torch_rng"])
        if "cuda_rng" in state and self.device.type == "cuda":
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.extra_state.update(json.loads(state.get("extra", "{}")))
        self.last_metrics = dict(state.get("metrics", {}))
        log.info("resumed at step %d (epoch %d)", self.step, self.epoch)

    def save(self) -> Path | None:
        """Write a checkpoint (the main process only, under torchrun) and return its path."""
        if not self.is_main:
            return None
        path = save_checkpoint(
            self.state_dict(), self.out_dir / "checkpoints", self.step, self.keep_checkpoints
        )
        self._emit("on_checkpoint", path)
        return path

    # Training.
    def _emit(self, hook: str, *args) -> None:
        if not self.is_main:
            return
        for callback in self.callbacks:
            getattr(callback, hook)(self, *args)

    def _flip(self, rgb: torch.Tensor) -> torch.Tensor:
        # Flips come from a generator seeded by the step, so a resumed run flips alike.
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.step)
        flip = torch.rand(rgb.shape[0], generator=generator) < self.recipe.flip_probability
        rgb = rgb.clone()
        rgb[flip] = rgb[flip].flip(-1)
        return rgb

    def _generate(self, lightness: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        output = self._generator_step(lightness) if self.generator.training else self.generator(lightness)
        return output if isinstance(output, tuple) else (output, None)

    def train_step(self, rgb: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """Run one generator update (and its discriminator updates); return the losses."""
        recipe = self.recipe
        rgb = self._flip(rgb).to(self.device, non_blocking=True)
        labels = labels.to(self.device)
        lightness, real_ab = split_lab(rgb)
        if self.use_amp:
            lightness = lightness.contiguous(memory_format=torch.channels_last)
            real_ab = real_ab.contiguous(memory_format=torch.channels_last)
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.use_amp)
        losses: dict[str, float] = {}

        with autocast:
            fake_ab, logits = self._generate(lightness)

        # Discriminator (critic) updates on the same batch, against the same fake.
        for _ in range(recipe.critic_steps):
            with autocast:
                real_scores = self._discriminator_step(lightness, real_ab)
                fake_scores = self._discriminator_step(lightness, fake_ab.detach())
                if recipe.adversarial == "bce":
                    d_loss = recipe.discriminator_loss_weight * (
                        bce_to_target(real_scores, recipe.real_label)
                        + bce_to_target(fake_scores, recipe.fake_label)
                    )
                else:
                    wasserstein = fake_scores.mean() - real_scores.mean()
                    penalty = gradient_penalty(self._discriminator_step, lightness, real_ab, fake_ab)
                    d_loss = wasserstein + recipe.gradient_penalty_weight * penalty
                    losses["gradient_penalty"] = penalty.item()
                    losses["wasserstein"] = -wasserstein.item()
            self.discriminator_optimizer.zero_grad(set_to_none=True)
            d_loss.backward()
            self.discriminator_optimizer.step()
        losses["discriminator"] = d_loss.item()

        # Generator update.
        with autocast:
            fake_scores = self._discriminator_step(lightness, fake_ab)
            if recipe.adversarial == "bce":
                adversarial = bce_to_target(fake_scores, 1.0)
            else:
                adversarial = -fake_scores.mean()
            reconstruction = reconstruction_loss(recipe.reconstruction, fake_ab.float(), real_ab.float())
            g_loss = recipe.adversarial_weight * adversarial + recipe.reconstruction_weight * reconstruction
            if recipe.classification_weight > 0 and logits is not None:
                known = labels >= 0
                if known.any():
                    classification = F.cross_entropy(logits[known].float(), labels[known])
                    g_loss = g_loss + recipe.classification_weight * classification
                    losses["classification"] = classification.item()
        self.generator_optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self.generator_optimizer.step()
        for scheduler in self.schedulers:
            scheduler.step()

        losses["adversarial"] = adversarial.item()
        losses["reconstruction"] = reconstruction.item()
        losses["generator"] = g_loss.item()
        bad = [name for name, value in losses.items() if not math.isfinite(value)]
        if bad:
            raise TrainingError(
                f"loss {', '.join(bad)} became NaN or infinite at step {self.step + 1}; the run "
                "stopped and the last good checkpoint is kept; resume from it with a lower "
                "learning rate"
            )
        return losses

    def _checked_step(self, rgb: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        try:
            return self.train_step(rgb, labels)
        except torch.OutOfMemoryError:
            smaller = max(2, self.recipe.batch_size // 2)
            raise TrainingError(
                f"out of memory on {self.device} at batch size {self.recipe.batch_size}; "
                f"resume from the last checkpoint with --batch-size {smaller}"
                + (" or a smaller --width" if smaller == self.recipe.batch_size else "")
            ) from None

    @torch.no_grad()
    def validate(self, max_previews: int = 4) -> dict[str, float]:
        """Return ab L1 (Lab units) and RGB PSNR of the generator and of a grayscale baseline.

        The figures are also kept in ``last_metrics``, appended to ``metrics.jsonl`` and
        sent to ``on_validation_end`` with up to ``max_previews`` previews.
        """
        if self.val_set is None or len(self.val_set) == 0 or not self.is_main:
            return {}
        metrics, previews = self.evaluate(max_previews)
        self.last_metrics = metrics
        with open(self.out_dir / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"step": self.step, **metrics}) + "\n")
        self._emit("on_validation_end", ValidationEvent(self.step, metrics, previews))
        return metrics

    @torch.no_grad()
    def evaluate(self, max_previews: int = 4) -> tuple[dict[str, float], list]:
        """Compute the validation figures and previews of the current generator, in eval mode.

        Unlike :meth:`validate`, this records nothing and calls no callback. It returns
        ``({}, [])`` without a validation set. Previews are as in ``ValidationEvent``.
        """
        if self.val_set is None or len(self.val_set) == 0:
            return {}, []
        was_training = self.generator.training
        self.generator.eval()
        loader = DataLoader(self.val_set, batch_size=self.recipe.batch_size, shuffle=False)
        totals = {"val_l1_ab": 0.0, "val_psnr": 0.0, "baseline_psnr": 0.0}
        count = 0
        previews = []
        for rgb, _ in loader:
            rgb = rgb.to(self.device)
            lightness, real_ab = split_lab(rgb)
            fake_ab, _ = self._generate(lightness)
            fake_ab = fake_ab.float()
            truth = rgb.float() / 255.0
            l_units = (lightness + 1.0) * 50.0
            # Out-of-gamut colours are brought in as the app renders them, so these
            # figures match those of ``colorapp-engine evaluate``.
            predicted = lab_to_rgb_keep_lightness(torch.cat((l_units, fake_ab * 110.0), dim=1))
            gray = lab_to_rgb(torch.cat((l_units, torch.zeros_like(fake_ab)), dim=1))
            totals["val_l1_ab"] += float((fake_ab - real_ab).abs().mean(dim=(1, 2, 3)).sum()) * 110.0
            totals["val_psnr"] += float(psnr(predicted, truth).sum())
            totals["baseline_psnr"] += float(psnr(gray, truth).sum())
            count += rgb.shape[0]
            for index in range(min(rgb.shape[0], max_previews - len(previews))):
                previews.append(
                    [
                        (image[index].permute(1, 2, 0).clamp(0, 1) * 255).round().byte().cpu().numpy()
                        for image in (gray, predicted, truth)
                    ]
                )
        self.generator.train(was_training)
        return {name: value / count for name, value in totals.items()}, previews

    def _after_step(self, losses: dict[str, float], started: float, started_step: int) -> None:
        # Time spent paused is left out, so the rate and the ETA describe training.
        elapsed = time.monotonic() - started - self._paused_seconds
        rate = (self.step - started_step) * self.recipe.batch_size / max(elapsed, 1e-6)
        eta = (self.total_steps - self.step) * self.recipe.batch_size / max(rate, 1e-6)
        lr = self.generator_optimizer.param_groups[0]["lr"]
        self._emit("on_step_end", StepEvent(self.step, self.total_steps, self.epoch, losses, lr, rate, eta))
        if self.validate_every and self.step % self.validate_every == 0:
            self.validate()
        if self.checkpoint_every and self.step % self.checkpoint_every == 0:
            self.save()

    def _wait_if_paused(self) -> None:
        if self._running.is_set():
            return
        self._emit("on_pause")
        began = time.monotonic()
        while not self._running.wait(timeout=0.2):
            pass
        self._paused_seconds += time.monotonic() - began
        self._emit("on_unpause")

    def fit(self, resume: str | Path | None = None) -> str:
        """Train until the planned steps are done or :meth:`request_stop`; return the reason.

        ``resume`` is a checkpoint file or a run folder (its ``checkpoints/last.pt``).
        """
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if resume is not None:
            resume = Path(resume)
            if resume.is_dir() and (resume / "checkpoints").is_dir():
                resume = resume / "checkpoints"
            self.load_state_dict(load_checkpoint(resume))
        self.generator.train()
        self.discriminator.train()
        self._emit("on_train_start")
        started, started_step = time.monotonic(), self.step
        self._paused_seconds = 0.0
        try:
            while self.step < self.total_steps and not self._stop.is_set():
                loader = DataLoader(
                    self.train_set,
                    batch_size=self.recipe.batch_size,
                    sampler=self.sampler,
                    drop_last=True,
                    num_workers=self.num_workers,
                    # Its own generator keeps the loader from drawing on the global RNG,
                    # which contains the dropout state that a resumed run must reproduce.
                    generator=torch.Generator().manual_seed(self.seed + self.epoch),
                )
                for rgb, labels in loader:
                    self._wait_if_paused()
                    if self._stop.is_set():
                        break
                    losses = self._checked_step(rgb, labels)
                    self.step += 1
                    self.sampler.start += self.recipe.batch_size
                    self._after_step(losses, started, started_step)
                    if self.step >= self.total_steps:
                        break
                else:
                    self._emit("on_epoch_end", self.epoch)
                    self.epoch += 1
                    self.sampler.set_epoch(self.epoch, 0)
            reason = "stopped" if self._stop.is_set() else "finished"
            if self.validate_every and self.step % self.validate_every:
                self.validate()
            # Always save: a stop or an epoch change may follow the last periodic save.
            self.save()
        except BaseException as error:
            self._emit("on_error", error)
            raise
        self._emit("on_train_end", reason)
        log.info("training %s at step %d", reason, self.step)
        return reason

