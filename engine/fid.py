"""Fréchet Inception Distance (Heusel et al., 2017).

Photos go through InceptionV3 up to its final average pool (pool3, 2048 features).
The features of the real and of the generated photos are each summarised by a mean
and a covariance, and FID is the Fréchet distance between the two Gaussians.

Two kinds of weight file are accepted, distinguished by the size of their classifier:
- the TensorFlow FID Inception that pytorch-fid ports (``pt_inception-2015-12-05-*.pth``,
  1008 classes), the weights behind the standard FID.
- torchvision's ImageNet InceptionV3 (``inception_v3_google-*.pth``, 1000 classes).
  Its features differ, so its FIDs are comparable only with each other.

NOTE: the pooling, the 299x299 bilinear resize and the [-1, 1] input range follow
pytorch-fid's inception.py, but the features have not been compared with
pytorch-fid's on the real weights, which were not available when this was written.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import inception as tv_inception

from engine.errors import ColorAppError
from engine.weight_files import find_weights, hub_checkpoint_dir, load_state_dict

log = logging.getLogger(__name__)

INCEPTION_SIZE = 299
"""Side in pixels that photos are resized to (bilinear) before InceptionV3."""
FEATURE_DIM = 2048
TENSORFLOW_CLASSES = 1008
"""Classifier outputs of the TensorFlow FID Inception graph (ImageNet models have 1000)."""

FID_WEIGHTS_FILE = "pt_inception-2015-12-05-6726825d.pth"
"""The pytorch-fid release file of the TensorFlow FID Inception weights."""
TORCHVISION_WEIGHTS_FILE = Path(tv_inception.Inception_V3_Weights.IMAGENET1K_V1.url).name
INCEPTION_PATTERNS = ("pt_inception-2015-12-05-*.pth", "inception_v3_google-*.pth")
"""Cache file names searched, in order of preference."""


def inception_fix() -> str:
    """Return the advice shown when no InceptionV3 weights are available."""
    return (
        f"Put {FID_WEIGHTS_FILE} (pytorch-fid's TensorFlow FID weights, preferred) or "
        f"{TORCHVISION_WEIGHTS_FILE} (torchvision's ImageNet weights) in {hub_checkpoint_dir()}/, "
        "or pass --inception-weights PATH."
    )


# TensorFlow's Inception graph pools differently from torchvision's blocks: its
# 3x3 average pools leave the zero padding out of the average, and the last block
# (Mixed_7c) max-pools its pool branch. The FID weights need those pools.


class _TensorFlowPooling:
    """Mixin for torchvision's InceptionA, C and E blocks that redoes the pool branch the TensorFlow way."""

    max_pool = False

    def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        # torchvision's _forward returns the branch outputs with the pool branch last
        # (read in torchvision 0.29). Its pool branch is computed and then replaced,
        # which costs a few percent of the network's time.
        outputs = super()._forward(x)  # type: ignore[misc]
        if self.max_pool:
            pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1)
        else:
            pooled = F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)
        outputs[-1] = self.branch_pool(pooled)  # type: ignore[attr-defined]
        return outputs


class TensorFlowInceptionA(_TensorFlowPooling, tv_inception.InceptionA):
    pass


class TensorFlowInceptionC(_TensorFlowPooling, tv_inception.InceptionC):
    pass


class TensorFlowInceptionE(_TensorFlowPooling, tv_inception.InceptionE):
    pass


class InceptionFeatures(nn.Module):
    """InceptionV3 pool3 features: (N, 3, H, W) images in [0, 1] to (N, 2048).

    ``tensorflow_pooling`` selects the pools of the TensorFlow FID graph, for the
    pytorch-fid weights. ``num_classes`` only has to match the weight file's classifier,
    which is loaded but not used.
    """

    def __init__(self, tensorflow_pooling: bool = True, num_classes: int = TENSORFLOW_CLASSES) -> None:
        super().__init__()
        blocks = None
        if tensorflow_pooling:
            blocks = [
                tv_inception.BasicConv2d, TensorFlowInceptionA, tv_inception.InceptionB,
                TensorFlowInceptionC, tv_inception.InceptionD, TensorFlowInceptionE,
                tv_inception.InceptionAux,
            ]
        self.net = tv_inception.Inception3(
            num_classes=num_classes, aux_logits=False, transform_input=False,
            inception_blocks=blocks, init_weights=False,
        )
        if tensorflow_pooling:
            self.net.Mixed_7c.max_pool = True
        self.tensorflow_pooling = tensorflow_pooling

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        net = self.net
        x = images
        if x.shape[-2:] != (INCEPTION_SIZE, INCEPTION_SIZE):
            x = F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
        # Both weight sets expect [-1, 1]. torchvision's transform_input makes the same
        # range from ImageNet-normalised input, so it stays off.
        x = 2.0 * x - 1.0

        x = net.Conv2d_1a_3x3(x)
        x = net.Conv2d_2a_3x3(x)
        x = net.Conv2d_2b_3x3(x)
        x = net.maxpool1(x)
        x = net.Conv2d_3b_1x1(x)
        x = net.Conv2d_4a_3x3(x)
        x = net.maxpool2(x)

        for block in (net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b,
                      net.Mixed_6c, net.Mixed_6d, net.Mixed_6e, net.Mixed_7a, net.Mixed_7b, net.Mixed_7c):
            x = block(x)

        return net.avgpool(x).flatten(1)


def load_inception(path: Path) -> InceptionFeatures:
    """Build :class:`InceptionFeatures` from a state dict file of either accepted kind.

    Raises ColorAppError naming the file when it is not an InceptionV3 state dict.
    """
    state = load_state_dict(path, "InceptionV3")
    # torchvision's file also has the auxiliary classifier, which pool3 does not use.
    state = {key: value for key, value in state.items() if not key.startswith("AuxLogits.")}
    classifier = state.get("fc.weight")
    if classifier is None or classifier.ndim != 2 or classifier.shape[1] != FEATURE_DIM:
        raise ColorAppError(
            f"{path}: not an InceptionV3 state dict (no fc.weight of shape (classes, {FEATURE_DIM})). "
            + inception_fix()
        )

    classes = classifier.shape[0]
    model = InceptionFeatures(tensorflow_pooling=classes == TENSORFLOW_CLASSES, num_classes=classes)
    try:
        model.net.load_state_dict(state)
    except RuntimeError as error:
        raise ColorAppError(f"{path}: the InceptionV3 state dict does not fit torchvision's "
                            f"inception_v3 ({str(error).splitlines()[0]}).") from None
    kind = "TensorFlow FID" if model.tensorflow_pooling else "torchvision ImageNet"
    log.info("loaded InceptionV3 (%s weights, %d classes) from %s", kind, classes, path)
    return model.eval()


def find_and_load_inception(path: Path | None) -> tuple[InceptionFeatures, Path]:
    """Load InceptionV3 from ``path``, or from the torch hub cache when it is None.

    Returns the model and the file it came from. Raises WeightsNotFoundError when no file is found.
    """
    path = find_weights(path, "InceptionV3", INCEPTION_PATTERNS, inception_fix())
    return load_inception(path), path


class FeatureStatistics:
    """Running mean and covariance of feature vectors, accumulated in float64 on the CPU.

    Only the sums of x and of x x^T are kept, so memory does not grow with the photo count.
    """

    def __init__(self, dim: int = FEATURE_DIM) -> None:
        self.count = 0
        self.total = torch.zeros(dim, dtype=torch.float64)
        self.outer = torch.zeros(dim, dim, dtype=torch.float64)

    def update(self, features: torch.Tensor) -> None:
        """Add (N, dim) features."""
        # Copied before the cast because Apple MPS has no float64.
        values = features.detach().cpu().to(torch.float64)
        if values.ndim != 2 or values.shape[1] != self.total.shape[0]:
            raise ValueError(f"expected features of shape (N, {self.total.shape[0]}), got {tuple(values.shape)}")
        self.count += values.shape[0]
        self.total += values.sum(dim=0)
        self.outer += values.T @ values

    def mean(self) -> np.ndarray:
        return (self.total / self.count).numpy()

    def covariance(self) -> np.ndarray:
        """Unbiased (N - 1) covariance; needs at least 2 vectors."""
        if self.count < 2:
            raise ValueError(f"a covariance needs at least 2 feature vectors, got {self.count}")
        mean = self.total / self.count
        covariance = (self.outer - self.count * torch.outer(mean, mean)) / (self.count - 1)
        return covariance.numpy()


def psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Return the symmetric square root of a symmetric positive semi-definite matrix."""
    eigenvalues, eigenvectors = np.linalg.eigh(matrix)
    # Rounding leaves eigenvalues like -1e-13 where the true value is 0.
    roots = np.sqrt(np.clip(eigenvalues, 0.0, None))
    return (eigenvectors * roots) @ eigenvectors.T


def frechet_distance(
    mean1: np.ndarray, cov1: np.ndarray, mean2: np.ndarray, cov2: np.ndarray, root1: np.ndarray | None = None
) -> float:
    """Return the Fréchet distance between the Gaussians N(mean1, cov1) and N(mean2, cov2).

    |mean1 - mean2|^2 + tr(cov1) + tr(cov2) - 2 tr((cov1 cov2)^(1/2)). The trace of
    the root is the sum of the square roots of the eigenvalues of S cov2 S, with
    S = cov1^(1/2). That matrix is symmetric and has the eigenvalues of cov1 cov2, so
    no complex values arise, as they can with ``scipy.linalg.sqrtm(cov1 @ cov2)``.
    Computed in float64. ``root1`` is ``psd_sqrt(cov1)`` when the caller already has
    it, which saves an eigendecomposition per call when cov1 is a shared reference.
    """
    mean1, mean2 = np.asarray(mean1, np.float64), np.asarray(mean2, np.float64)
    cov1, cov2 = np.asarray(cov1, np.float64), np.asarray(cov2, np.float64)
    dim = mean1.shape[0]
    if mean1.shape != (dim,) or mean2.shape != (dim,) or cov1.shape != (dim, dim) or cov2.shape != (dim, dim):
        raise ValueError(
            f"expected two means of shape (d,) and two covariances of shape (d, d), got "
            f"{mean1.shape}, {cov1.shape}, {mean2.shape} and {cov2.shape}"
        )

    if root1 is None:
        root1 = psd_sqrt(cov1)
    product = root1 @ cov2 @ root1
    product = (product + product.T) / 2.0
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh(product), 0.0, None)).sum()

    difference = mean1 - mean2
    distance = difference @ difference + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_root
    # Identical statistics can come out a rounding error below 0.
    return float(max(distance, 0.0))
