"""Finding and reading the pretrained weight files of the FID and LPIPS networks.

Nothing here downloads. A weight file is either a path the caller gives or a file
in the torch hub cache, ``torch.hub.get_dir()/checkpoints`` (by default
``~/.cache/torch/hub/checkpoints``, moved by ``$TORCH_HOME``), where torchvision
stores the files it downloads.
"""

from __future__ import annotations

import logging
import pickle
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from engine.errors import ColorAppError

log = logging.getLogger(__name__)


class WeightsNotFoundError(ColorAppError):
    """No weight file was given and none was found in the places searched.

    ``str(error)`` names the network, the files that would do and where to put them.
    """


def hub_checkpoint_dir() -> Path:
    """Return the folder where torchvision keeps downloaded weights (it may not exist)."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def find_weights(
    explicit_path: Path | None,
    network: str,
    patterns: Sequence[str],
    fix: str,
    extra_candidates: Sequence[Path] = (),
) -> Path:
    """Return the weight file for ``network``: ``explicit_path``, or the first cached file matching ``patterns``.

    ``patterns`` are glob patterns searched in :func:`hub_checkpoint_dir` in order,
    then ``extra_candidates`` are tried as they are. An ``explicit_path`` that does
    not exist raises ColorAppError, because the caller requested that file. Finding
    nothing raises WeightsNotFoundError with ``fix`` as its advice.
    """
    if explicit_path is not None:
        explicit_path = Path(explicit_path).expanduser()
        if not explicit_path.is_file():
            raise ColorAppError(f"{explicit_path}: {network} weights file not found. {fix}")
        return explicit_path

    folder = hub_checkpoint_dir()
    for pattern in patterns:
        matches = sorted(folder.glob(pattern)) if folder.is_dir() else []
        if matches:
            log.info("using %s weights %s", network, matches[0])
            return matches[0]
    for candidate in extra_candidates:
        if candidate.is_file():
            log.info("using %s weights %s", network, candidate)
            return candidate
    raise WeightsNotFoundError(f"{network} weights not found. {fix}")


def load_state_dict(path: Path, network: str) -> dict[str, torch.Tensor]:
    """Read a state dict (parameter name to tensor) with ``torch.load(..., weights_only=True)``.

    Raises ColorAppError naming the file when it is unreadable or contains anything else.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as error:
        raise ColorAppError(f"{path}: reading the {network} weights failed ({error}).") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, KeyError, ValueError) as error:
        # torch.load's messages run to several paragraphs, and the first line states what failed.
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ColorAppError(
            f"{path}: not a {network} weights file that loads with torch.load(weights_only=True) "
            f"({reason}). Use the original .pth file of a state dict."
        ) from None
    if not isinstance(state, Mapping) or not all(isinstance(value, torch.Tensor) for value in state.values()):
        raise ColorAppError(
            f"{path}: expected a state dict of {network} tensors, found {type(state).__name__}."
        )
    return dict(state)
