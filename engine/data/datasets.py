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


def places_datasets(split_csv: Path, recipe) -> RunData:
    """Return the train and val sets of a ``prepare-places`` split, labelled by class folder."""
    from engine.data.places import load_split

    train = load_split(split_csv, "train")
    val = load_split(split_csv, "val")
    summary = {
        "dataset": "Places205",
        "split_file": split_csv.name,
        "photos": len(train.files),
        "validation_photos": len(val.files),
        "classes": len(train.class_names),
    }
    log.info("Places205 split %s: %d training and %d validation photos in %d classes",
             split_csv, len(train.files), len(val.files), len(train.class_names))
    size = recipe.image_size
    return RunData(
        PhotoFolderDataset(train.files, train.labels, size),
        PhotoFolderDataset(val.files, val.labels, size) if val.files else None,
        len(train.class_names),
        {"training_data": summary, "class_names": train.class_names},
    )


def build_datasets(data_dir: Path, val_dir: Path | None, recipe, num_classes: int | None,
                   init_model: str | None, seed: int,
                   screened: tuple[list[Path], list] | None = None) -> RunData:
    """Screen the photo folders and return data sets (labels for class recipes).

    ``data_dir`` may also be a split CSV written by ``prepare-places``. ``screened``,
    the (usable, skipped) result of ``screen_folder(data_dir)``, skips screening it again.
    """
    if data_dir.suffix.lower() == ".csv":
        return places_datasets(data_dir, recipe)
    files, skipped = screened if screened is not None else screen_folder(data_dir)
    files, skipped = list(files), list(skipped)
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
