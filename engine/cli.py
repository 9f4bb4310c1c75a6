"""The ``colorapp-engine`` command line: colorize, train and export models."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from pathlib import Path

log = logging.getLogger("engine.cli")


def _colorize(args: argparse.Namespace) -> int:
    from engine.catalog import ModelCatalog
    from engine.data.photo_folder import find_images
    from engine.errors import ColorAppError
    from engine.export import export_photo
    from engine.imaging import load_photo
    from engine.inference import Colorizer

    model_path = Path(args.model)
    if not model_path.suffix:
        entry = ModelCatalog().find(args.model)
        if entry is None:
            names = ", ".join(e.key for e in ModelCatalog().entries())
            print(f"error: no model named {args.model!r}; available: {names}", file=sys.stderr)
            return 2
        model_path = entry.path
    try:
        colorizer = Colorizer(model_path, device=args.device)
    except (ColorAppError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    inputs: list[Path] = []
    for item in args.inputs:
        item = Path(item)
        inputs.extend(find_images(item) if item.is_dir() else [item])
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    for path in inputs:
        try:
            result = colorizer.colorize(load_photo(path), strength=args.strength)
            written = export_photo(result, out_dir, args.name, args.format, args.quality)
        except ColorAppError as error:
            failures += 1
            print(f"failed: {error}", file=sys.stderr)
            continue
        print(written)
    if failures:
        print(f"{failures} of {len(inputs)} inputs failed", file=sys.stderr)
    return 1 if failures else 0


def _train(args: argparse.Namespace) -> int:
    from engine.training.run import run_training

    return run_training(args)


def _export(args: argparse.Namespace) -> int:
    import json

    from engine.modelcard import write_card
    from engine.modelfile import load_generator
    from engine.training.export import export_checkpoint

    metrics = json.loads(args.metrics) if args.metrics else None
    training_data = json.loads(args.training_data) if args.training_data else None
    path, info = export_checkpoint(
        args.checkpoint, args.output, args.name, description=args.description,
        license=args.license, metrics=metrics, training_data=training_data,
    )
    model, _ = load_generator(path)
    notes = Path(args.notes).read_text(encoding="utf-8") if args.notes else ""
    write_card(path, info, sum(p.numel() for p in model.parameters()), notes)
    print(f"{path}: {info.architecture} width {info.width}, step {info.training_data.get('steps')}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="colorapp-engine", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    commands = parser.add_subparsers(dest="command", required=True)

    colorize = commands.add_parser("colorize", help="colourize photos into a folder")
    colorize.add_argument("inputs", nargs="+", help="image files or folders (searched recursively)")
    colorize.add_argument("-o", "--output", required=True, help="output folder (created if missing)")
    colorize.add_argument("--model", default="pix2pix",
                          help="shipped model name (pix2pix, ...) or a .safetensors file")
    colorize.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    colorize.add_argument("--strength", type=float, default=1.0, help="colour strength, 0 to 1.5")
    colorize.add_argument("--format", choices=["png", "jpeg"], default="png")
    colorize.add_argument("--quality", type=int, default=95, help="JPEG quality, 1 to 100")
    colorize.add_argument("--name", default="{name}_colorized",
                          help="output name template; {name} is the input's file name stem")
    colorize.set_defaults(handler=_colorize)

    from engine.training.run import add_train_arguments

    train = commands.add_parser("train", help="train or fine-tune a model")
    add_train_arguments(train)
    train.set_defaults(handler=_train)

    export = commands.add_parser("export", help="write a checkpoint's generator as a model file")
    export.add_argument("checkpoint", help="a step_*.pt or last.pt file, or a run folder")
    export.add_argument("-o", "--output", required=True, help="model file to write (.safetensors)")
    export.add_argument("--name", required=True, help="display name of the model")
    export.add_argument("--description", default="", help="one-paragraph summary")
    export.add_argument("--license", default="", help="licence of the weights")
    export.add_argument("--metrics", default="", help="JSON object of validation figures")
    export.add_argument("--training-data", default="",
                        help="JSON object of training-data facts to add to the checkpoint's")
    export.add_argument("--notes", help="Markdown file appended to the model card (weaknesses, sources)")
    export.set_defaults(handler=_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    signal.signal(signal.SIGPIPE, signal.SIG_DFL) if hasattr(signal, "SIGPIPE") else None
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
