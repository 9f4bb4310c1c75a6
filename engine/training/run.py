"""``colorapp-engine train``: argument parsing and wiring of data, recipe and trainer."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import signal
from pathlib import Path

import torch

from engine.errors import ColorAppError
from engine.training.recipes import RECIPES, get_recipe

log = logging.getLogger(__name__)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", choices=sorted(RECIPES), default="pix2pix", help="training recipe")
    parser.add_argument("--data", required=True,
                        help="folder of colour photos (searched recursively), or a split CSV from prepare-places")
    parser.add_argument("--val", help="folder of validation photos; default: hold out 5%% of --data")
    parser.add_argument("--out", required=True, help="run folder for checkpoints and metrics")
    parser.add_argument("--width", type=int, default=16, help="generator width (64 is the paper's)")
    parser.add_argument("--num-classes", type=int, default=None, help="class count for class recipes")
    parser.add_argument("--batch-size", type=int, help="images per step (recipe default 8)")
    parser.add_argument("--epochs", type=int, help="passes over the data (recipe default 30)")
    parser.add_argument("--max-steps", type=int, help="stop after this many generator steps")
    parser.add_argument("--lr", type=float, help="learning rate of both networks")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override any recipe field, e.g. --set reconstruction_weight=50")
    parser.add_argument("--resume", nargs="?", const="auto", default=None,
                        help="resume from the run folder's last checkpoint, or from a given file")
    parser.add_argument("--init-model", help="model file to fine-tune from")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint-every", type=int, default=500, help="steps between checkpoints")
    parser.add_argument("--validate-every", type=int, default=500, help="steps between validations")
    parser.add_argument("--keep", type=int, default=0, help="step checkpoints to keep (0: all)")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for torch (0: default)")
    parser.add_argument("--workers", type=int, default=0, help="data loader worker processes")
    parser.add_argument("--cache", metavar="DIR",
                        help="decode the training images once into a memory-mapped array in DIR")


def _coerce(recipe, field: str, text: str):
    fields = {f.name: f for f in dataclasses.fields(recipe)}
    if field not in fields:
        raise ValueError(f"unknown recipe field {field!r}; known: {sorted(fields)}")
    current = getattr(recipe, field)
    if isinstance(current, bool):
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(f"{field} takes true or false, got {text!r}")
        return text.lower() in ("true", "1")
    return type(current)(text)


def build_recipe(args: argparse.Namespace):
    recipe = get_recipe(args.recipe)
    overrides = {}
    for item in args.set:
        field, _, text = item.partition("=")
        overrides[field.strip()] = _coerce(recipe, field.strip(), text.strip())
    if args.batch_size is not None:
        overrides["batch_size"] = args.batch_size
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.lr is not None:
        overrides["generator_lr"] = overrides["discriminator_lr"] = args.lr
    return recipe.replace(**overrides)


def run_training(args: argparse.Namespace) -> int:
    from engine.data.datasets import build_datasets
    from engine.training.callbacks import LoggingCallback
    from engine.training.distributed import init_from_environment
    from engine.training.trainer import Trainer

    if args.threads:
        torch.set_num_threads(args.threads)
    distributed = init_from_environment(args.device)
    try:
        recipe = build_recipe(args)
        data = build_datasets(
            Path(args.data), Path(args.val) if args.val else None, recipe, args.num_classes,
            args.init_model, args.seed,
        )
        train_set = data.train
        if args.cache:
            from engine.data.cache import CachedDataset

            train_set = CachedDataset(train_set, args.cache)
        trainer = Trainer(
            recipe,
            train_set,
            args.out,
            width=args.width,
            num_classes=data.num_classes,
            val_set=data.val,
            init_model=args.init_model,
            device=args.device,
            seed=args.seed,
            max_steps=args.max_steps,
            checkpoint_every=args.checkpoint_every,
            validate_every=args.validate_every,
            keep_checkpoints=args.keep,
            callbacks=[LoggingCallback()],
            num_workers=args.workers,
            extra_state=data.extra_state,
            distributed=distributed,
        )
    except (ColorAppError, ValueError, FileNotFoundError) as error:
        log.error("%s", error)
        return 2

    resume = None
    if args.resume == "auto":
        last = Path(args.out) / "checkpoints" / "last.pt"
        resume = last if last.exists() else None
        if resume is None:
            log.info("no checkpoint in %s yet; starting a new run", args.out)
    elif args.resume:
        resume = Path(args.resume)

    def stop(signum, frame):
        log.warning("interrupt received: stopping after this step and saving a checkpoint "
                    "(press Ctrl-C again to abort without saving)")
        trainer.request_stop()
        signal.signal(signal.SIGINT, signal.default_int_handler)

    signal.signal(signal.SIGINT, stop)
    try:
        reason = trainer.fit(resume=resume)
    except ColorAppError as error:
        log.error("%s", error)
        return 1
    log.info("run %s; resume with --resume, export with 'colorapp-engine export %s/checkpoints/last.pt'",
             reason, args.out)
    return 0 if reason == "finished" else 130
