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
    from engine.inference import Colorizer, RenderSettings

    model_path = Path(args.model)
    model_key = model_path.stem
    if not model_path.suffix:
        entry = ModelCatalog().find(args.model)
        if entry is None:
            names = ", ".join(e.key for e in ModelCatalog().entries())
            print(f"error: no model named {args.model!r}; available: {names}", file=sys.stderr)
            return 2
        model_path = entry.path
        model_key = entry.key
    try:
        settings = RenderSettings(
            render_size=args.render_size, strength=args.strength, keep_tone=args.keep_tone,
            tiled=args.tiled, working_size=args.working_size, tile_overlap=args.tile_overlap,
        )
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
            result = colorizer.colorize(load_photo(path), settings)
            written = export_photo(
                result, out_dir, args.name, args.format, args.quality, args.bit_depth, model=model_key
            )
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


def _evaluate(args: argparse.Namespace) -> int:
    from contextlib import nullcontext

    try:
        from tqdm import tqdm
        from tqdm.contrib.logging import logging_redirect_tqdm

        from engine.evaluation import DEFAULT_SPLIT, evaluate, select_photos
        from engine.evaluation_report import markdown_report, per_photo_csv
    except ImportError as error:
        # The packaged app leaves out torchvision, which the FID and LPIPS networks need.
        print(f"error: evaluate needs the package {error.name!r}, which this installation "
              "lacks; install ColorApp from source (pip install -e .) to evaluate models",
              file=sys.stderr)
        return 2

    from engine.atomic import write_atomic
    from engine.catalog import ModelCatalog
    from engine.errors import ColorAppError

    catalog = ModelCatalog()
    model_paths: dict[str, Path] = {}
    for item in args.models:
        path = Path(item)
        if not path.suffix:
            entry = catalog.find(item)
            if entry is None:
                names = ", ".join(e.key for e in catalog.entries())
                print(f"error: no model named {item!r}; available: {names}", file=sys.stderr)
                return 2
            path = entry.path
        # A second file with an already used stem gets its full path as its row name.
        model_paths[str(path) if path.stem in model_paths else path.stem] = path

    data = Path(args.data)
    source = f"{data} (split {args.split or DEFAULT_SPLIT})" if data.suffix.lower() == ".csv" else str(data)
    try:
        files = select_photos(data, args.split, args.limit)
        show_bar = not args.quiet and sys.stderr.isatty()
        bar = tqdm(total=len(files), unit="photo", desc="evaluate", file=sys.stderr, disable=not show_bar)
        with bar, (logging_redirect_tqdm() if show_bar else nullcontext()):
            result = evaluate(
                model_paths, files, device=args.device, batch_size=args.batch_size,
                progress=lambda done, total: bar.update(done - bar.n),
                inception_weights=args.inception_weights, vgg_weights=args.vgg_weights,
                lpips_weights=args.lpips_weights, keep_monochrome=args.keep_monochrome,
            )
    except (ColorAppError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    report = markdown_report(result, source)
    print(report, end="")
    if args.output:
        output = Path(args.output)
        write_atomic(output, lambda temporary: temporary.write_text(report, encoding="utf-8"))
    if args.per_photo:
        rows = per_photo_csv(result)
        write_atomic(Path(args.per_photo), lambda temporary: temporary.write_text(rows, encoding="utf-8"))
    return 0


def _prepare_places(args: argparse.Namespace) -> int:
    from engine.data.places import parse_fractions, prepare_places
    from engine.errors import ColorAppError

    try:
        summary = prepare_places(
            Path(args.root), out=Path(args.out) if args.out else None, seed=args.seed,
            fractions=parse_fractions(args.fractions), workers=args.workers,
            balance_totals=not args.per_class_rounding,
        )
    except (ColorAppError, ValueError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in summary.lines():
        print(line)
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
    colorize.add_argument("--render-size", type=int, default=256,
                          help="side in pixels of the square the whole image is rendered at, "
                               "a multiple of 256 (default 256)")
    colorize.add_argument("--tiled", action="store_true",
                          help="also predict overlapping 256x256 tiles, for finer colour on large scans")
    colorize.add_argument("--working-size", type=int, default=1024,
                          help="long side in pixels that tiled mode works at (default 1024)")
    colorize.add_argument("--tile-overlap", type=int, default=64,
                          help="pixels shared by neighbouring tiles, 0 to 128 (default 64)")
    colorize.add_argument("--keep-tone", action="store_true",
                          help="keep the scan's own overall tint (sepia, say) under the new colours")
    colorize.add_argument("--format", choices=["png", "jpeg", "tiff", "webp"], default="png")
    colorize.add_argument("--quality", type=int, default=95, help="JPEG and WebP quality, 1 to 100")
    colorize.add_argument("--bit-depth", type=int, choices=[8, 16], default=8,
                          help="bits per channel; 16 for PNG and TIFF only (default 8)")
    colorize.add_argument("--name", default="{name}_colorized",
                          help="output name template; fields: {name} (the input's file name stem), "
                               "{model} (the model name), {date} (today, YYYY-MM-DD)")
    colorize.set_defaults(handler=_colorize)

    from engine.training.run import add_train_arguments

    train = commands.add_parser("train", help="train or fine-tune a model")
    add_train_arguments(train)
    train.set_defaults(handler=_train)

    evaluate = commands.add_parser(
        "evaluate", help="measure models against colour photos (FID, SSIM, PSNR, LPIPS)",
        description="Measure models and the grayscale baseline (ab = 0) against colour photos at "
        "256x256: FID, SSIM, PSNR and LPIPS with Lab scaled to [0, 1] (the paper protocol) and "
        "on sRGB, plus colourfulness. Prints a Markdown table with notes. FID and LPIPS read "
        "their weights from the given files or the torch hub cache and never download them; "
        "without them the table says which file is missing and where to put it.",
    )
    evaluate.add_argument("--models", nargs="+", default=["pix2pix"], metavar="NAME_OR_FILE",
                          help="shipped model names or .safetensors files (default pix2pix)")
    evaluate.add_argument("--data", required=True, metavar="DIR_OR_CSV",
                          help="folder of colour photos (searched recursively), or a split CSV "
                               "file written by prepare-places")
    evaluate.add_argument("--split", "--places-split", dest="split", choices=["train", "val", "test"],
                          help="split of a CSV --data to use (default test)")
    evaluate.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    evaluate.add_argument("--batch-size", type=int, default=16, help="photos per batch (default 16)")
    evaluate.add_argument("--limit", type=int, metavar="N",
                          help="use N photos spread evenly over the data (default all)")
    evaluate.add_argument("--inception-weights", type=Path, metavar="PATH",
                          help="InceptionV3 state dict for FID: pytorch-fid's "
                               "pt_inception-2015-12-05-6726825d.pth (standard FID) or torchvision's "
                               "inception_v3_google-0cc3c7bd.pth (default: looked for in the torch hub cache)")
    evaluate.add_argument("--vgg-weights", type=Path, metavar="PATH",
                          help="torchvision's VGG16 state dict for LPIPS, vgg16-397923af.pth "
                               "(default: looked for in the torch hub cache)")
    evaluate.add_argument("--lpips-weights", type=Path, metavar="PATH",
                          help="LPIPS 0.1 linear layers for VGG16, vgg.pth of the lpips package "
                               "(default: lpips_vgg.pth in the torch hub cache, or an installed lpips package)")
    evaluate.add_argument("--keep-monochrome", action="store_true",
                          help="also use grayscale and single-tint photos, which are left out by default "
                               "because they cannot show wrong colours")
    evaluate.add_argument("--quiet", action="store_true",
                          help="no progress bar (there is none either when stderr is not a terminal)")
    evaluate.add_argument("-o", "--output", help="also write the table and its notes to this Markdown file")
    evaluate.add_argument("--per-photo", metavar="CSV",
                          help="also write every photo's figures for each model to this CSV file")
    evaluate.set_defaults(handler=_evaluate)

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

    places = commands.add_parser(
        "prepare-places", help="screen Places205 and write its train/val/test split as a CSV file",
        description="Find the class folders of a Places205 copy, remove grayscale and broken "
        "images, split each class into train, val and test with a fixed seed, and write the "
        "split as a CSV file. Sepia and other single-tint images are kept: only images "
        "that the photo screening calls grayscale (one-channel files, or colour files "
        "with almost no chroma) are removed, as for the Places205 split of Saccaro (2023).",
    )
    places.add_argument("root", help="folder with one sub-folder of images per class, "
                        "flat (ROOT/abbey) or grouped by initial letter (ROOT/a/abbey)")
    places.add_argument("--out", help="CSV file to write (default: ROOT/colorapp_split.csv); "
                        "its paths are relative to ROOT either way")
    places.add_argument("--seed", type=int, default=0, help="seed of the per-class shuffle (default 0)")
    places.add_argument("--fractions", default="0.85,0.05,0.10",
                        help="train,val,test fractions of each class, summing to 1 (default 0.85,0.05,0.10)")
    places.add_argument("--workers", type=int, default=1,
                        help="processes that screen images in parallel (default 1)")
    places.add_argument("--per-class-rounding", action="store_true",
                        help="round each class on its own, so that adding a class later leaves the "
                        "other classes' split unchanged; the split totals can then miss the "
                        "fractions by tens of images")
    places.set_defaults(handler=_prepare_places)
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
