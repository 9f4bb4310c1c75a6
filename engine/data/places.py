"""Places205 for training and evaluation: screening, a stratified split and its CSV file.

The CSV file has one row per kept image, with the columns ``path`` (relative to the
data set root, ``/`` separators), ``class_index`` (0-based, classes sorted by name),
``class_name`` and ``split`` (train, val or test). :func:`prepare_places` writes it
and :func:`load_split` reads one split back as files and labels.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import math
import multiprocessing
import time
from collections import Counter, deque
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from engine.atomic import write_atomic
from engine.data.photo_folder import find_images
from engine.data.screening import Screening, screen_photo
from engine.errors import TrainingError

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.85, 0.05, 0.10)
DEFAULT_CSV_NAME = "colorapp_split.csv"
CSV_COLUMNS = ("path", "class_index", "class_name", "split")
PROGRESS_INTERVAL = 5000
"""Screening logs its progress after every this many images."""
SCREENING_CHUNK = 64
"""Images a worker process screens per task when ``workers`` is above 1."""

# Saccaro (2023) reports these counts for the Places205 10% subset: 238,136 images
# in 205 classes, 162 grayscale images removed, then 202,278 / 11,899 / 23,797 for
# train / val / test. They are the largest-remainder rounding of 85% / 5% / 10% of
# 237,974, and allocate_counts uses the same rule for the split totals.
PAPER_IMAGES = 238_136
PAPER_GRAYSCALE_REMOVED = 162
PAPER_SPLIT_COUNTS = (202_278, 11_899, 23_797)


# Fractions and rounding


def parse_fractions(text: str) -> tuple[float, float, float]:
    """Parse ``"0.85,0.05,0.10"`` into train, val and test fractions and validate them."""
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise ValueError(
            f"invalid fractions {text!r}: expected three numbers such as 0.85,0.05,0.10"
        ) from None
    _exact_fractions(values)
    return values  # type: ignore[return-value]


def _exact_fractions(fractions: Sequence[float]) -> tuple[Fraction, ...]:
    """Validate train, val and test fractions and return them as exact rationals summing to 1."""
    values = tuple(float(value) for value in fractions)
    if len(values) != len(SPLITS):
        raise ValueError(
            f"expected {len(SPLITS)} fractions (train, val, test), got {len(values)}: {values}"
        )
    for name, value in zip(SPLITS, values):
        if not math.isfinite(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"invalid {name} fraction {value}: each fraction must be between 0 and 1")
    if values[0] == 0.0:
        raise ValueError("invalid train fraction 0: every class needs at least one training image")
    if abs(sum(values) - 1.0) > 1e-6:
        raise ValueError(f"fractions {values} sum to {sum(values):.6g}, but they must sum to 1")

    # Exact rationals make 0.85 * 20 exactly 17, not 16.999... The test fraction
    # takes up the rounding slack, so the three sum to exactly 1.
    exact = [Fraction(value).limit_denominator(1_000_000) for value in values[:-1]]
    exact.append(1 - sum(exact))
    if exact[-1] < 0:
        raise ValueError(f"fractions {values} sum to more than 1")
    return tuple(exact)


def _largest_remainder(total: int, fractions: Sequence[Fraction]) -> list[int]:
    """Round ``total * fractions`` to integers that sum to ``total`` (Hamilton's method)."""
    quotas = [total * fraction for fraction in fractions]
    counts = [math.floor(quota) for quota in quotas]
    by_remainder = sorted(range(len(quotas)), key=lambda s: (-(quotas[s] - counts[s]), s))
    for s in by_remainder[: total - sum(counts)]:
        counts[s] += 1
    return counts


def allocate_counts(
    class_sizes: Mapping[str, int],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    balance_totals: bool = True,
) -> dict[str, tuple[int, int, int]]:
    """Return each class's (train, val, test) image counts.

    Every count is its quota ``size * fraction`` rounded down or up, except that a
    class with any images keeps at least one in train. With ``balance_totals`` the
    round-ups are shared out so that each split's total is the largest-remainder
    rounding of ``sum(sizes) * fraction`` whenever such an assignment exists.
    Otherwise a split goes one image over its target for each class that finds no
    room, which only tiny classes that must keep a training image cause. Classes
    then depend on each other: adding a class can move a round-up of another class
    from one split to another. Without ``balance_totals`` each class is rounded
    alone (largest remainder within the class), so its counts depend only on its
    size, but the totals drift: about 10 to 30 extra train images for 205 classes
    of about 1,160 images each.
    """
    exact = _exact_fractions(fractions)
    for name, size in class_sizes.items():
        if size < 0:
            raise ValueError(f"class {name!r} has a negative size {size}")
    names = sorted(class_sizes)
    splits = range(len(SPLITS))

    quotas = {name: [class_sizes[name] * fraction for fraction in exact] for name in names}
    counts = {name: [math.floor(quota) for quota in quotas[name]] for name in names}
    for name in names:
        # A class with a train quota below 1 still gets one training image. That quota
        # is above 0, so the count stays a rounding up of it.
        if class_sizes[name] > 0 and counts[name][0] == 0:
            counts[name][0] = 1

    # Cells whose quota has a fractional part may still be rounded up by one image.
    open_splits = {name: [s for s in splits if counts[name][s] < quotas[name][s]] for name in names}
    missing = {name: class_sizes[name] - sum(counts[name]) for name in names}
    if balance_totals:
        targets = _largest_remainder(sum(class_sizes.values()), exact)
        room = [targets[s] - sum(counts[name][s] for name in names) for s in splits]
    else:
        room = [math.inf] * len(SPLITS)

    round_ups = _assign_round_ups(names, quotas, counts, open_splits, missing, room)
    for name in names:
        for s in round_ups[name]:
            counts[name][s] += 1
    return {name: tuple(counts[name]) for name in names}  # type: ignore[misc]


def _assign_round_ups(names, quotas, counts, open_splits, missing, room) -> dict[str, set[int]]:
    """Choose which cells round up: each class gets ``missing[name]`` of its open splits.

    Largest fractional parts go first while the split has room left. When a class
    finds no split with room, other classes move their round-ups along an augmenting
    path (as in bipartite matching) to free one. Only when no such path exists does a
    split go over its target.
    """
    chosen: dict[str, set[int]] = {name: set() for name in names}
    cells = [(name, s) for name in names for s in open_splits[name]]
    cells.sort(key=lambda cell: (-(quotas[cell[0]][cell[1]] - counts[cell[0]][cell[1]]), cell))
    for name, s in cells:
        if len(chosen[name]) < missing[name] and room[s] > 0:
            chosen[name].add(s)
            room[s] -= 1

    for name in names:
        while len(chosen[name]) < missing[name]:
            if _augment(name, names, chosen, open_splits, room):
                continue
            unused_splits = [s for s in open_splits[name] if s not in chosen[name]]
            s = max(unused_splits, key=lambda s: (quotas[name][s] - counts[name][s], -s))
            log.info("split %s goes one image over its target to round class %s", SPLITS[s], name)
            chosen[name].add(s)
            room[s] -= 1
    return chosen


def _augment(start, names, chosen, open_splits, room) -> bool:
    """Give ``start`` one more round-up by moving others' round-ups along a breadth-first path."""
    came_from: dict[str, tuple[str, int] | None] = {start: None}
    queue = deque([start])
    while queue:
        name = queue.popleft()
        for s in open_splits[name]:
            if s in chosen[name]:
                continue
            if room[s] > 0:
                room[s] -= 1
                _apply_path(name, s, came_from, chosen)
                return True
            for holder in names:
                if holder not in came_from and s in chosen[holder]:
                    # The holder would hand split s to `name` and round up elsewhere.
                    came_from[holder] = (name, s)
                    queue.append(holder)
    return False


def _apply_path(name, split, came_from, chosen) -> None:
    chosen[name].add(split)
    while came_from[name] is not None:
        receiver, handed_over = came_from[name]
        chosen[name].remove(handed_over)
        chosen[receiver].add(handed_over)
        name = receiver


# Splitting


def _shuffle_key(seed: int, class_name: str, name: str) -> str:
    # A keyed hash replaces random.shuffle, because Python keeps only random.random()
    # stable across versions. The order depends on the seed, class and file name alone.
    return hashlib.sha256(f"{seed}\x1f{class_name}\x1f{name}".encode()).hexdigest()


def split_classes(
    class_files: Mapping[str, Sequence[str]],
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
    balance_totals: bool = True,
) -> dict[str, dict[str, list[str]]]:
    """Split each class's file names into ``{"train": [...], "val": [...], "test": [...]}``.

    Each class is put in a pseudo-random order seeded by (seed, class name), and the
    first names of that order go to train, the next to val, the rest to test, in
    the numbers :func:`allocate_counts` returns.
    """
    for class_name, names in class_files.items():
        if len(set(names)) != len(names):
            duplicate = next(name for name, n in Counter(names).items() if n > 1)
            raise ValueError(f"class {class_name!r} lists {duplicate!r} more than once")
    counts = allocate_counts(
        {class_name: len(names) for class_name, names in class_files.items()},
        fractions,
        balance_totals,
    )

    result = {}
    for class_name in sorted(class_files):
        ordered = sorted(class_files[class_name], key=lambda name: (_shuffle_key(seed, class_name, name), name))
        train, val, _ = counts[class_name]
        result[class_name] = {
            "train": ordered[:train],
            "val": ordered[train : train + val],
            "test": ordered[train + val :],
        }
    return result


# Finding and screening images


def find_classes(root: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """Return (class name -> sorted image paths, images outside any class folder).

    A class is a folder under ``root`` that directly contains images, and its name is
    its path relative to ``root`` with ``/`` separators (``abbey`` or ``a/abbey``).
    Hidden files and folders are skipped.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: folder not found")
    classes: dict[str, list[Path]] = {}
    outside = []
    for path in find_images(root):
        folder = path.parent.relative_to(root).as_posix()
        if folder == ".":
            outside.append(path)
        else:
            classes.setdefault(folder, []).append(path)
    return {name: sorted(classes[name]) for name in sorted(classes)}, outside


def _limit_torch_threads() -> None:
    # Each worker process screens one image at a time, so more torch threads per
    # process would only compete with the other workers for the cores.
    import torch

    torch.set_num_threads(1)


def screen_images(paths: Sequence[Path], workers: int = 1) -> Iterator[Screening]:
    """Yield :func:`screen_photo`'s result for each path, in the order of ``paths``.

    With ``workers`` above 1 a pool of that many processes screens the images.
    """
    if workers < 1:
        raise ValueError(f"invalid worker count {workers}: use 1 or more")
    if workers == 1:
        for path in paths:
            yield screen_photo(path)
        return
    # "spawn" starts clean interpreters, so no torch thread pool of this process is
    # copied into a forked child, and Linux, macOS and Windows all support it. A worker
    # that dies, or cannot import a main module read from stdin, raises BrokenProcessPool.
    executor = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("spawn"), initializer=_limit_torch_threads
    )
    try:
        yield from executor.map(screen_photo, paths, chunksize=SCREENING_CHUNK)
    except BrokenProcessPool as error:
        raise TrainingError(
            f"a screening worker process stopped unexpectedly ({error}). Screen with one "
            "worker (workers=1, or --workers 1) to see the error in this process"
        ) from error
    finally:
        executor.shutdown(wait=True, cancel_futures=True)


def _screen_with_progress(paths: list[Path], workers: int) -> Iterator[Screening]:
    started = time.monotonic()
    log.info("screening %d images with %d worker(s)", len(paths), workers)
    for done, result in enumerate(screen_images(paths, workers), start=1):
        yield result
        if done % PROGRESS_INTERVAL == 0 and done < len(paths):
            rate = done / max(time.monotonic() - started, 1e-9)
            remaining_minutes = (len(paths) - done) / rate / 60
            log.info(
                "screened %d of %d images (%.0f per second, about %.0f min left)",
                done, len(paths), rate, remaining_minutes,
            )
    log.info("screened %d images in %.0f s", len(paths), time.monotonic() - started)


# Preparing the CSV file


@dataclass(frozen=True)
class PlacesSummary:
    """Result of :func:`prepare_places`: the CSV path and the image counts behind it."""

    csv_path: Path
    root: Path
    classes: int
    images_found: int
    removed: dict[str, int] = field(default_factory=dict)
    """Images left out, by reason: grayscale, broken, too small, not in a class folder."""
    single_tint_kept: int = 0
    """Sepia or other single-tint images, which stay in the data set."""
    split_counts: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """Describe the result as lines for a terminal."""
        removed = ", ".join(f"{count} {reason}" for reason, count in self.removed.items())
        splits = ", ".join(f"{name} {self.split_counts.get(name, 0)}" for name in SPLITS)
        lines = [
            f"wrote {self.csv_path}",
            f"{self.classes} classes, {self.images_found} images found",
            f"removed: {removed}",
            f"kept {self.single_tint_kept} single-tint (sepia) images",
            f"split: {splits}",
        ]
        if self.csv_path.resolve().parent != self.root.resolve():
            lines.append(f"paths in the CSV file are relative to {self.root}; pass it as the root when loading")
        return lines


def prepare_places(
    root: Path,
    out: Path | None = None,
    seed: int = 0,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    workers: int = 1,
    balance_totals: bool = True,
) -> PlacesSummary:
    """Screen a Places205-style folder, split it by class and write the split CSV file.

    Grayscale and broken images (and images under the screening's minimum size) are
    left out. Single-tint images such as sepia are kept, because only grayscale
    images were removed for the Places205 split of Saccaro (2023). ``out`` defaults
    to ``root / "colorapp_split.csv"`` and is replaced atomically.
    """
    root = Path(root)
    out = Path(out) if out is not None else root / DEFAULT_CSV_NAME
    _exact_fractions(fractions)
    if workers < 1:
        raise ValueError(f"invalid worker count {workers}: use 1 or more")

    classes, outside = find_classes(root)
    for path in outside:
        log.warning("skipping %s: not in a class folder", path)
    if not classes:
        raise TrainingError(f"{root}: no class folders with images found; expected ROOT/CLASS/*.jpg")
    paths = [path for files in classes.values() for path in files]
    log.info("%s: %d images in %d class folders", root, len(paths), len(classes))

    # NOTE: "grayscale" is the screening's verdict (a one-channel mode, or mean chroma
    # below GRAYSCALE_CHROMA). Saccaro (2023) does not state its rule, so the count
    # on the full data set may differ from its 162.
    removed: Counter[str] = Counter({"grayscale": 0, "broken": 0, "too small": 0})
    removed["not in a class folder"] = len(outside)
    usable_paths = set()
    single_tint_kept = 0
    for result in _screen_with_progress(paths, workers):
        if result.usable or result.reason == "sepia":
            usable_paths.add(result.path)
            single_tint_kept += result.reason == "sepia"
            continue
        removed[result.reason] += 1
        if result.reason == "grayscale":
            log.debug("removing %s: grayscale (%s)", result.path, result.detail)
        else:
            log.warning("skipping %s: %s (%s)", result.path, result.reason, result.detail)

    class_files = {}
    for name, files in classes.items():
        relative = [path.relative_to(root).as_posix() for path in files if path in usable_paths]
        if relative:
            class_files[name] = relative
        else:
            log.warning("leaving out class %s: none of its %d images is usable", name, len(files))
    if not class_files:
        raise TrainingError(f"{root}: no usable colour images found")

    split = split_classes(class_files, fractions, seed, balance_totals)
    rows = []
    for index, name in enumerate(sorted(class_files)):
        for split_name in SPLITS:
            rows.extend((path, index, name, split_name) for path in split[name][split_name])
    rows.sort(key=lambda row: (row[1], row[0]))
    _write_csv(out, rows)
    split_counts = Counter(row[3] for row in rows)
    log.info(
        "wrote %s: %s", out, ", ".join(f"{name} {split_counts[name]}" for name in SPLITS)
    )
    return PlacesSummary(
        csv_path=out,
        root=root,
        classes=len(class_files),
        images_found=len(paths) + len(outside),
        removed=dict(removed),
        single_tint_kept=single_tint_kept,
        split_counts={name: split_counts[name] for name in SPLITS},
    )


def _write_csv(target: Path, rows: list[tuple[str, int, str, str]]) -> None:
    def write(temporary: Path) -> None:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(CSV_COLUMNS)
            writer.writerows(rows)

    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, write)


# Reading the CSV file


class SplitFiles(NamedTuple):
    """One split of a split CSV file: image files, their class indices, and all class names."""

    files: list[Path]
    labels: list[int]
    class_names: list[str]
    """Indexed by label; covers the classes of every split in the file."""


def load_split(csv_path: Path, split: str, root: Path | None = None) -> SplitFiles:
    """Read the ``split`` rows of a CSV file written by :func:`prepare_places`.

    Paths resolve against ``root``, by default the CSV file's folder. The files are
    not opened, so a file deleted since then shows up only when it is loaded.
    Raises TrainingError for an unknown split name, a missing file or a malformed row.
    """
    if split not in SPLITS:
        raise TrainingError(f"unknown split {split!r}: use one of {', '.join(SPLITS)}")
    csv_path = Path(csv_path)
    root = Path(root) if root is not None else csv_path.parent
    rows, class_names = _read_split_csv(csv_path)
    files = [root / path for path, _, row_split in rows if row_split == split]
    labels = [index for _, index, row_split in rows if row_split == split]
    if not files:
        log.warning("%s: the %s split is empty", csv_path, split)
    return SplitFiles(files, labels, class_names)


def _read_split_csv(csv_path: Path) -> tuple[list[tuple[str, int, str]], list[str]]:
    """Return ((path, class index, split) rows, class names by index) of a split CSV file."""
    fix = "Write it again with 'colorapp-engine prepare-places ROOT'."
    reader = None
    try:
        with open(csv_path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, None)
            if header is None or tuple(header) != CSV_COLUMNS:
                raise TrainingError(
                    f"{csv_path}: line 1: expected the header {','.join(CSV_COLUMNS)}, "
                    f"found {header!r}. {fix}"
                )
            rows = []
            names_by_index: dict[int, str] = {}
            seen_paths = set()
            for values in reader:
                if not values:
                    continue
                path, index, class_name, split = _parse_row(values)  # ValueError: malformed
                if path in seen_paths:
                    raise ValueError(f"path {path!r} appears twice")
                if names_by_index.setdefault(index, class_name) != class_name:
                    raise ValueError(
                        f"class index {index} is {class_name!r} here but {names_by_index[index]!r} before"
                    )
                seen_paths.add(path)
                rows.append((path, index, split))
    except FileNotFoundError:
        raise TrainingError(f"{csv_path}: split file not found. {fix}") from None
    except OSError as error:
        raise TrainingError(f"{csv_path}: reading the split file failed ({error}).") from None
    except UnicodeDecodeError as error:
        raise TrainingError(f"{csv_path}: not a UTF-8 text file ({error}). {fix}") from None
    except (ValueError, csv.Error) as error:
        line = reader.line_num if reader is not None else 1
        raise TrainingError(f"{csv_path}: line {line}: {error}. {fix}") from None

    missing = sorted(set(range(len(names_by_index))) - set(names_by_index))
    if missing:
        raise TrainingError(f"{csv_path}: class indices are not 0 to {len(names_by_index) - 1}: "
                            f"{missing[0]} is missing. {fix}")
    class_names = [names_by_index[index] for index in range(len(names_by_index))]
    if len(set(class_names)) != len(class_names):
        duplicate = next(name for name, n in Counter(class_names).items() if n > 1)
        raise TrainingError(f"{csv_path}: class {duplicate!r} has more than one class index. {fix}")
    return rows, class_names


def _parse_row(values: list[str]) -> tuple[str, int, str, str]:
    if len(values) != len(CSV_COLUMNS):
        raise ValueError(f"expected {len(CSV_COLUMNS)} columns, found {len(values)}")
    path, index_text, class_name, split = values
    relative = PurePosixPath(path)
    if not path or relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"invalid path {path!r}: expected a path relative to the data set root")
    try:
        index = int(index_text)
    except ValueError:
        raise ValueError(f"invalid class index {index_text!r}: expected an integer") from None
    if index < 0:
        raise ValueError(f"invalid class index {index}: expected 0 or more")
    if not class_name:
        raise ValueError("empty class name")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}: expected one of {', '.join(SPLITS)}")
    return path, index, class_name, split
