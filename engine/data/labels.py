"""Scene labels for the classification recipes: class folders or k-means pseudo-labels.

Without class folders, each photo's normalised ab histogram is clustered with
k-means, and the cluster index is its label. The centres are kept in the model
file so that fine-tuning assigns labels in the same space.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.data.screening import ab_thumbnail
from engine.errors import TrainingError

log = logging.getLogger(__name__)

HISTOGRAM_BINS = 8
"""Bins per ab axis over [-110, 110]; 64 features per photo."""
DEFAULT_CLUSTERS = 16
KMEANS_ITERATIONS = 50


def ab_histogram(path: Path) -> np.ndarray:
    """Return the square root of the normalised 8x8 ab histogram (64 floats) of a photo."""
    with Image.open(path) as image:
        image.draft("RGB", (192, 192))
        ab = ab_thumbnail(image)
    edges = np.linspace(-110.0, 110.0, HISTOGRAM_BINS + 1)
    histogram, _, _ = np.histogram2d(ab[:, 0], ab[:, 1], bins=(edges, edges))
    histogram = histogram.ravel() / max(histogram.sum(), 1.0)
    # The square root (Hellinger mapping) keeps the dominant grey bin from swamping the rest.
    return np.sqrt(histogram).astype(np.float32)


def kmeans(features: torch.Tensor, clusters: int, seed: int) -> torch.Tensor:
    """Cluster (N, D) features with k-means++ seeding; return (clusters, D) centres."""
    generator = torch.Generator().manual_seed(seed)
    first = torch.randint(len(features), (1,), generator=generator)
    centres = features[first]
    while len(centres) < clusters:
        distance = torch.cdist(features, centres).min(dim=1).values ** 2
        weights = distance / distance.sum() if distance.sum() > 0 else torch.ones_like(distance)
        chosen = torch.multinomial(weights, 1, generator=generator)
        centres = torch.cat((centres, features[chosen]))
    for _ in range(KMEANS_ITERATIONS):
        assignment = torch.cdist(features, centres).argmin(dim=1)
        updated = centres.clone()
        for index in range(clusters):
            members = features[assignment == index]
            if len(members):
                updated[index] = members.mean(dim=0)
        if torch.allclose(updated, centres):
            break
        centres = updated
    return centres


def nearest_centre(features: torch.Tensor, centres: torch.Tensor) -> list[int]:
    return torch.cdist(features, centres).argmin(dim=1).tolist()


def folder_classes(root: Path, files: list[Path]) -> list[str] | None:
    """Return each file's first-level sub-folder name when every file is in one, else None."""
    names = []
    for path in files:
        relative = path.relative_to(root)
        if len(relative.parts) < 2:
            return None
        names.append(relative.parts[0])
    return names if len(set(names)) >= 2 else None


def assign_labels(root: Path, files: list[Path], val_files: list[Path], num_classes: int | None,
                  init_model: str | None, seed: int):
    """Return (train labels, val labels, class count, facts for the checkpoint)."""
    centres = None
    if init_model is not None:
        from engine.modelfile import read_model_info

        info = read_model_info(init_model)
        if info.label_centers:
            centres = torch.tensor(info.label_centers, dtype=torch.float32)
        num_classes = info.num_classes

    if centres is None:
        train_names = folder_classes(root, files)
        if train_names is not None:
            classes = sorted(set(train_names))
            if num_classes is not None and num_classes != len(classes):
                raise TrainingError(
                    f"{root}: {len(classes)} class folders, but {num_classes} classes were requested"
                )
            index = {name: i for i, name in enumerate(classes)}
            val_names = folder_classes(root, val_files) if val_files else []
            val_labels = [index.get(n, -1) for n in (val_names or [])] or [-1] * len(val_files)
            log.info("labels from %d class folders in %s", len(classes), root)
            return [index[n] for n in train_names], val_labels, len(classes), {"class_names": classes}

    features = torch.from_numpy(np.stack([ab_histogram(p) for p in files]))
    if centres is None:
        clusters = num_classes or min(DEFAULT_CLUSTERS, max(2, len(files) // 8))
        if len(files) < clusters:
            raise TrainingError(f"{len(files)} photos are too few for {clusters} pseudo-label clusters")
        centres = kmeans(features, clusters, seed)
        log.info("pseudo-labels: %d k-means clusters of ab histograms over %d photos",
                 clusters, len(files))
    labels = nearest_centre(features, centres)
    val_labels = []
    if val_files:
        val_features = torch.from_numpy(np.stack([ab_histogram(p) for p in val_files]))
        val_labels = nearest_centre(val_features, centres)
    extra = {"label_centers": centres.tolist(), "labels": "k-means of ab histograms"}
    return labels, val_labels, len(centres), extra
