"""ColorApp model files: a generator's weights in safetensors with descriptive metadata.

Loading never executes code from the file: safetensors holds only tensors and a
string-to-string metadata table, which is validated before any weight is used.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save_file
from torch import nn

from engine.atomic import write_atomic
from engine.errors import ModelFileError
from engine.modelinfo import MODEL_SUFFIX, ModelInfo, read_model_info
from engine.models import build_generator

log = logging.getLogger(__name__)

__all__ = ["MODEL_SUFFIX", "ModelInfo", "load_generator", "read_model_info", "save_generator"]


def load_generator(path: str | Path) -> tuple[nn.Module, ModelInfo]:
    """Build the generator a model file describes and load its weights, in float32 eval mode.

    Raises:
        ModelFileError: the file is unreadable, its metadata invalid, or its tensors
            do not match the architecture it names.
    """
    path = Path(path)
    info = read_model_info(path)
    model = build_generator(info.architecture, info.width, info.num_classes)
    expected = model.state_dict()
    try:
        with safe_open(str(path), framework="pt") as handle:
            names = set(handle.keys())
            missing = sorted(set(expected) - names)
            unexpected = sorted(names - set(expected))
            if missing or unexpected:
                raise ModelFileError(
                    f"{path}: its tensors do not match a {info.architecture} generator of "
                    f"width {info.width} (missing: {missing[:3]}, unexpected: {unexpected[:3]})"
                )
            state = {}
            for name, reference in expected.items():
                tensor = handle.get_tensor(name)
                if tensor.shape != reference.shape:
                    raise ModelFileError(
                        f"{path}: tensor {name} has shape {tuple(tensor.shape)}, "
                        f"expected {tuple(reference.shape)}"
                    )
                state[name] = tensor.to(reference.dtype)
    except (SafetensorError, OSError) as error:
        raise ModelFileError(f"{path}: reading the weights failed ({error})") from None
    model.load_state_dict(state)
    model.eval()
    for name, tensor in state.items():
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ModelFileError(f"{path}: tensor {name} contains NaN or infinite values")
    log.info("loaded model %r (%s, width %d) from %s", info.name, info.architecture, info.width, path)
    return model, info


def save_generator(
    path: str | Path, model: nn.Module, info: ModelInfo, dtype: torch.dtype = torch.float16
) -> Path:
    """Write a generator's weights (floating tensors cast to ``dtype``) and ``info`` atomically."""
    path = Path(path)
    state = {}
    for name, tensor in model.state_dict().items():
        tensor = tensor.detach().cpu()
        if tensor.is_floating_point():
            tensor = tensor.to(dtype)
        state[name] = tensor.contiguous()
    metadata = info.to_metadata()
    write_atomic(path, lambda temporary: save_file(state, str(temporary), metadata=metadata))
    log.info("saved model %r to %s", info.name, path)
    return path
