"""Turning a training checkpoint into a shipped-format model file."""

from __future__ import annotations

import json
from pathlib import Path

from engine.modelfile import ModelInfo, save_generator
from engine.models import build_generator
from engine.training.checkpoint import load_checkpoint


def export_checkpoint(
    checkpoint: str | Path,
    out_path: str | Path,
    name: str,
    *,
    description: str = "",
    license: str = "",
    training_data: dict | None = None,
    metrics: dict | None = None,
    version: str = "1",
) -> tuple[Path, ModelInfo]:
    """Write the generator of ``checkpoint`` as an fp16 model file with its training facts."""
    state = load_checkpoint(Path(checkpoint))
    recipe = state["recipe"]
    extra = json.loads(state.get("extra", "{}"))
    generator = build_generator(state["architecture"], state["width"], state["num_classes"])
    generator.load_state_dict(state["generator"])
    data = dict(extra.get("training_data", {}))
    data.update(training_data or {})
    data["steps"] = state["step"]
    data["images_seen"] = state["step"] * recipe["batch_size"]
    info = ModelInfo(
        name=name,
        architecture=state["architecture"],
        width=state["width"],
        num_classes=state["num_classes"],
        recipe=recipe["name"],
        version=version,
        description=description,
        license=license,
        hyperparameters=recipe,
        training_data=data,
        metrics=metrics if metrics is not None else dict(state.get("metrics", {})),
        label_centers=extra.get("label_centers"),
    )
    path = save_generator(out_path, generator, info)
    return path, info
