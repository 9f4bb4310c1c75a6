"""The Train tab: fine-tune a model on a folder of the user's own colour photos.

The tab checks the folder, collects the run's choices, and mirrors a running
``FineTuneSession`` (through ``TrainingRunner``) in a progress line, loss charts and
preview photos. A run that did not end with an exported model stays recorded in the
settings, so that the next start of the app offers to resume it. The tab reports
through signals and leaves the status bar and message boxes to the main window,
except for its own questions.
"""

from __future__ import annotations

import enum
import html
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from colorapp import settings as setting_keys
from colorapp.settings import Settings
from colorapp.training_runner import TrainingRunner
from colorapp.training_runs import unfinished_run
from colorapp.widgets.panel_scroll import scrolling_panel
from colorapp.widgets.train_panel import SCRATCH_KEY, TrainPanel
from colorapp.widgets.training_monitor import TrainingMonitor
from engine import paths
from engine.catalog import ModelCatalog, ModelEntry
from engine.devices import available_devices
from engine.errors import ColorAppError
from engine.training.recipes import RECIPES, get_recipe
from engine.training.session import (
    DatasetReport,
    FineTuneSettings,
    RunRecord,
    SessionResult,
    default_learning_rate,
    recipes_for,
)

logger = logging.getLogger(__name__)

_PANEL_WIDTH = 360


class ResumeChoice(enum.Enum):
    RESUME = "resume"
    EXPORT = "export"
    LATER = "later"


class RunState(enum.Enum):
    IDLE = "idle"
    TRAINING = "training"
    STOPPING = "stopping"
    """Stop was requested; the run ends after the current step."""


class TrainTab(QWidget):
    """Settings panel on the left; progress, loss charts and previews on the right.

    ``choose_folder``, ``ask_resume`` and ``confirm_stop_for_close`` are the only
    places that open dialogs, so tests can replace them. Call ``shutdown`` before
    the tab is destroyed.
    """

    status_message = Signal(str)
    error_occurred = Signal(str, str)
    """Title and message of an error the window should show in a message box."""
    check_finished = Signal(object)
    """The DatasetReport, after the panel shows it."""
    training_started = Signal(object)
    """The StartEvent of a run, after the progress bar shows it."""
    run_ended = Signal(object)
    """The SessionResult of a run that ended, or None after an error or a cancel."""
    model_exported = Signal(object)
    """The Path of a model file that a run or "Save Model as Is" wrote."""

    def __init__(self, catalog: ModelCatalog, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._catalog = catalog
        self._settings = settings
        self.runner = TrainingRunner(self)
        self.state = RunState.IDLE
        self.report: DatasetReport | None = None
        """The last dataset check, of the folder in the panel, or None."""
        self._entries: list[ModelEntry] = []
        self._start_after_check = False
        self._name_edited = False
        self._pending: RunRecord | None = None
        self._folder_seen: Path | None = None
        self._close_requested = False

        self._create_widgets()
        self._restore_settings()
        self._connect()
        self._update_controls()

    # Layout

    def _create_widgets(self) -> None:
        self.banner = QFrame(self)
        self.banner.setObjectName("resume_banner")
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner_label = QLabel(self.banner)
        self.banner_label.setWordWrap(True)
        self.resume_run_button = QPushButton("Resume Training", self.banner)
        self.resume_run_button.setToolTip("Continue the unfinished run from its last checkpoint")
        self.export_run_button = QPushButton("Save Model as Is", self.banner)
        self.export_run_button.setToolTip("Save the model of the last checkpoint and forget the run")
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(self.resume_run_button)
        banner_layout.addWidget(self.export_run_button)
        self.banner.hide()

        self.panel = TrainPanel(self)
        panel_scroll = scrolling_panel(self.panel, self, _PANEL_WIDTH)

        self.monitor = TrainingMonitor(self)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("train_splitter")
        self.splitter.addWidget(panel_scroll)
        self.splitter.addWidget(self.monitor)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([_PANEL_WIDTH, 900])

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.splitter, 1)

    def _connect(self) -> None:
        panel = self.panel
        panel.browse_button.clicked.connect(self.choose_folder_with_dialog)
        panel.folder_edit.editingFinished.connect(self._on_folder_edited)
        panel.check_button.clicked.connect(self._on_check_clicked)
        panel.start_button.clicked.connect(self.start_training)
        panel.pause_button.toggled.connect(self._on_pause_toggled)
        panel.stop_button.clicked.connect(self.stop_training)
        panel.base_combo.currentIndexChanged.connect(self._on_base_changed)
        panel.recipe_combo.currentIndexChanged.connect(self._on_recipe_changed)
        panel.batch_spin.valueChanged.connect(self._show_report_warning)
        panel.name_edit.textEdited.connect(self._on_name_edited)
        panel.name_edit.textChanged.connect(self._update_controls)
        panel.width_combo.currentIndexChanged.connect(self._save_choices)
        panel.device_combo.currentIndexChanged.connect(self._save_choices)
        panel.validate_spin.valueChanged.connect(self._save_choices)
        self.resume_run_button.clicked.connect(self._resume_pending)
        self.export_run_button.clicked.connect(self._export_pending)

        runner = self.runner
        runner.check_progress.connect(self._on_check_progress)
        runner.check_finished.connect(self._on_check_finished)
        runner.check_failed.connect(self._on_check_failed)
        runner.check_cancelled.connect(self._on_check_cancelled)
        runner.stage_changed.connect(self._show_status)
        runner.base_previews_ready.connect(self.monitor.show_base_previews)
        runner.training_started.connect(self._on_training_started)
        runner.step_finished.connect(self.monitor.show_step)
        runner.validated.connect(self.monitor.show_validation)
        runner.pause_changed.connect(self._on_pause_changed)
        runner.checkpoint_saved.connect(self.monitor.show_checkpoint)
        runner.run_finished.connect(self._on_run_finished)
        runner.run_failed.connect(self._on_run_failed)
        runner.run_cancelled.connect(self._on_run_cancelled)
        runner.exported.connect(self._on_pending_exported)
        runner.export_failed.connect(self._on_pending_export_failed)

    # Public state

    def is_training(self) -> bool:
        return self.runner.is_training()

    def folder(self) -> Path | None:
        text = self.panel.folder_edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_folder(self, folder: Path) -> None:
        """Show ``folder`` as the photo folder; a previous check no longer applies."""
        self.panel.folder_edit.setText(str(folder))
        self._on_folder_edited()

    def base_entry(self) -> ModelEntry | None:
        """Return the chosen base model, or None when training from scratch."""
        key = self.panel.base_key()
        return next((entry for entry in self._entries if entry.key == key), None)

    def reload_models(self) -> None:
        """List the catalogue's models as base models, keeping the current choice."""
        shown = self.panel.base_combo.currentData()
        current = shown or self._settings.get(setting_keys.TRAIN_BASE_MODEL)
        try:
            self._entries = self._catalog.entries()
        except (ColorAppError, OSError) as error:
            logger.error("Listing models for training failed: %s", error)
            self._entries = []
        self.panel.set_base_models(self._entries, current)
        # The recipe defaults overwrite the epochs, batch size and learning rate, so only
        # a different base model resets them.
        if self.panel.base_key() != shown:
            self._on_base_changed()

    def fine_tune_settings(self) -> FineTuneSettings:
        """Return the run's settings as the panel shows them.

        Raises:
            ValueError: a setting is invalid, such as an empty model name.
        """
        panel = self.panel
        entry = self.base_entry()
        folder = self.folder()
        if folder is None:
            raise ValueError("no photo folder is chosen; choose a folder of your colour photos")
        return FineTuneSettings(
            data_dir=folder,
            model_name=panel.name_edit.text().strip(),
            recipe=panel.recipe(),
            base_model=entry.path if entry is not None else None,
            epochs=panel.epochs_spin.value(),
            batch_size=panel.batch_spin.value(),
            learning_rate=panel.lr_spin.value(),
            width=entry.info.width if entry is not None else panel.generator_width(),
            device=panel.device(),
            validate_every=panel.validate_spin.value(),
        )

    # Folder and dataset check

    def choose_folder(self) -> Path | None:
        """Ask for the photo folder with a folder dialog; return None if it is cancelled."""
        start = str(self.folder() or "")
        folder = QFileDialog.getExistingDirectory(self, "Choose Your Photo Folder", start)
        return Path(folder) if folder else None

    @Slot()
    def choose_folder_with_dialog(self) -> None:
        folder = self.choose_folder()
        if folder is not None:
            self.set_folder(folder)
            self.check_photos()

    @Slot()
    def check_photos(self) -> bool:
        """Screen the folder's photos in the background; return whether a check started."""
        folder = self.folder()
        if folder is None or self.is_training():
            return False
        self.report = None
        self.panel.report_label.setText(f"Checking the photos in {folder}…")
        self.panel.show_warning("")
        self.panel.show_skipped([])
        self.panel.check_progress.setRange(0, 0)
        self.panel.check_progress.show()
        self.runner.check(folder)
        self._update_controls()
        return True

    @Slot()
    def _on_check_clicked(self) -> None:
        if self.runner.is_checking():
            self._start_after_check = False
            self.runner.cancel_check()
        else:
            self.check_photos()

    @Slot()
    def _on_check_cancelled(self) -> None:
        self.panel.check_progress.hide()
        self.panel.report_label.setText("The check was cancelled.")
        self._update_controls()

    @Slot(int, int)
    def _on_check_progress(self, done: int, total: int) -> None:
        self.panel.check_progress.setRange(0, total)
        self.panel.check_progress.setValue(done)

    @Slot(object)
    def _on_check_finished(self, report: DatasetReport) -> None:
        self.panel.check_progress.hide()
        if report.folder != self.folder():
            # The folder changed while the check ran.
            self._start_after_check = False
            self._update_controls()
            return
        self.report = report
        self.panel.report_label.setText(_describe_report(report))
        self.panel.show_skipped([
            (str(result.path.relative_to(report.folder)), result.reason, result.detail)
            for result in report.skipped
        ])
        self._show_report_warning()
        self._update_controls()
        self.check_finished.emit(report)
        if self._start_after_check:
            self._start_after_check = False
            self.start_training()

    @Slot(str)
    def _on_check_failed(self, message: str) -> None:
        self.panel.check_progress.hide()
        self.panel.report_label.setText(message)
        self._start_after_check = False
        self._update_controls()
        self.error_occurred.emit("Checking the Photos Failed", message)

    @Slot()
    def _show_report_warning(self, *_args) -> None:
        report = self.report
        self.panel.show_warning(report.warning(self.panel.batch_spin.value()) if report is not None else "")

    @Slot()
    def _on_folder_edited(self) -> None:
        folder = self.folder()
        # editingFinished also comes when the field only loses focus.
        if folder == self._folder_seen:
            return
        self._folder_seen = folder
        if self.report is not None and self.report.folder != folder:
            self.report = None
            self.panel.report_label.setText("Not checked yet.")
            self.panel.show_warning("")
            self.panel.show_skipped([])
        self._settings.set(setting_keys.TRAIN_FOLDER, str(folder) if folder else "")
        self._suggest_name()
        self._update_controls()

    # Choices

    @Slot()
    def _on_base_changed(self, *_args) -> None:
        # A base model fixes the architecture and the width, so only its recipes are offered.
        entry = self.base_entry()
        panel = self.panel
        if entry is not None:
            names = recipes_for(entry.info.architecture)
            panel.set_width(entry.info.width)
        else:
            names = list(RECIPES)
            panel.set_width(self._settings.get(setting_keys.TRAIN_WIDTH))
        preferred = panel.recipe() or self._settings.get(setting_keys.TRAIN_RECIPE)
        if preferred not in names:
            preferred = entry.info.recipe if entry is not None and entry.info.recipe in names else names[0]
        panel.set_recipes(names, preferred)
        panel.width_combo.setEnabled(entry is None)
        self._apply_recipe_defaults()
        self._suggest_name()
        self._save_choices()

    @Slot()
    def _on_recipe_changed(self, *_args) -> None:
        self._apply_recipe_defaults()
        self._save_choices()

    def _apply_recipe_defaults(self) -> None:
        name = self.panel.recipe()
        if not name:
            return
        recipe = get_recipe(name)
        self.panel.epochs_spin.setValue(recipe.epochs)
        self.panel.batch_spin.setValue(recipe.batch_size)
        self.panel.lr_spin.setValue(default_learning_rate(name, fine_tuning=self.base_entry() is not None))

    @Slot(str)
    def _on_name_edited(self, _text: str) -> None:
        self._name_edited = True

    def _suggest_name(self) -> None:
        if self._name_edited:
            return
        folder = self.folder()
        if folder is None:
            return
        entry = self.base_entry()
        name = folder.name if entry is None else f"{folder.name} (fine-tuned)"
        self.panel.name_edit.setText(name)

    def _save_choices(self, *_args) -> None:
        panel = self.panel
        self._settings.set(setting_keys.TRAIN_BASE_MODEL, panel.base_key())
        if panel.recipe() in RECIPES:
            self._settings.set(setting_keys.TRAIN_RECIPE, panel.recipe())
        if self.base_entry() is None and panel.generator_width() in setting_keys.TRAIN_WIDTHS:
            self._settings.set(setting_keys.TRAIN_WIDTH, panel.generator_width())
        self._settings.set(setting_keys.TRAIN_DEVICE, panel.device())
        self._settings.set(setting_keys.TRAIN_VALIDATE_EVERY, panel.validate_spin.value())

    # Starting, pausing and stopping

    @Slot()
    def start_training(self) -> bool:
        """Start a run with the panel's settings; return whether the run, or the check before it, started.

        Without a current dataset check, the check runs first and the run starts
        when it passes.
        """
        if self.is_training() or self.runner.is_checking() or self.runner.is_exporting():
            return False
        try:
            settings = self.fine_tune_settings()
        except ValueError as error:
            self.error_occurred.emit("Cannot Start Training", str(error))
            return False
        if self.report is None:
            self._start_after_check = True
            return self.check_photos()
        if not self.report.can_train(settings.batch_size):
            self.error_occurred.emit("Too Few Photos", self.report.warning(settings.batch_size))
            return False

        try:
            run_dir = self.runner.start(settings, paths.checkpoint_dir(), self._catalog.user_model_dir)
        except (ColorAppError, OSError) as error:
            logger.error("Starting the training run failed: %s", error)
            self.error_occurred.emit("Cannot Start Training", str(error))
            return False
        self._settings.set(setting_keys.TRAIN_RUN_FOLDER, str(run_dir))
        self._begin_run(settings, resuming=False)
        return True

    def resume_run(self, record: RunRecord) -> bool:
        """Continue an unfinished run from its last checkpoint; return whether it started."""
        if self.is_training() or self.runner.is_exporting():
            return False
        self._show_run_settings(record.settings)
        self.runner.resume(record, self._catalog.user_model_dir)
        self._settings.set(setting_keys.TRAIN_RUN_FOLDER, str(record.run_dir))
        self._begin_run(record.settings, resuming=True, step=record.step)
        return True

    def _begin_run(self, settings: FineTuneSettings, resuming: bool, step: int = 0) -> None:
        self.state = RunState.TRAINING
        self._pending = None
        self.banner.hide()
        self.monitor.begin_run(has_base_model=settings.base_model is not None, step=step)
        verb = "Resuming" if resuming else "Starting"
        self._show_status(f"{verb} the training of {settings.model_name}…")
        self._update_controls()

    @Slot(bool)
    def _on_pause_toggled(self, checked: bool) -> None:
        if checked:
            self.pause()
        else:
            self.unpause()

    def pause(self) -> None:
        """Hold training after the current step; ``runner.pause_changed(True)`` follows."""
        if self.state is not RunState.TRAINING:
            return
        self.runner.pause()
        self._set_pause_button(True)
        self._show_status("Pausing after the current step…")

    def unpause(self) -> None:
        if self.state is not RunState.TRAINING:
            return
        self.runner.unpause()
        self._set_pause_button(False)
        self._show_status("Training…")

    @Slot()
    def stop_training(self) -> None:
        """End the run after the current step and save the model; ``run_ended`` follows."""
        if self.state is not RunState.TRAINING:
            return
        self.state = RunState.STOPPING
        self.runner.stop(export_model=True)
        self._show_status("Stopping after the current step; then the model is saved…")
        self._update_controls()

    def stop_for_close(self) -> None:
        """Stop after the current step with a checkpoint, so that the window can close.

        A running run is not exported, so that it can be resumed. A run that Stop
        already ends is still exported.
        """
        if not self.is_training():
            return
        self._close_requested = True
        if self.state is RunState.TRAINING:
            self.state = RunState.STOPPING
            self.runner.stop(export_model=False)
        self._show_status("Saving a checkpoint; ColorApp closes when it is written…")
        self._update_controls()

    def is_closing(self) -> bool:
        """Return whether the run is ending because the window closes."""
        return self._close_requested

    def needs_close_confirmation(self) -> bool:
        """Return whether closing would interrupt a run that no Stop has ended yet."""
        return self.is_training() and self.state is RunState.TRAINING

    def confirm_stop_for_close(self) -> bool:
        """Ask whether to stop training so that the window can close; return True to stop."""
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Training in Progress")
        box.setText("Training stops when ColorApp closes.")
        box.setInformativeText(
            "Stop now and save a checkpoint? The next time ColorApp starts, it offers to "
            "resume from that checkpoint."
        )
        stop = box.addButton("Stop and Save Checkpoint", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return box.clickedButton() is stop

    # Unfinished runs

    def offer_resume(self) -> ResumeChoice | None:
        """Show the banner for an unfinished run and ask whether to resume it; return the user's choice."""
        record = self._refresh_pending()
        if record is None or self.is_training():
            return None
        choice = self.ask_resume(record)
        logger.info("Unfinished training run %s: the user chose %s", record.run_dir, choice.value)
        if choice is ResumeChoice.RESUME:
            self.resume_run(record)
        elif choice is ResumeChoice.EXPORT:
            self.export_pending(record)
        return choice

    def ask_resume(self, record: RunRecord) -> ResumeChoice:
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Resume Training?")
        box.setText(f"The training of {record.settings.model_name} stopped at {_run_position(record)}.")
        box.setInformativeText("Resume it from the last checkpoint, or save the model as it is now?")
        resume = box.addButton("Resume Training", QMessageBox.ButtonRole.AcceptRole)
        export = box.addButton("Save Model as Is", QMessageBox.ButtonRole.ActionRole)
        box.addButton("Not Now", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is resume:
            return ResumeChoice.RESUME
        if box.clickedButton() is export:
            return ResumeChoice.EXPORT
        return ResumeChoice.LATER

    def export_pending(self, record: RunRecord) -> None:
        """Save an unfinished run's last checkpoint as a model in the background."""
        self.runner.export_run(record, self._catalog.user_model_dir)
        self.banner.hide()
        self._show_status(f"Saving the model {record.settings.model_name}…")
        self._update_controls()

    def _refresh_pending(self) -> RunRecord | None:
        folder = self._settings.get(setting_keys.TRAIN_RUN_FOLDER)
        record = unfinished_run(folder)
        if record is None and folder and not self.is_training():
            self._settings.set(setting_keys.TRAIN_RUN_FOLDER, "")
        self._pending = record
        if record is not None and not self.is_training():
            self.banner_label.setText(
                f"The training of <b>{html.escape(record.settings.model_name)}</b> stopped at "
                f"{_run_position(record)}."
            )
            self.banner.show()
        else:
            self.banner.hide()
        return record

    @Slot()
    def _resume_pending(self) -> None:
        if self._pending is not None:
            self.resume_run(self._pending)

    @Slot()
    def _export_pending(self) -> None:
        if self._pending is not None:
            self.export_pending(self._pending)

    @Slot(object)
    def _on_pending_exported(self, paths_written) -> None:
        model_path, _card = paths_written
        self._settings.set(setting_keys.TRAIN_RUN_FOLDER, "")
        self._pending = None
        self._show_status(f"Saved the model as {model_path.name}; it is in the Colorize tab's model list.")
        self.reload_models()
        self._update_controls()
        self.model_exported.emit(model_path)

    @Slot(str)
    def _on_pending_export_failed(self, message: str) -> None:
        self._refresh_pending()
        self._show_status("Saving the model failed.")
        self.error_occurred.emit("Saving the Model Failed", message)

    # Run events

    @Slot(str)
    def _show_status(self, message: str) -> None:
        self.monitor.show_status(message)
        self.status_message.emit(message)

    @Slot(object)
    def _on_training_started(self, event) -> None:
        self.monitor.show_start(event)
        if not self.runner.session or not self.runner.session.paused:
            self._show_status("Training…")
        self.training_started.emit(event)

    @Slot(bool)
    def _on_pause_changed(self, paused: bool) -> None:
        if self.state is not RunState.TRAINING:
            return
        self._set_pause_button(paused)
        self._show_status(f"Paused at step {self.monitor.last_step:,}." if paused else "Training…")

    @Slot(object)
    def _on_run_finished(self, result: SessionResult) -> None:
        self.monitor.end_run()
        self.state = RunState.IDLE
        self._close_requested = False
        if result.model_path is not None:
            self._settings.set(setting_keys.TRAIN_RUN_FOLDER, "")
            verb = "Finished" if result.reason == "finished" else "Stopped"
            self._show_status(
                f"{verb} at step {result.step:,} of {result.total_steps:,}. Saved the model "
                f"{result.model_name} as {result.model_path.name}; it is in the Colorize tab's model list."
            )
            self.reload_models()
        elif result.reason == "interrupted":
            self._show_status(f"Stopped at step {result.step:,} with a checkpoint; it can be resumed.")
            self._refresh_pending()
        else:
            self._show_status("Training was stopped before the first step.")
            self._refresh_pending()
        self._update_controls()
        if result.model_path is not None:
            self.model_exported.emit(result.model_path)
        self.run_ended.emit(result)

    @Slot(str)
    def _on_run_failed(self, message: str) -> None:
        self.monitor.end_run()
        closing = self._close_requested
        self.state = RunState.IDLE
        self._close_requested = False
        self._show_status("Training failed.")
        self._refresh_pending()
        if not closing:
            # While the window closes, the log keeps the error and the next start offers the run.
            self.error_occurred.emit("Training Failed", message)
        self._update_controls()
        self.run_ended.emit(None)

    @Slot()
    def _on_run_cancelled(self) -> None:
        # A new run stopped this early cannot be resumed; a resumed one still can.
        self.monitor.end_run()
        self.state = RunState.IDLE
        self._close_requested = False
        self._show_status("Training was stopped before the first step.")
        self._refresh_pending()
        self._update_controls()
        self.run_ended.emit(None)

    # Settings and enabled state

    def save_state(self) -> None:
        self._settings.set(setting_keys.TRAIN_SPLITTER_STATE, self.splitter.saveState())

    def shutdown(self) -> None:
        """Stop the dataset check and the run (checkpoint, no export) and the worker thread; this waits."""
        self.runner.shutdown()

    def _restore_settings(self) -> None:
        panel = self.panel
        folder = self._settings.get(setting_keys.TRAIN_FOLDER)
        panel.folder_edit.setText(folder)
        self._folder_seen = self.folder()
        panel.validate_spin.setValue(self._settings.get(setting_keys.TRAIN_VALIDATE_EVERY))
        try:
            devices = available_devices()
        except Exception:  # noqa: BLE001 - a broken GPU driver must not stop the window.
            logger.exception("Listing devices for training failed; offering automatic and CPU only")
            devices = [("auto", "Automatic"), ("cpu", "CPU")]
        panel.set_devices(devices, self._settings.get(setting_keys.TRAIN_DEVICE))
        state = self._settings.get(setting_keys.TRAIN_SPLITTER_STATE)
        if not state.isEmpty():
            self.splitter.restoreState(QByteArray(state))
        self.reload_models()
        self._refresh_pending()

    def _show_run_settings(self, settings: FineTuneSettings) -> None:
        """Show a resumed run's settings in the panel, which stays disabled while it runs."""
        panel = self.panel
        panel.folder_edit.setText(str(settings.data_dir))
        self._folder_seen = settings.data_dir
        key = next((entry.key for entry in self._entries if entry.path == settings.base_model), SCRATCH_KEY)
        panel.base_combo.setCurrentIndex(max(panel.base_combo.findData(key), 0))
        panel.set_recipes(recipes_for(get_recipe(settings.recipe).architecture), settings.recipe)
        panel.set_width(settings.width)
        recipe = settings.build_recipe()
        panel.epochs_spin.setValue(recipe.epochs)
        panel.batch_spin.setValue(recipe.batch_size)
        panel.lr_spin.setValue(recipe.generator_lr)
        panel.validate_spin.setValue(settings.validate_every)
        self._name_edited = True
        panel.name_edit.setText(settings.model_name)

    def _set_pause_button(self, paused: bool) -> None:
        button = self.panel.pause_button
        button.blockSignals(True)
        button.setChecked(paused)
        button.setText("Resume" if paused else "Pause")
        button.blockSignals(False)

    def _update_controls(self, *_args) -> None:
        panel = self.panel
        training = self.is_training()
        checking = self.runner.is_checking()
        exporting = self.runner.is_exporting()
        running = self.state is RunState.TRAINING
        panel.set_settings_enabled(not training)
        panel.check_button.setText("Cancel Check" if checking else "Check Photos")
        panel.check_button.setEnabled(checking or (not training and self.folder() is not None))
        panel.start_button.setEnabled(
            not training and not checking and not exporting
            and self.folder() is not None and bool(panel.name_edit.text().strip())
        )
        panel.pause_button.setEnabled(running)
        panel.stop_button.setEnabled(running)
        if not training:
            self._set_pause_button(False)
        self.resume_run_button.setEnabled(not training and not exporting)
        self.export_run_button.setEnabled(not training and not exporting)


def _describe_report(report: DatasetReport) -> str:
    usable = len(report.usable)
    text = (
        f"{usable} usable colour photo{'s' if usable != 1 else ''}: {report.training_count} for training, "
        f"{report.validation_count} held out for previews."
    )
    if report.skipped:
        counts = ", ".join(f"{count} {reason}" for reason, count in report.skipped_by_reason().items())
        text += f" Skipped {len(report.skipped)}: {counts}."
    return text


def _run_position(record: RunRecord) -> str:
    if record.total_steps:
        return f"step {record.step:,} of {record.total_steps:,}"
    return f"step {record.step:,}"
