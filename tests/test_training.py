import math

import pytest
import torch
from torch import nn

from engine.data.photo_folder import PhotoFolderDataset
from engine.errors import TrainingError
from engine.training.callbacks import Callback
from engine.training.checkpoint import load_checkpoint
from engine.training.losses import gradient_penalty
from engine.training.recipes import RECIPES, get_recipe
from engine.training.trainer import Trainer
from tests.helpers import real_photos


class Recorder(Callback):
    def __init__(self, stop_at=None):
        self.events = []
        self.losses = []
        self.stop_at = stop_at

    def on_train_start(self, trainer):
        self.events.append("start")

    def on_step_end(self, trainer, event):
        self.events.append(f"step {event.step}")
        self.losses.append(event.losses)
        if self.stop_at == event.step:
            trainer.request_stop()

    def on_validation_end(self, trainer, event):
        self.events.append(f"validation {event.step}")

    def on_checkpoint(self, trainer, path):
        self.events.append(f"checkpoint {trainer.step}")

    def on_train_end(self, trainer, reason):
        self.events.append(f"end {reason}")


def _dataset(size=64, labels=None):
    photos = real_photos()
    return PhotoFolderDataset(photos, labels, size=256)


def _trainer(recipe_name, out_dir, callbacks, max_steps=3, **kwargs):
    recipe = get_recipe(recipe_name, batch_size=2)
    labels = [i % 2 for i in range(len(real_photos()))] if recipe.architecture == "unet-class" else None
    return Trainer(
        recipe,
        _dataset(labels=labels),
        out_dir,
        width=8,
        num_classes=2 if labels else None,
        val_set=_dataset(labels=labels),
        max_steps=max_steps,
        checkpoint_every=2,
        validate_every=2,
        callbacks=callbacks,
        device="cpu",
        **kwargs,
    )


@pytest.mark.parametrize("recipe_name", sorted(RECIPES))
def test_recipe_runs_three_real_steps(recipe_name, tmp_path, caplog):
    recorder = Recorder()
    trainer = _trainer(recipe_name, tmp_path, [recorder])
    assert trainer.fit() == "finished"
    assert len(recorder.losses) == 3
    for losses in recorder.losses:
        assert all(math.isfinite(value) for value in losses.values())
    if RECIPES[recipe_name].classification_weight:
        assert "classification" in recorder.losses[-1]
    if RECIPES[recipe_name].adversarial == "wgan-gp":
        assert "gradient_penalty" in recorder.losses[-1]
    assert (tmp_path / "checkpoints" / "last.pt").exists()
    assert "val_psnr" in trainer.last_metrics


def test_hook_order(tmp_path):
    recorder = Recorder()
    _trainer("pix2pix", tmp_path, [recorder]).fit()
    assert recorder.events == [
        "start",
        "step 1",
        "step 2",
        "validation 2",
        "checkpoint 2",
        "step 3",
        "validation 3",
        "checkpoint 3",
        "end finished",
    ]


def test_resume_gives_same_losses(tmp_path):
    torch.use_deterministic_algorithms(True)
    try:
        straight = Recorder()
        _trainer("pix2pix", tmp_path / "straight", [straight], max_steps=5).fit()

        first = Recorder(stop_at=2)
        assert _trainer("pix2pix", tmp_path / "split", [first], max_steps=5).fit() == "stopped"
        second = Recorder()
        _trainer("pix2pix", tmp_path / "split", [second], max_steps=5).fit(resume=tmp_path / "split")
    finally:
        torch.use_deterministic_algorithms(False)
    assert [e for e in second.events if e.startswith("step")] == ["step 3", "step 4", "step 5"]
    assert first.losses + second.losses == straight.losses


def test_resume_restores_step_and_epoch(tmp_path):
    _trainer("pix2pix", tmp_path, [Recorder(stop_at=3)], max_steps=6).fit()
    state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["step"] == 3
    # Four photos at batch 2 make two steps per epoch.
    assert state["epoch"] == 1
    assert state["sampler_start"] == 2


def test_checkpoint_holds_recipe(tmp_path):
    _trainer("wgan-gp-class", tmp_path, [], max_steps=2).fit()
    state = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert state["recipe"]["critic_steps"] == 5
    assert state["recipe"]["gradient_penalty_weight"] == 10.0
    assert state["recipe"]["batch_size"] == 2


def test_nan_loss_stops_with_clear_error(tmp_path):
    trainer = _trainer("pix2pix", tmp_path, [], max_steps=4)
    trainer.fit()
    with torch.no_grad():
        for parameter in trainer.generator.parameters():
            parameter.fill_(float("nan"))
    trainer.total_steps = 6
    with pytest.raises(TrainingError, match="NaN or infinite"):
        trainer.fit()
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["step"] == 4


def test_too_few_photos_raise(tmp_path):
    recipe = get_recipe("pix2pix", batch_size=8)
    with pytest.raises(TrainingError, match="fewer than one batch"):
        Trainer(recipe, _dataset(), tmp_path, width=8)


class _LinearCritic(nn.Module):
    """Critic whose score is sum(w * ab), so its gradient is w everywhere."""

    def __init__(self, weight):
        super().__init__()
        self.weight = nn.Parameter(weight)

    def forward(self, lightness, ab):
        return (self.weight * ab).flatten(1).sum(dim=1)


def test_gradient_penalty_matches_hand_computation():
    weight = torch.zeros(1, 2, 2, 2)
    weight[0, 0, 0, 0] = 3.0
    weight[0, 1, 1, 1] = 4.0
    critic = _LinearCritic(weight)
    lightness = torch.zeros(2, 1, 2, 2)
    real = torch.rand(2, 2, 2, 2)
    fake = torch.rand(2, 2, 2, 2)
    # The gradient w.r.t. ab is the weight, whose norm is 5, so the penalty is (5 - 1)^2.
    assert gradient_penalty(critic, lightness, real, fake).item() == pytest.approx(16.0)


def test_gradient_penalty_zero_for_unit_gradient():
    weight = torch.zeros(1, 2, 2, 2)
    weight[0, 0, 0, 0] = 0.6
    weight[0, 1, 0, 0] = 0.8
    critic = _LinearCritic(weight)
    penalty = gradient_penalty(critic, torch.zeros(3, 1, 2, 2), torch.rand(3, 2, 2, 2), torch.rand(3, 2, 2, 2))
    assert penalty.item() == pytest.approx(0.0, abs=1e-10)


def test_recipe_defaults_match_paper():
    pix2pix = RECIPES["pix2pix"]
    assert (pix2pix.reconstruction_weight, pix2pix.real_label, pix2pix.generator_lr) == (100.0, 0.9, 2e-4)
    assert (pix2pix.beta1, pix2pix.beta2, pix2pix.final_lr, pix2pix.epochs, pix2pix.batch_size) == (
        0.5, 0.999, 2e-6, 30, 8,
    )
    assert RECIPES["pix2pix-class"].classification_weight == 0.003
    wgan = RECIPES["wgan-gp-class"]
    assert (wgan.critic_steps, wgan.gradient_penalty_weight, wgan.adversarial_weight) == (5, 10.0, 0.1)
    assert (wgan.reconstruction, wgan.reconstruction_weight, wgan.generator_lr, wgan.schedule) == (
        "l2", 1.0, 1e-5, "constant",
    )
    assert not wgan.discriminator_batch_norm


def test_recipe_override_rejects_unknown_field():
    with pytest.raises(ValueError, match="unknown recipe fields"):
        get_recipe("pix2pix", learning_rate=1.0)


def test_recipe_rejects_batch_of_one():
    with pytest.raises(ValueError, match="batch_size must be at least 2"):
        get_recipe("pix2pix", batch_size=1)


def test_out_of_memory_names_smaller_batch(tmp_path, monkeypatch):
    trainer = _trainer("pix2pix", tmp_path, [], max_steps=2)

    def exhaust(rgb, labels):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(trainer, "train_step", exhaust)
    with pytest.raises(TrainingError, match="batch size 2; resume .* --batch-size 2 or a smaller --width"):
        trainer.fit()


def test_cached_dataset_matches_source(tmp_path):
    from engine.data.cache import CachedDataset

    source = _dataset(labels=[0, 1, 0, 1])
    cached = CachedDataset(source, tmp_path / "cache")
    assert len(cached) == len(source)
    for index in range(len(source)):
        image, label = cached[index]
        expected, expected_label = source[index]
        assert torch.equal(image, expected)
        assert label == expected_label
    again = CachedDataset(source, tmp_path / "cache")
    assert again.array_path == cached.array_path
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 1


def test_pause_resume_and_stop_from_another_thread(tmp_path):
    import threading

    class Controller(Callback):
        def __init__(self):
            self.paused_at = None
            self.steps_while_paused = 0

        def on_step_end(self, trainer, event):
            if event.step == 1:
                trainer.pause()
                self.paused_at = event.step
                threading.Timer(0.5, self.check_and_resume, args=(trainer, event.step)).start()
            if event.step == 3:
                threading.Thread(target=trainer.request_stop).start()

        def check_and_resume(self, trainer, step):
            self.steps_while_paused = trainer.step - step
            trainer.unpause()

    controller = Controller()
    trainer = _trainer("pix2pix", tmp_path, [controller], max_steps=50)
    assert trainer.fit() == "stopped"
    assert controller.paused_at == 1
    assert controller.steps_while_paused == 0
    assert trainer.step in (3, 4)
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["step"] == trainer.step


def test_validation_figures_match_evaluate(tmp_path):
    from engine.evaluation import BASELINE, evaluate
    from engine.training.export import export_checkpoint

    trainer = _trainer("pix2pix", tmp_path / "run", [], max_steps=2)
    assert trainer.fit() == "finished"
    metrics, _ = trainer.evaluate()
    model, _ = export_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt", tmp_path / "model.safetensors", "m")

    # Screening off: the validation set here is the test photos as they are.
    result = evaluate({"model": model}, real_photos(), device="cpu", keep_monochrome=True)

    assert metrics["baseline_psnr"] == pytest.approx(result.figures[BASELINE]["rgb_psnr"], abs=1e-3)
    # The exported file stores fp16 weights, so the model's figure may move slightly.
    assert metrics["val_psnr"] == pytest.approx(result.figures["model"]["rgb_psnr"], abs=0.01)
