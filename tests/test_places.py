"""Places205 preparation: class discovery, screening, the stratified split and its CSV file."""

from __future__ import annotations

import csv
import math
import random
import shutil
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.cli import main
from engine.data.places import (
    DEFAULT_CSV_NAME,
    PAPER_GRAYSCALE_REMOVED,
    PAPER_IMAGES,
    PAPER_SPLIT_COUNTS,
    SPLITS,
    allocate_counts,
    find_classes,
    load_split,
    parse_fractions,
    prepare_places,
    split_classes,
)
from engine.errors import TrainingError

# Colour images per class; the special files below come on top of these.
NESTED_CLASSES = {
    "a/abbey": 20,
    "a/airport_terminal": 24,
    "b/bedroom": 28,
    "b/bridge": 32,
    "c/canyon": 36,
    "c/coast": 40,
}
GRAYSCALE_FILES = ["a/abbey/gray_1.jpg", "a/abbey/gray_2.jpg", "c/coast/gray_rgb.png"]
BROKEN_FILE = "b/bridge/broken.jpg"
SEPIA_FILE = "c/canyon/sepia.png"
FLAT_CLASSES = {"abbey": 20, "bedroom": 20, "coast": 20}


def _colour_image(rng: np.random.Generator) -> Image.Image:
    """A 64x64 RGB image of 8x8-pixel blocks, each a random colour."""
    blocks = rng.integers(0, 256, size=(8, 8, 3), dtype=np.uint8)
    return Image.fromarray(blocks).resize((64, 64), Image.Resampling.NEAREST)


def _gray_image(rng: np.random.Generator, low: int = 0, high: int = 256) -> Image.Image:
    """A 64x64 mode L image of 8x8-pixel blocks, each a random gray level."""
    blocks = rng.integers(low, high, size=(8, 8), dtype=np.uint8)
    return Image.fromarray(blocks).resize((64, 64), Image.Resampling.NEAREST)


def _sepia_image(rng: np.random.Generator) -> Image.Image:
    """Gray blocks with one brown tint: the screening calls it sepia, not grayscale."""
    lightness = np.asarray(_gray_image(rng, 120, 160), dtype=np.float32)
    tinted = np.stack([lightness, lightness * 0.9, lightness * 0.75], axis=-1)
    return Image.fromarray(tinted.astype(np.uint8))


def _write_colour_class(root: Path, class_name: str, count: int, seed: int) -> list[Path]:
    folder = root / class_name
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = []
    for index in range(count):
        path = folder / f"{index:03d}.jpg"
        _colour_image(rng).save(path, quality=90)
        paths.append(path)
    return paths


def _build_nested_tree(root: Path) -> None:
    for seed, (class_name, count) in enumerate(NESTED_CLASSES.items()):
        _write_colour_class(root, class_name, count, seed)
    rng = np.random.default_rng(100)
    _gray_image(rng).save(root / GRAYSCALE_FILES[0])
    _gray_image(rng).save(root / GRAYSCALE_FILES[1])
    _gray_image(rng).convert("RGB").save(root / GRAYSCALE_FILES[2])
    _sepia_image(rng).save(root / SEPIA_FILE)
    (root / BROKEN_FILE).write_bytes(b"this is not a JPEG file")
    _colour_image(rng).save(root / "a" / "abbey" / ".hidden.jpg")
    _colour_image(rng).save(root / "stray.jpg")


@pytest.fixture(scope="module")
def nested_root(tmp_path_factory) -> Path:
    """Places205 grouped by initial letter, with grayscale, sepia, broken, hidden and stray files."""
    root = tmp_path_factory.mktemp("places_nested")
    _build_nested_tree(root)
    return root


@pytest.fixture(scope="module")
def nested_split(nested_root):
    """(summary, CSV rows as dicts) of the nested tree prepared with the defaults."""
    summary = prepare_places(nested_root)
    with open(summary.csv_path, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return summary, rows


@pytest.fixture
def flat_root(tmp_path) -> Path:
    root = tmp_path / "places_flat"
    for seed, (class_name, count) in enumerate(FLAT_CLASSES.items()):
        _write_colour_class(root, class_name, count, seed)
    return root


def _usable_nested_paths() -> set[str]:
    paths = {
        f"{class_name}/{index:03d}.jpg"
        for class_name, count in NESTED_CLASSES.items()
        for index in range(count)
    }
    return paths | {SEPIA_FILE}


def _check_within_rounding(size: int, counts, fractions) -> None:
    for split, count, fraction in zip(SPLITS, counts, fractions):
        quota = size * Fraction(fraction).limit_denominator(1000)
        low = max(math.floor(quota), 1) if split == "train" else math.floor(quota)
        assert low <= count <= math.ceil(quota), f"{split}: {count} images for a quota of {float(quota)}"


# Finding classes


def test_find_classes_nested_layout(nested_root):
    classes, outside = find_classes(nested_root)

    assert list(classes) == sorted(NESTED_CLASSES)
    assert [path.name for path in outside] == ["stray.jpg"]
    abbey = [path.name for path in classes["a/abbey"]]
    assert ".hidden.jpg" not in abbey
    assert len(abbey) == NESTED_CLASSES["a/abbey"] + 2


def test_find_classes_flat_layout(flat_root):
    classes, outside = find_classes(flat_root)

    assert list(classes) == ["abbey", "bedroom", "coast"]
    assert outside == []
    assert all(len(classes[name]) == 20 for name in classes)


def test_find_classes_missing_root(tmp_path):
    with pytest.raises(FileNotFoundError, match="folder not found"):
        find_classes(tmp_path / "missing")


# Screening and the CSV file


def test_prepare_removes_grayscale_and_broken(nested_root, nested_split):
    summary, rows = nested_split
    paths = {row["path"] for row in rows}

    assert summary.csv_path == nested_root / DEFAULT_CSV_NAME
    assert summary.removed == {"grayscale": 3, "broken": 1, "too small": 0, "not in a class folder": 1}
    assert summary.single_tint_kept == 1
    assert summary.images_found == sum(NESTED_CLASSES.values()) + 6
    assert SEPIA_FILE in paths
    assert BROKEN_FILE not in paths
    for gray in GRAYSCALE_FILES:
        assert gray not in paths


def test_prepare_lists_every_image_once(nested_split):
    _, rows = nested_split
    paths = [row["path"] for row in rows]

    assert len(paths) == len(set(paths))
    assert set(paths) == _usable_nested_paths()


def test_csv_columns_and_class_indices(nested_root, nested_split):
    _, rows = nested_split
    with open(nested_root / DEFAULT_CSV_NAME, encoding="utf-8") as handle:
        header = handle.readline().strip()

    assert header == "path,class_index,class_name,split"
    names = sorted(NESTED_CLASSES)
    for row in rows:
        assert row["class_name"] == row["path"].rsplit("/", 1)[0]
        assert int(row["class_index"]) == names.index(row["class_name"])
        assert row["split"] in SPLITS


def test_split_stratified_by_class(nested_split):
    summary, rows = nested_split
    per_class: dict[str, list[int]] = {}
    for row in rows:
        per_class.setdefault(row["class_name"], [0, 0, 0])[SPLITS.index(row["split"])] += 1

    assert sorted(per_class) == sorted(NESTED_CLASSES)
    for class_name, counts in per_class.items():
        _check_within_rounding(sum(counts), counts, (0.85, 0.05, 0.10))
    assert summary.split_counts == {"train": 154, "val": 9, "test": 18}


def test_same_seed_same_csv(nested_root, nested_split, tmp_path):
    summary, _ = nested_split
    again = prepare_places(nested_root, out=tmp_path / "again.csv", seed=0)
    other = prepare_places(nested_root, out=tmp_path / "other.csv", seed=1)

    assert again.csv_path.read_bytes() == summary.csv_path.read_bytes()
    assert other.csv_path.read_bytes() != summary.csv_path.read_bytes()
    assert other.split_counts == summary.split_counts


def test_worker_pool_same_csv(nested_root, nested_split, tmp_path):
    summary, _ = nested_split
    pooled = prepare_places(nested_root, out=tmp_path / "pooled.csv", workers=2)

    assert pooled.csv_path.read_bytes() == summary.csv_path.read_bytes()
    assert pooled.removed == summary.removed


def test_new_class_keeps_existing_split(nested_root, tmp_path):
    root = tmp_path / "places"
    shutil.copytree(nested_root, root)
    before = prepare_places(root, out=tmp_path / "before.csv", balance_totals=False)
    _write_colour_class(root, "b/beach", 33, seed=50)
    after = prepare_places(root, out=tmp_path / "after.csv", balance_totals=False)

    def splits_by_path(summary):
        with open(summary.csv_path, encoding="utf-8", newline="") as handle:
            return {row["path"]: row["split"] for row in csv.DictReader(handle)}

    old, new = splits_by_path(before), splits_by_path(after)
    assert after.classes == before.classes + 1
    assert {path: new[path] for path in old} == old
    assert sum(path.startswith("b/beach/") for path in new) == 33


def test_prepare_rejects_root_without_classes(tmp_path):
    _colour_image(np.random.default_rng(0)).save(tmp_path / "lonely.jpg")

    with pytest.raises(TrainingError, match="no class folders"):
        prepare_places(tmp_path)


# Reading the CSV file


def test_load_split_round_trip(nested_root, nested_split):
    _, rows = nested_split
    csv_path = nested_root / DEFAULT_CSV_NAME
    seen = []
    for split in SPLITS:
        files, labels, class_names = load_split(csv_path, split)

        assert class_names == sorted(NESTED_CLASSES)
        assert len(files) == len(labels) == sum(row["split"] == split for row in rows)
        for path, label in zip(files, labels):
            assert path.is_file()
            assert path.parent.relative_to(nested_root).as_posix() == class_names[label]
        seen.extend(path.relative_to(nested_root).as_posix() for path in files)

    assert sorted(seen) == sorted(row["path"] for row in rows)


def test_load_split_with_root_elsewhere(flat_root, tmp_path):
    out = tmp_path / "splits" / "places.csv"
    summary = prepare_places(flat_root, out=out)
    files, labels, class_names = load_split(out, "train", root=flat_root)

    assert any("relative to" in line for line in summary.lines())
    assert class_names == ["abbey", "bedroom", "coast"]
    assert len(files) == summary.split_counts["train"] == 51
    assert all(path.is_file() for path in files)


def test_load_split_unknown_split_name(nested_root, nested_split):
    with pytest.raises(TrainingError, match="unknown split 'validation'"):
        load_split(nested_root / DEFAULT_CSV_NAME, "validation")


def test_load_split_missing_file(tmp_path):
    with pytest.raises(TrainingError, match="split file not found"):
        load_split(tmp_path / "missing.csv", "train")


GOOD_LINES = ["path,class_index,class_name,split", "abbey/1.jpg,0,abbey,train", "coast/1.jpg,1,coast,test"]


@pytest.mark.parametrize(
    ("line_number", "bad_line", "message"),
    [
        (1, "file,label,split", "expected the header"),
        (2, "abbey/1.jpg,0,abbey", "expected 4 columns"),
        (2, "abbey/1.jpg,zero,abbey,train", "invalid class index 'zero'"),
        (2, "abbey/1.jpg,-1,abbey,train", "invalid class index -1"),
        (2, "abbey/1.jpg,0,abbey,training", "unknown split 'training'"),
        (2, "/data/abbey/1.jpg,0,abbey,train", "invalid path"),
        (2, "../abbey/1.jpg,0,abbey,train", "invalid path"),
        (3, "abbey/1.jpg,1,coast,test", "appears twice"),
        (3, "coast/1.jpg,0,coast,test", "class index 0 is 'coast'"),
    ],
)
def test_load_split_malformed_csv(tmp_path, line_number, bad_line, message):
    lines = list(GOOD_LINES)
    lines[line_number - 1] = bad_line
    csv_path = tmp_path / "split.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    with pytest.raises(TrainingError) as raised:
        load_split(csv_path, "train")
    assert str(csv_path) in str(raised.value)
    assert f"line {line_number}:" in str(raised.value)
    assert message in str(raised.value)


def test_load_split_gap_in_class_indices(tmp_path):
    csv_path = tmp_path / "split.csv"
    csv_path.write_text("path,class_index,class_name,split\nabbey/1.jpg,1,abbey,train\n", encoding="utf-8")

    with pytest.raises(TrainingError, match="0 is missing"):
        load_split(csv_path, "train")


# Command line


def test_cli_prepare_places(flat_root, tmp_path, capsys):
    out = tmp_path / "split.csv"
    code = main(["prepare-places", str(flat_root), "--out", str(out), "--seed", "3",
                 "--fractions", "0.8,0.1,0.1", "--workers", "1"])
    printed = capsys.readouterr().out

    assert code == 0
    assert out.is_file()
    assert "3 classes, 60 images found" in printed
    assert "split: train 48, val 6, test 6" in printed
    assert load_split(out, "val", root=flat_root).class_names == ["abbey", "bedroom", "coast"]


def test_cli_prepare_places_bad_fractions(flat_root, capsys):
    code = main(["prepare-places", str(flat_root), "--fractions", "0.8,0.3,0.1"])

    assert code == 2
    assert "must sum to 1" in capsys.readouterr().err
    assert not (flat_root / DEFAULT_CSV_NAME).exists()


# Splitting without files


@pytest.mark.parametrize(
    "text", ["0.8,0.2", "0.9,0.2,0.1", "-0.1,0.6,0.5", "0,0.5,0.5", "a,b,c", "0.85,0.05,nan"]
)
def test_parse_fractions_rejects(text):
    with pytest.raises(ValueError):
        parse_fractions(text)


def test_allocate_counts_small_classes_keep_train():
    counts = allocate_counts({"one": 1, "two": 2, "three": 3, "empty": 0})

    assert counts["one"] == (1, 0, 0)
    assert counts["two"] == (2, 0, 0)
    assert counts["three"][0] >= 1
    assert sum(counts["three"]) == 3
    assert counts["empty"] == (0, 0, 0)


def test_allocate_counts_stratified_and_balanced():
    rng = random.Random(7)
    sizes = {f"class_{index:02d}": rng.randint(5, 60) for index in range(40)}
    fractions = (0.7, 0.1, 0.2)
    counts = allocate_counts(sizes, fractions)
    totals = [sum(class_counts[s] for class_counts in counts.values()) for s in range(3)]

    for name, size in sizes.items():
        assert sum(counts[name]) == size
        _check_within_rounding(size, counts[name], fractions)
    total = sum(sizes.values())
    for s, fraction in enumerate(fractions):
        assert abs(totals[s] - total * fraction) < 1


def test_split_classes_order_per_class():
    names = {"abbey": [f"abbey/{i}.jpg" for i in range(30)], "coast": [f"coast/{i}.jpg" for i in range(25)]}
    first = split_classes(names, seed=0)
    grown = split_classes({**names, "bridge": [f"bridge/{i}.jpg" for i in range(40)]}, seed=0)

    def order(split):
        return {name: split[name]["train"] + split[name]["val"] + split[name]["test"] for name in names}

    # With balanced totals a new class may move one round-up, but never the order within a class.
    assert order(grown) == order(first)
    for name in names:
        assert sorted(order(first)[name]) == sorted(names[name])
    assert split_classes(names, seed=1)["abbey"] != first["abbey"]


def _places205_sizes(seed: int) -> dict[str, int]:
    """205 class sizes that sum to 238,136 - 162 images, drawn deterministically from ``seed``.

    The mean is 1,161 images per class, so most classes are drawn near the top of the
    500 to 1,500 range.
    """
    rng = random.Random(seed)
    sizes = [round(rng.triangular(500, 1500, 1400)) for _ in range(205)]
    difference = PAPER_IMAGES - PAPER_GRAYSCALE_REMOVED - sum(sizes)
    for index in range(abs(difference)):
        sizes[index % 205] += 1 if difference > 0 else -1
    return {f"class_{index:03d}": size for index, size in enumerate(sizes)}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paper_split_counts(seed):
    sizes = _places205_sizes(seed)
    class_files = {name: [f"{name}/{index:05d}.jpg" for index in range(size)] for name, size in sizes.items()}
    split = split_classes(class_files, seed=0)
    totals = tuple(sum(len(split[name][s]) for name in split) for s in SPLITS)

    assert sum(sizes.values()) == 237_974
    assert min(sizes.values()) >= 400
    assert max(sizes.values()) <= 1600
    assert totals == PAPER_SPLIT_COUNTS
    for name, size in sizes.items():
        _check_within_rounding(size, [len(split[name][s]) for s in SPLITS], (0.85, 0.05, 0.10))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_class_rounding_totals_drift(seed):
    sizes = _places205_sizes(seed)
    counts = allocate_counts(sizes, balance_totals=False)
    train_total = sum(class_counts[0] for class_counts in counts.values())

    assert 0 < train_total - PAPER_SPLIT_COUNTS[0] <= 50


def test_prepare_logs_progress(flat_root, tmp_path, monkeypatch, caplog):
    import engine.data.places as places

    monkeypatch.setattr(places, "PROGRESS_INTERVAL", 25)
    with caplog.at_level("INFO", logger="engine.data.places"):
        prepare_places(flat_root, out=tmp_path / "split.csv")

    progress = [record.getMessage() for record in caplog.records if record.getMessage().startswith("screened ")]
    assert progress[0].startswith("screened 25 of 60 images")
    assert progress[1].startswith("screened 50 of 60 images")
    assert progress[-1].startswith("screened 60 images in")


def test_training_reads_places_split(tmp_path):
    from engine.cli import main as cli_main
    from engine.training.checkpoint import load_checkpoint

    root = tmp_path / "places"
    for seed, class_name in enumerate(("a/abbey", "b/beach", "c/canyon")):
        _write_colour_class(root, class_name, 20, seed)
    assert cli_main(["prepare-places", str(root)]) == 0
    run = tmp_path / "run"
    code = cli_main(["train", "--recipe", "pix2pix-class", "--data", str(root / "colorapp_split.csv"),
                     "--out", str(run), "--width", "8", "--batch-size", "2", "--max-steps", "2",
                     "--device", "cpu"])
    assert code == 0
    state = load_checkpoint(run / "checkpoints" / "last.pt")
    assert state["num_classes"] == 3
