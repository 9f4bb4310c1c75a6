"""The live view of a training run: status line, progress with ETA, loss charts and previews."""

from __future__ import annotations

from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLabel, QProgressBar, QSplitter, QVBoxLayout, QWidget

from colorapp.imageconv import pil_to_qimage
from colorapp.training_runs import LossHistory, describe_step
from colorapp.widgets.loss_chart import LossChart
from colorapp.widgets.preview_grid import PreviewGrid

CHART_REFRESH_MS = 500
"""Loss charts are redrawn at most this often, however fast the steps come."""


def array_to_qimage(array) -> QImage:
    """Copy an (H, W, 3) uint8 RGB array, possibly strided, into a QImage."""
    return pil_to_qimage(Image.fromarray(array, "RGB"))


class TrainingMonitor(QWidget):
    """View of the session events that ``TrainTab`` passes on. Its only state is what it draws."""

    IDLE_TEXT = "Choose a folder of your colour photos, check it, then start training."

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = LossHistory()
        self.last_step = 0
        """Step of the most recent StepEvent, or of the checkpoint a run resumed from."""
        self._steps_per_epoch = 0

        self.status_label = QLabel(self.IDLE_TEXT, self)
        self.status_label.setWordWrap(True)
        font = self.status_label.font()
        font.setBold(True)
        self.status_label.setFont(font)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("%v of %m steps")
        self.progress_label = QLabel(self)
        self.progress_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.loss_chart = LossChart(self)
        self.previews = PreviewGrid(self)

        results = QSplitter(Qt.Orientation.Horizontal, self)
        results.addWidget(self.loss_chart)
        results.addWidget(self.previews)
        results.setStretchFactor(0, 1)
        results.setStretchFactor(1, 1)
        results.setChildrenCollapsible(False)
        results.setSizes([500, 500])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status_label)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.progress_label)
        layout.addWidget(results, 1)

        self._chart_timer = QTimer(self)
        self._chart_timer.setSingleShot(True)
        self._chart_timer.setInterval(CHART_REFRESH_MS)
        self._chart_timer.timeout.connect(self.refresh_charts)

    def show_status(self, message: str) -> None:
        self.status_label.setText(message)

    def begin_run(self, has_base_model: bool, step: int = 0) -> None:
        """Clear the curves, previews and progress of the previous run."""
        self.last_step = step
        self.history.clear()
        self.loss_chart.clear()
        self.previews.clear(has_base_model=has_base_model)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setToolTip("")
        self.progress_label.clear()

    def end_run(self) -> None:
        """Draw the last steps' curves, which the throttled refresh may not have drawn yet."""
        self._chart_timer.stop()
        self.refresh_charts()

    def refresh_charts(self) -> None:
        self.loss_chart.refresh(self.history)

    def show_base_previews(self, event) -> None:
        """Show a BasePreviewEvent: the base model's result and its validation error."""
        self.previews.set_base([tuple(array_to_qimage(image) for image in row) for row in event.previews])
        self.history.base_error = event.metrics.get("val_l1_ab")

    def show_start(self, event) -> None:
        """Show a StartEvent: the step range, the photo counts and the device."""
        self._steps_per_epoch = event.steps_per_epoch
        self.last_step = event.step
        self.progress_bar.setRange(0, event.total_steps)
        self.progress_bar.setValue(event.step)
        self.progress_label.setText(
            f"{event.training_photos} training photos, {event.validation_photos} for previews, "
            f"on {event.device}"
        )

    def show_step(self, event) -> None:
        """Show a StepEvent: progress, images per second, ETA and the losses."""
        self.last_step = event.step
        self.history.add_step(event.step, event.losses)
        self.progress_bar.setValue(event.step)
        self.progress_label.setText(describe_step(
            event.step, event.total_steps, event.epoch, self._steps_per_epoch,
            event.images_per_second, event.eta_seconds,
        ))
        self._schedule_refresh()

    def show_validation(self, event) -> None:
        """Show a ValidationEvent: the current model's previews and its validation error."""
        self.previews.set_current(event.step, [
            tuple(array_to_qimage(image) for image in row) for row in event.previews
        ])
        self.history.add_validation(event.step, event.metrics)
        self._schedule_refresh()

    def show_checkpoint(self, event) -> None:
        self.progress_bar.setToolTip(f"Last checkpoint at step {event.step:,}: {event.path}")

    def _schedule_refresh(self) -> None:
        if not self._chart_timer.isActive():
            self._chart_timer.start()
