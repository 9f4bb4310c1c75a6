"""Evaluating colourization models against ground-truth colour photos.

Every photo is resized to 256x256 (the models' input size, and the size of the
Places205 images), its L channel goes to each model, and the prediction is
compared with the photo. The grayscale baseline predicts ab = 0.

Two protocols, each with FID, SSIM, PSNR and LPIPS:
- "paper": L*a*b* scaled to [0, 1] per channel (L/100, (ab/110 + 1)/2) with the
  input L kept. FID and LPIPS see these three channels as if they were RGB.
  NOTE: this is our reading of how the paper's public code scales Lab before
  computing its metrics. The figures are comparable between models here, but they
  may differ from the paper's table in absolute terms.
- "rgb": sRGB in [0, 1].
Colourfulness (Hasler and Suesstrunk, 2003) is measured on the sRGB prediction and,
for reference, on the ground truth.

Photos without colour (grayscale, or a single tint such as sepia) are left out by
default, by the rule that screens training photos, because they cannot show whether
a model finds the right colours. Saccaro (2023) also removes grayscale photos from
Places205 before splitting it.

FID and LPIPS need pretrained weights (see engine.fid and engine.lpips). Without
them their cells show the reason, and the figures of the other metrics are unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from engine.color import lab_to_rgb_keep_lightness, rgb_to_lab
from engine.data.photo_folder import find_images
from engine.data.places import load_split
from engine.data.screening import MONOCHROME_REASONS, screen_photo
from engine.devices import pick_device
from engine.errors import ColorAppError
from engine.fid import (
    FEATURE_DIM,
    FeatureStatistics,
    InceptionFeatures,
    find_and_load_inception,
    frechet_distance,
    psd_sqrt,
)
from engine.lpips import LPIPS, find_and_load_lpips
from engine.metrics import colourfulness, psnr, ssim
from engine.modelfile import load_generator
from engine.weight_files import WeightsNotFoundError

log = logging.getLogger(__name__)

EVAL_SIZE = 256
BASELINE = "grayscale baseline"
GROUND_TRUTH = "ground truth"
PROTOCOLS = ("paper", "rgb")
DEFAULT_SPLIT = "test"
MIN_FID_PHOTOS = 2
"""A covariance needs at least two feature vectors."""
FID_SAMPLE_WARNING = FEATURE_DIM
"""Below this many photos the feature covariances are rank-deficient, and the report notes it."""


@dataclass(frozen=True)
class Unavailable:
    """Why a metric has no figures: a short cell text and the note under the table."""

    cell: str
    reason: str


@dataclass
class Evaluation:
    """Figures per row (model, baseline, ground truth), and what they cover.

    ``figures`` maps a row name to metric keys such as ``paper_fid``, ``rgb_lpips``
    and ``colourfulness``. Every figure except FID is a mean over the photos.
    ``unavailable`` maps "fid" or "lpips" to the reason it has no figures.
    """

    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    photos: int = 0
    skipped: list[str] = field(default_factory=list)
    """Files that could not be read, each as "path: reason"."""
    measured: list[Path] = field(default_factory=list)
    """The photos measured, in the order of ``per_photo``'s lists."""
    per_photo: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    """Row name -> metric -> one figure per measured photo (every metric except FID)."""
    monochrome: list[tuple[Path, str]] = field(default_factory=list)
    """Photos left out because they have no colour, each with a reason such as "grayscale (mean chroma 2.1)"."""
    unavailable: dict[str, Unavailable] = field(default_factory=dict)
    weight_files: dict[str, list[Path]] = field(default_factory=dict)
    standard_fid: bool = True
    """False when FID used torchvision's ImageNet InceptionV3 rather than the TensorFlow FID weights."""


def select_photos(data: Path, split: str | None = None, limit: int | None = None) -> list[Path]:
    """Return the photos to evaluate on, from a folder (searched recursively), one image or a split CSV file.

    ``split`` picks the rows of a CSV file written by ``prepare-places`` (default
    "test") and is rejected for anything else. ``limit`` keeps that many photos
    spread evenly over the list, so that a CSV sorted by class keeps every part of it.
    """
    data = Path(data)
    if data.suffix.lower() == ".csv":
        photos = load_split(data, split or DEFAULT_SPLIT).files
    else:
        if split is not None:
            raise ColorAppError(
                f"a split name ({split}) applies only to a split CSV file from prepare-places, "
                f"and {data} is not one; leave the split out for a folder of photos"
            )
        if not data.exists():
            raise ColorAppError(f"{data}: folder or file not found")
        photos = find_images(data)

    if limit is not None:
        if limit < 1:
            raise ValueError(f"invalid limit {limit}: expected 1 or more photos")
        if limit < len(photos):
            photos = [photos[index * len(photos) // limit] for index in range(limit)]
    return photos


def load_eval_image(path: Path) -> torch.Tensor:
    """Return (3, 256, 256) float sRGB in [0, 1]: the photo squashed to 256x256."""
    with Image.open(path) as image:
        image.draft("RGB", (EVAL_SIZE, EVAL_SIZE))
        image = image.convert("RGB").resize((EVAL_SIZE, EVAL_SIZE), Image.Resampling.BICUBIC)
        return torch.from_numpy(np.array(image, dtype=np.float32) / 255.0).permute(2, 0, 1)


def paper_scale(lab: torch.Tensor) -> torch.Tensor:
    """Scale Lab (N, 3, H, W) to [0, 1] per channel: L/100 and (ab/110 + 1)/2, clipped."""
    return torch.cat((lab[:, :1] / 100.0, (lab[:, 1:] / 110.0 + 1.0) / 2.0), dim=1).clamp(0, 1)


def predict_lab(model: torch.nn.Module, truth_lab: torch.Tensor) -> torch.Tensor:
    """Return the model's Lab prediction (N, 3, 256, 256) with the truth's L kept."""
    lightness = truth_lab[:, :1]
    output = model(lightness / 50.0 - 1.0)
    ab = (output[0] if isinstance(output, tuple) else output).float() * 110.0
    return torch.cat((lightness, ab), dim=1)


def _batches(
    files: list[Path], batch_size: int, result: Evaluation, keep_monochrome: bool
) -> Iterable[tuple[list[Path], torch.Tensor]]:
    batch, paths = [], []
    for path in files:
        if not keep_monochrome:
            screening = screen_photo(path)
            if screening.reason in MONOCHROME_REASONS:
                log.info("leaving out %s: %s (%s)", path, screening.reason, screening.detail)
                result.monochrome.append((path, f"{screening.reason} ({screening.detail})"))
                continue
        try:
            batch.append(load_eval_image(path))
        except (OSError, ValueError) as error:
            log.warning("skipping %s: %s", path, error)
            result.skipped.append(f"{path}: {error}")
            continue
        paths.append(path)
        if len(batch) == batch_size:
            yield paths, torch.stack(batch)
            batch, paths = [], []
    if batch:
        yield paths, torch.stack(batch)


@dataclass
class _FeatureNetworks:
    inception: InceptionFeatures | None = None
    lpips: LPIPS | None = None


def _load_feature_networks(
    result: Evaluation, inception_weights: Path | None, vgg_weights: Path | None, lpips_weights: Path | None
) -> _FeatureNetworks:
    """Load InceptionV3 and LPIPS; a missing weight file is recorded in ``result``, any other problem raises."""
    networks = _FeatureNetworks()
    try:
        networks.inception, path = find_and_load_inception(inception_weights)
        result.weight_files["fid"] = [path]
        result.standard_fid = networks.inception.tensorflow_pooling
    except WeightsNotFoundError as error:
        log.warning("FID skipped: %s", error)
        result.unavailable["fid"] = Unavailable("no weights", f"FID not computed. {error}")
    try:
        networks.lpips, paths = find_and_load_lpips(vgg_weights, lpips_weights)
        result.weight_files["lpips"] = paths
    except WeightsNotFoundError as error:
        log.warning("LPIPS skipped: %s", error)
        result.unavailable["lpips"] = Unavailable("no weights", f"LPIPS not computed. {error}")
    return networks


class _Tally:
    """Per-photo figures and feature statistics per row name."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, list[float]]] = {}
        self.statistics: dict[tuple[str, str], FeatureStatistics] = {}

    def add(self, name: str, metric: str, values: torch.Tensor) -> None:
        self.values.setdefault(name, {}).setdefault(metric, []).extend(values.double().cpu().tolist())

    def add_features(self, name: str, protocol: str, features: torch.Tensor) -> None:
        self.statistics.setdefault((name, protocol), FeatureStatistics(features.shape[1])).update(features)


def _measure_batch(
    images: torch.Tensor, models: dict[str, torch.nn.Module], networks: _FeatureNetworks, tally: _Tally
) -> None:
    """Add one batch of (N, 3, 256, 256) sRGB ground-truth photos to ``tally``."""
    truth_lab = rgb_to_lab(images)
    truth_views = {"paper": paper_scale(truth_lab), "rgb": images}
    truth_lpips_features = {}
    for protocol, view in truth_views.items():
        if networks.inception is not None:
            tally.add_features(GROUND_TRUTH, protocol, networks.inception(view))
        if networks.lpips is not None:
            truth_lpips_features[protocol] = networks.lpips.features(view)
    tally.add(GROUND_TRUTH, "colourfulness", colourfulness(images))

    predictions = {name: predict_lab(model, truth_lab) for name, model in models.items()}
    predictions[BASELINE] = torch.cat((truth_lab[:, :1], torch.zeros_like(truth_lab[:, 1:])), dim=1)
    for name, lab in predictions.items():
        rgb = lab_to_rgb_keep_lightness(lab)
        views = {"paper": paper_scale(lab), "rgb": rgb}
        for protocol, view in views.items():
            truth = truth_views[protocol]
            tally.add(name, f"{protocol}_psnr", psnr(view, truth))
            tally.add(name, f"{protocol}_ssim", ssim(view, truth))
            if networks.lpips is not None:
                distance = networks.lpips.distance(networks.lpips.features(view), truth_lpips_features[protocol])
                tally.add(name, f"{protocol}_lpips", distance)
            if networks.inception is not None:
                tally.add_features(name, protocol, networks.inception(view))
        tally.add(name, "colourfulness", colourfulness(rgb))


def _finish(result: Evaluation, tally: _Tally) -> None:
    """Turn the per-photo figures into means and the feature statistics into FIDs."""
    # Models first, then the baseline, then the ground truth's own colourfulness.
    last_rows = {BASELINE: 1, GROUND_TRUTH: 2}
    names = sorted(tally.values, key=lambda name: last_rows.get(name, 0))
    result.per_photo = {name: tally.values[name] for name in names}
    result.figures = {
        name: {metric: sum(values) / len(values) for metric, values in tally.values[name].items()} for name in names
    }
    if not tally.statistics:
        return
    if result.photos < MIN_FID_PHOTOS:
        result.unavailable["fid"] = Unavailable(
            "too few photos",
            f"FID not computed. It needs at least {MIN_FID_PHOTOS} photos to estimate a covariance, "
            f"and {result.photos} could be read.",
        )
        return
    for protocol in PROTOCOLS:
        truth = tally.statistics[(GROUND_TRUTH, protocol)]
        truth_mean, truth_covariance = truth.mean(), truth.covariance()
        truth_root = psd_sqrt(truth_covariance)
        for (name, statistics_protocol), statistics in tally.statistics.items():
            if name == GROUND_TRUTH or statistics_protocol != protocol:
                continue
            result.figures[name][f"{protocol}_fid"] = frechet_distance(
                truth_mean, truth_covariance, statistics.mean(), statistics.covariance(), root1=truth_root
            )


@torch.inference_mode()
def evaluate(
    model_paths: dict[str, Path],
    files: list[Path],
    device: str = "auto",
    batch_size: int = 16,
    progress: Callable[[int, int], None] | None = None,
    inception_weights: Path | None = None,
    vgg_weights: Path | None = None,
    lpips_weights: Path | None = None,
    keep_monochrome: bool = False,
) -> Evaluation:
    """Evaluate each named model file and the grayscale baseline on ``files``.

    Photos without colour are left out and listed in ``Evaluation.monochrome``
    unless ``keep_monochrome`` is set. Weight paths left as None are looked for in
    the torch hub cache, and a metric whose weights are missing gets an entry in ``Evaluation.unavailable``. A weight
    path that is given but missing or invalid raises ColorAppError. ``progress`` is
    called after each batch with (photos done or skipped, photos in total).
    """
    if not files:
        raise ColorAppError("no photos to evaluate on; point --data at a folder of colour photos or a split CSV file")
    if batch_size < 1:
        raise ValueError(f"invalid batch size {batch_size}: expected 1 or more photos")
    target = pick_device(device)
    result = Evaluation()
    networks = _load_feature_networks(result, inception_weights, vgg_weights, lpips_weights)
    for network in (networks.inception, networks.lpips):
        if network is not None:
            network.to(target)
    models = {}
    for name, path in model_paths.items():
        model, _ = load_generator(path)
        models[name] = model.to(target).eval()

    log.info("evaluating %s and the %s on %d photos on %s",
             ", ".join(models) or "no models", BASELINE, len(files), target)
    tally = _Tally()
    for paths, images in _batches(files, batch_size, result, keep_monochrome):
        _measure_batch(images.to(target), models, networks, tally)
        result.measured.extend(paths)
        result.photos += images.shape[0]
        if progress is not None:
            progress(result.photos + len(result.skipped) + len(result.monochrome), len(files))
    if result.photos == 0:
        if result.monochrome and not result.skipped:
            raise ColorAppError(
                f"all {len(files)} photos are grayscale or of one tint, so they cannot show colour errors; "
                "evaluate on colour photos, or pass --keep-monochrome to use them anyway"
            )
        raise ColorAppError(f"none of the {len(files)} photos could be read or used; the log lists why")

    _finish(result, tally)
    log.info("evaluated %d photos (%d without colour left out, %d unreadable)",
             result.photos, len(result.monochrome), len(result.skipped))
    return result
