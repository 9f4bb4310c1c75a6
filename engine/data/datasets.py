"""Building the training and validation sets of a run from photo folders."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import torch

from engine.data.photo_folder import PhotoFolderDataset, screen_folder
from engine.errors import TrainingError

log = logging.getLogger(__name__)

VALIDATION_FRACTION = 0.05
MAX_VALIDATION = 200


@dataclass
class RunData:
    train: PhotoFolderDataset
    val: PhotoFolderDataset | None
    num_classes: int | None = None
    extra_state: dict = field(default_factory=dict)


def build_datasets(data_dir: Path, val_dir: Path | None, recipe, num_classes: int | None,
                   init_model: str | None, seed: int) -> RunData:
    """Screen the photo folders and return data sets (labels for class recipes)."""
    files, skipped = screen_folder(data_dir)
    if not files:
        raise TrainingError(
            f"{data_dir}: no usable colour photos ({len(skipped)} skipped as grayscale, sepia, "
            "too small or broken); point --data at a folder of colour photos"
        )
    if val_dir is not None:
        val_files, _ = screen_folder(val_dir)
    else:
        order = torch.randperm(len(files), generator=torch.Generator().manual_seed(seed)).tolist()
        count = min(MAX_VALIDATION, max(1, round(len(files) * VALIDATION_FRACTION)))
        held = set(order[:count])
        val_files = [f for i, f in enumerate(files) if i in held]
        files = [f for i, f in enumerate(files) if i not in held]
    summary = {
        "folder": str(data_dir),
        "photos": len(files),
        "validation_photos": len(val_files),
        "skipped": len(skipped),
    }
    extra = {"training_data": summary}
    labels = val_labels = None
    if recipe.architecture == "unet-class":
        from engine.data.labels import assign_labels

        labels, val_labels, num_classes, extra_labels = assign_labels(
            data_dir, files, val_files, num_classes, init_model, seed
        )
        extra.update(extra_labels)
    size = recipe.image_size
    train = PhotoFolderDataset(files, labels, size)
    val = PhotoFolderDataset(val_files, val_labels, size) if val_files else None
    log.info("training on %d photos, validating on %d", len(files), len(val_files))
    return RunData(train, val, num_classes, extra)
