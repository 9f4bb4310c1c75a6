"""Training checkpoints: everything needed to resume a run exactly, saved atomically."""

from __future__ import annotations

import logging
import pickle
import re
from pathlib import Path

import torch

from engine.atomic import write_atomic
from engine.errors import TrainingError

log = logging.getLogger(__name__)

LAST_NAME = "last.pt"
_STEP_PATTERN = re.compile(r"step_(\d+)\.pt$")


def save_checkpoint(state: dict, folder: Path, step: int, keep: int = 0) -> Path:
    """Write ``state`` as ``step_NNNNNNN.pt`` and ``last.pt`` in ``folder``.

    ``keep`` > 0 deletes all but the newest ``keep`` step files; 0 keeps them all.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"step_{step:07d}.pt"
    write_atomic(path, lambda temporary: torch.save(state, temporary))
    write_atomic(folder / LAST_NAME, lambda temporary: torch.save(state, temporary))
    if keep > 0:
        for old in list_checkpoints(folder)[:-keep]:
            old.unlink(missing_ok=True)
    log.info("saved checkpoint %s", path)
    return path


def list_checkpoints(folder: Path) -> list[Path]:
    """Return the step files in ``folder``, oldest first."""
    found = [p for p in folder.glob("step_*.pt") if _STEP_PATTERN.search(p.name)]
    return sorted(found, key=lambda p: int(_STEP_PATTERN.search(p.name).group(1)))


def load_checkpoint(path: Path) -> dict:
    """Load a checkpoint without executing code from it (``weights_only=True``)."""
    path = Path(path)
    if path.is_dir():
        path = path / LAST_NAME
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise TrainingError(f"{path}: checkpoint not found") from None
    except pickle.UnpicklingError:
        # torch's own message suggests turning the safe loader off, which would run
        # any code the file carries; keep that advice away from the user.
        raise TrainingError(
            f"{path}: cannot load the checkpoint: it contains objects other than tensors and "
            "plain values, so it is not a ColorApp checkpoint; ColorApp does not load such "
            "files because they could run code"
        ) from None
    except Exception as error:  # torch raises several types for damaged or unsafe files.
        raise TrainingError(
            f"{path}: cannot load the checkpoint ({error}); it may be damaged, "
            "so resume from an earlier step_*.pt file"
        ) from None
