"""FineTuneSession: dataset check, fine-tuning the shipped model, export, stop and resume."""

from __future__ import annotations

import json
import threading

import pytest
import torch

from engine.catalog import ModelCatalog
from engine.data.datasets import build_datasets
from engine.errors import CancelledError, TrainingError
from engine.modelfile import load_generator, read_model_info
from engine.training.callbacks import StepEvent, ValidationEvent
from engine.training.session import (
    EXPORTED,
    INTERRUPTED,
    SESSION_FILE,
    BasePreviewEvent,
    FineTuneSession,
    FineTuneSettings,
    PauseEvent,
    StartEvent,
    check_dataset,
    default_learning_rate,
    model_file_stem,
    read_run_record,
    recipes_for,
)
from tests.helpers import make_training_folder

SHIPPED_MODEL = ModelCatalog().find("pix2pix").path


@pytest.fixture
def photo_folder(tmp_path):
    return make_training_folder(tmp_path / "family photos")


def _settings(folder, **overrides) -> FineTuneSettings:
    values = dict(
        data_dir=folder,
        model_name="Family rooms",
        recipe="pix2pix",
        base_model=SHIPPED_MODEL,
        batch_size=2,
        device="cpu",
        max_steps=3,
        validate_every=2,
    )
    values.update(overrides)
    return FineTuneSettings(**values)


class EventLog:
    """Collects session events; ``stop_at`` stops the session at that step."""

    def __init__(self, stop_at: int | None = None, export_on_stop: bool = False) -> None:
        self.events = []
        self.session = None
        self.stop_at = stop_at
        self.export_on_stop = export_on_stop

    def __call__(self, event) -> None:
        self.events.append(event)
        if isinstance(event, StepEvent) and event.step == self.stop_at:
            self.session.stop(export_model=self.export_on_stop)

    def of(self, kind) -> list:
        return [event for event in self.events if isinstance(event, kind)]


def _session(folder, tmp_path, log: EventLog, **overrides) -> FineTuneSession:
    session = FineTuneSession.create(
        _settings(folder, **overrides), tmp_path / "runs", tmp_path / "user-models", on_event=log
    )
    log.session = session
    return session


# Dataset check


def test_check_counts_usable_and_skipped(photo_folder):
    report = check_dataset(photo_folder)

    assert len(report.usable) == 8
    assert report.validation_count == 1
    assert report.training_count == 7
    assert report.skipped_by_reason() == {"broken": 1, "grayscale": 1, "sepia": 1, "too small": 1}
    reasons = {result.path.name: result.reason for result in report.skipped}
    assert reasons == {
        "broken.jpg": "broken",
        "grayscale.jpg": "grayscale",
        "sepia.jpg": "sepia",
        "tiny.jpg": "too small",
    }
    assert all(result.detail for result in report.skipped)


def test_check_warns_below_two_batches(photo_folder):
    report = check_dataset(photo_folder)

    assert report.warning(2) == ""
    assert report.can_train(2)
    # Seven training photos make one batch of 4 but not two.
    assert "add photos until there are 9 usable ones" in report.warning(4)
    assert report.can_train(4)
    assert "cannot start" in report.warning(8)
    assert not report.can_train(8)


@pytest.mark.parametrize("batch_size, needed", [(2, 5), (4, 9), (8, 17), (16, 34)])
def test_minimum_photos_leave_two_batches(photo_folder, batch_size, needed):
    report = check_dataset(photo_folder)

    assert report.minimum_photos(batch_size) == needed


def test_check_matches_build_datasets_split(photo_folder):
    report = check_dataset(photo_folder)
    settings = _settings(photo_folder)

    data = build_datasets(photo_folder, None, settings.build_recipe(), None, None, settings.seed)

    assert len(data.train) == report.training_count
    assert len(data.val) == report.validation_count


def test_check_reports_progress_and_cancels(photo_folder):
    seen = []
    check_dataset(photo_folder, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (12, 12)
    assert [done for done, _ in seen] == list(range(1, 13))

    with pytest.raises(CancelledError):
        check_dataset(photo_folder, cancelled=lambda: True)


def test_check_missing_folder_raises(tmp_path):
    with pytest.raises(TrainingError, match="folder not found"):
        check_dataset(tmp_path / "nowhere")


# Settings


def test_fine_tuning_learning_rate_defaults():
    assert default_learning_rate("pix2pix", fine_tuning=False) == pytest.approx(2e-4)
    assert default_learning_rate("pix2pix", fine_tuning=True) == pytest.approx(2e-5)
    assert default_learning_rate("wgan-gp-class", fine_tuning=True) == pytest.approx(1e-6)


def test_settings_build_recipe_scales_schedule(tmp_path):
    recipe = _settings(tmp_path, epochs=5, batch_size=4).build_recipe()

    assert recipe.generator_lr == pytest.approx(2e-5)
    assert recipe.discriminator_lr == pytest.approx(2e-5)
    assert recipe.final_lr == pytest.approx(2e-7)
    assert recipe.finetune_lr_scale == 1.0
    assert recipe.epochs == 5
    assert recipe.batch_size == 4


def test_settings_reject_empty_name(tmp_path):
    with pytest.raises(ValueError, match="model name is empty"):
        _settings(tmp_path, model_name="  ")


def test_settings_round_trip(tmp_path):
    settings = _settings(tmp_path, learning_rate=3e-5, epochs=4)

    assert FineTuneSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings


def test_recipes_for_architecture():
    assert recipes_for("unet") == ["pix2pix"]
    assert recipes_for("unet-class") == ["pix2pix-class", "wgan-gp-class"]


def test_model_file_stem():
    assert model_file_stem("Grandma's kitchen 1962") == "Grandma_s_kitchen_1962"
    assert model_file_stem("///") == "model"


# Training runs


def test_fine_tune_exports_model(photo_folder, tmp_path):
    log = EventLog()
    session = _session(photo_folder, tmp_path, log)

    result = session.run()

    assert result.reason == "finished"
    assert result.step == 3
    assert [event.step for event in log.of(StepEvent)] == [1, 2, 3]
    assert [event.step for event in log.of(ValidationEvent)] == [2, 3]
    base = log.of(BasePreviewEvent)
    assert len(base) == 1
    assert log.events.index(base[0]) < log.events.index(log.of(StartEvent)[0])
    assert len(base[0].previews) == 1
    gray, predicted, truth = base[0].previews[0]
    assert gray.shape == predicted.shape == truth.shape == (256, 256, 3)
    start = log.of(StartEvent)[0]
    assert (start.step, start.total_steps, start.training_photos, start.validation_photos) == (0, 3, 7, 1)

    user_models = tmp_path / "user-models"
    assert result.model_path == user_models / "Family_rooms.safetensors"
    info = read_model_info(result.model_path)
    assert info.name == "Family rooms"
    assert (info.architecture, info.width, info.recipe) == ("unet", 16, "pix2pix")
    assert info.metrics == pytest.approx(log.of(ValidationEvent)[-1].metrics)
    assert info.training_data["base_model"] == read_model_info(SHIPPED_MODEL).name
    assert info.training_data["photos"] == 7
    assert info.training_data["skipped"] == 4
    assert info.training_data["steps"] == 3
    assert info.hyperparameters["generator_lr"] == pytest.approx(2e-5)

    card = result.card_path.read_text(encoding="utf-8")
    assert card.startswith("# Family rooms")
    assert "Before fine-tuning" in card
    assert "## Validation" in card
    assert [entry.key for entry in ModelCatalog(user_models).entries() if not entry.shipped] == [
        "user:Family_rooms"
    ]

    tuned, _ = load_generator(result.model_path)
    original, _ = load_generator(SHIPPED_MODEL)
    changed = [
        name for name, tensor in tuned.state_dict().items()
        if tensor.is_floating_point() and not torch.equal(tensor, original.state_dict()[name])
    ]
    assert changed
    record = read_run_record(session.run_dir)
    assert record.status == EXPORTED
    assert not record.resumable


def test_stop_then_resume_continues(photo_folder, tmp_path):
    first_log = EventLog(stop_at=2)
    first = _session(photo_folder, tmp_path, first_log, max_steps=4)

    interrupted = first.run()

    assert interrupted.reason == "interrupted"
    assert interrupted.model_path is None
    record = read_run_record(first.run_dir)
    assert record.status == INTERRUPTED
    assert record.step == 2
    assert record.resumable
    assert not (tmp_path / "user-models").exists() or not list((tmp_path / "user-models").iterdir())

    second_log = EventLog()
    second = FineTuneSession.open(first.run_dir, tmp_path / "user-models", on_event=second_log)
    second_log.session = second
    result = second.run(resume=True)

    assert second_log.of(StartEvent)[0].step == 2
    assert [event.step for event in second_log.of(StepEvent)] == [3, 4]
    assert result.reason == "finished"
    assert result.step == 4
    assert read_model_info(result.model_path).training_data["steps"] == 4
    assert read_run_record(first.run_dir).status == EXPORTED


def test_stop_with_export_saves_model(photo_folder, tmp_path):
    log = EventLog(stop_at=1, export_on_stop=True)
    session = _session(photo_folder, tmp_path, log, max_steps=50)

    result = session.run()

    assert result.reason == "stopped"
    assert result.step == 1
    assert result.model_path.is_file()
    assert read_model_info(result.model_path).training_data["steps"] == 1


class PauseOnce(EventLog):
    """Pauses after step 1 and unpauses from a timer thread half a second after the pause began."""

    steps_while_paused: int | None = None

    def __call__(self, event) -> None:
        super().__call__(event)
        if isinstance(event, StepEvent) and event.step == 1:
            self.session.pause()
        if isinstance(event, PauseEvent) and event.paused:
            threading.Timer(0.5, self.check_and_unpause, args=(event.step,)).start()

    def check_and_unpause(self, paused_at: int) -> None:
        self.steps_while_paused = max(event.step for event in self.of(StepEvent)) - paused_at
        self.session.unpause()


def test_pause_sends_events_and_holds_steps(photo_folder, tmp_path):
    log = PauseOnce()
    session = _session(photo_folder, tmp_path, log, max_steps=3)

    result = session.run()

    assert result.reason == "finished"
    assert [(event.paused, event.step) for event in log.of(PauseEvent)] == [(True, 1), (False, 1)]
    assert log.steps_while_paused == 0
    assert [event.step for event in log.of(StepEvent)] == [1, 2, 3]


def test_recipe_mismatch_rejected(photo_folder, tmp_path):
    session = _session(photo_folder, tmp_path, EventLog(), recipe="pix2pix-class")

    with pytest.raises(TrainingError, match="choose one of \\['pix2pix'\\]"):
        session.run()


def test_stop_before_training_cancels(photo_folder, tmp_path):
    session = _session(photo_folder, tmp_path, EventLog())
    session.stop()

    with pytest.raises(CancelledError):
        session.run()
    assert read_run_record(session.run_dir).status == "cancelled"


def test_resume_without_checkpoint_raises(photo_folder, tmp_path):
    session = _session(photo_folder, tmp_path, EventLog())

    with pytest.raises(TrainingError, match="no checkpoint"):
        session.run(resume=True)


def test_run_record_missing_raises(tmp_path):
    with pytest.raises(TrainingError, match=SESSION_FILE):
        read_run_record(tmp_path)


def test_new_run_reuses_dataset_check(photo_folder, tmp_path, monkeypatch):
    import engine.data.photo_folder as photo_folder_module

    report = check_dataset(photo_folder)
    session = FineTuneSession.create(
        _settings(photo_folder), tmp_path / "runs", tmp_path / "user-models", report=report
    )
    screened = []
    original = photo_folder_module.screen_photo

    def counting_screen(path):
        screened.append(path)
        return original(path)

    monkeypatch.setattr(photo_folder_module, "screen_photo", counting_screen)

    result = session.run()

    assert result.reason == "finished"
    assert screened == []
