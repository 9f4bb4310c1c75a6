"""LPIPS (Zhang et al., 2018), version 0.1 on VGG16: a learned perceptual distance.

Both images go through torchvision's VGG16 convolutional layers. At relu1_2, relu2_2,
relu3_3, relu4_3 and relu5_3 the features are scaled to unit length along the channels,
their squared difference is weighted per channel by the learned linear layer and
averaged over the pixels, and the five figures are summed. 0 means identical images.

Two weight files are needed: torchvision's ImageNet VGG16 (``vgg16-397923af.pth``)
and the linear layers of the lpips package (``lpips/weights/v0.1/vgg.pth``).
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import torch
from torch import nn
from torchvision.models import vgg as tv_vgg

from engine.errors import ColorAppError
from engine.weight_files import WeightsNotFoundError, find_weights, hub_checkpoint_dir, load_state_dict

log = logging.getLogger(__name__)

STAGE_ENDS = (4, 9, 16, 23, 30)
"""End (exclusive) in ``vgg16().features`` of each stage, just after relu1_2 ... relu5_3."""
STAGE_CHANNELS = (64, 128, 256, 512, 512)
INPUT_SHIFT = (-0.030, -0.088, -0.188)
INPUT_SCALE = (0.458, 0.448, 0.450)
"""LPIPS 0.1 maps images in [-1, 1] to (x - shift) / scale per RGB channel before VGG16."""
NORM_EPSILON = 1e-10

VGG_WEIGHTS_FILE = Path(tv_vgg.VGG16_Weights.IMAGENET1K_V1.url).name
VGG_PATTERNS = ("vgg16-*.pth",)
LINEAR_WEIGHTS_FILE = "lpips_vgg.pth"
"""Name under which the lpips package's ``vgg.pth`` is looked for in the torch hub cache."""


def vgg_fix() -> str:
    """Return the advice shown when the VGG16 weights are missing."""
    return (f"Put torchvision's {VGG_WEIGHTS_FILE} in {hub_checkpoint_dir()}/, "
            "or pass --vgg-weights PATH.")


def linear_fix() -> str:
    """Return the advice shown when the LPIPS linear layers are missing."""
    return (f"Copy vgg.pth of the lpips package (lpips/weights/v0.1/vgg.pth) to "
            f"{hub_checkpoint_dir() / LINEAR_WEIGHTS_FILE}, or pass --lpips-weights PATH.")


class LPIPS(nn.Module):
    """LPIPS 0.1 distance between (N, 3, H, W) RGB images in [0, 1]; returns (N,).

    ``vgg_features`` is ``torchvision.models.vgg16().features`` with its weights, and
    ``linear_weights`` contains the five per-channel weights, each (1, C, 1, 1) with C
    from STAGE_CHANNELS. :meth:`features` and :meth:`distance` let a caller compare
    several images with one reference without running VGG16 on it again.
    """

    def __init__(self, vgg_features: nn.Sequential, linear_weights: list[torch.Tensor]) -> None:
        super().__init__()
        if len(linear_weights) != len(STAGE_CHANNELS):
            raise ValueError(f"expected {len(STAGE_CHANNELS)} linear weights, got {len(linear_weights)}")
        for index, (weight, channels) in enumerate(zip(linear_weights, STAGE_CHANNELS)):
            if tuple(weight.shape) != (1, channels, 1, 1):
                raise ValueError(f"linear weight {index} has shape {tuple(weight.shape)}, "
                                 f"expected (1, {channels}, 1, 1)")

        starts = (0,) + STAGE_ENDS[:-1]
        self.stages = nn.ModuleList(vgg_features[start:end] for start, end in zip(starts, STAGE_ENDS))
        for index, weight in enumerate(linear_weights):
            self.register_buffer(f"linear{index}", weight.detach().float().clone())
        self.register_buffer("shift", torch.tensor(INPUT_SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(INPUT_SCALE).view(1, 3, 1, 1))

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Return the five stages' features of images in [0, 1], unit length along the channels."""
        x = (2.0 * images - 1.0 - self.shift) / self.scale
        normalized = []
        for stage in self.stages:
            x = stage(x)
            norm = x.pow(2).sum(dim=1, keepdim=True).sqrt()
            normalized.append(x / (norm + NORM_EPSILON))
        return normalized

    def distance(self, features_a: list[torch.Tensor], features_b: list[torch.Tensor]) -> torch.Tensor:
        """Return the (N,) LPIPS distances between two outputs of :meth:`features`."""
        total = torch.zeros(features_a[0].shape[0], device=features_a[0].device)
        for index, (a, b) in enumerate(zip(features_a, features_b)):
            weighted = ((a - b).pow(2) * getattr(self, f"linear{index}")).sum(dim=1)
            total = total + weighted.mean(dim=(1, 2))
        return total

    def forward(self, images_a: torch.Tensor, images_b: torch.Tensor) -> torch.Tensor:
        return self.distance(self.features(images_a), self.features(images_b))


def _vgg_features(path: Path) -> nn.Sequential:
    state = load_state_dict(path, "VGG16")
    # torchvision's file also contains the classifier, and a file of the features alone works too.
    prefix = "features."
    features_state = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
    features = tv_vgg.vgg16(weights=None).features
    try:
        features.load_state_dict(features_state)
    except RuntimeError as error:
        raise ColorAppError(f"{path}: not a VGG16 state dict that fits torchvision's vgg16 "
                            f"({str(error).splitlines()[0]}). {vgg_fix()}") from None
    return features


def _linear_weights(path: Path) -> list[torch.Tensor]:
    state = load_state_dict(path, "LPIPS linear layer")
    # The lpips package names them lin0.model.1.weight ... lin4.model.1.weight.
    weights = []
    for index in range(len(STAGE_CHANNELS)):
        keys = [key for key in state if key.startswith(f"lin{index}.") and key.endswith("weight")]
        if len(keys) != 1:
            raise ColorAppError(f"{path}: expected one lin{index}.*weight tensor in an LPIPS VGG weights "
                                f"file, found {len(keys)}. {linear_fix()}")
        weights.append(state[keys[0]])
    return weights


def _installed_lpips_weights() -> list[Path]:
    # Looks the package up without importing it.
    spec = importlib.util.find_spec("lpips")
    if spec is None or not spec.origin:
        return []
    return [Path(spec.origin).parent / "weights" / "v0.1" / "vgg.pth"]


def load_lpips(vgg_path: Path, linear_path: Path) -> LPIPS:
    """Build :class:`LPIPS` from the VGG16 and linear-layer weight files.

    Raises ColorAppError naming the file that does not hold the expected tensors.
    """
    try:
        model = LPIPS(_vgg_features(vgg_path), _linear_weights(linear_path))
    except ValueError as error:
        raise ColorAppError(f"{linear_path}: {error}. {linear_fix()}") from None
    log.info("loaded LPIPS from %s and %s", vgg_path, linear_path)
    return model.eval()


def find_and_load_lpips(vgg_path: Path | None, linear_path: Path | None) -> tuple[LPIPS, list[Path]]:
    """Load LPIPS from the two files, or from the torch hub cache for a path that is None.

    The linear layers are also looked for in an installed lpips package. Returns the
    model and the (VGG16, linear layers) files. Raises WeightsNotFoundError listing
    every file that is missing.
    """
    found, missing = [], []
    searches = (
        (vgg_path, "VGG16", VGG_PATTERNS, vgg_fix(), []),
        (linear_path, "LPIPS linear layer", (LINEAR_WEIGHTS_FILE,), linear_fix(), _installed_lpips_weights()),
    )
    for explicit_path, network, patterns, fix, extra in searches:
        try:
            found.append(find_weights(explicit_path, network, patterns, fix, extra))
        except WeightsNotFoundError as error:
            missing.append(str(error))
    if missing:
        raise WeightsNotFoundError(" ".join(missing))
    return load_lpips(found[0], found[1]), found
