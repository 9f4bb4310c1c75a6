#!/usr/bin/env python3
"""Build an open training corpus of colour photographs from Debian packages.

The script downloads a fixed list of Debian packages with ``apt-get download``,
unpacks them with ``dpkg-deb -x``, extracts the candidate images (plain files,
entries of Qt resource files, JPEGs embedded in Enlightenment ``.edj`` files),
keeps the photographs and writes:

* ``photos/{train,val}/ID.jpg``: each photo with its long side at most
  ``--max-side`` pixels, sRGB, JPEG quality 95 without chroma subsampling;
* ``crops/train/ID_K.png``: square training crops (centre crop plus random
  crops at several scales), ``--crop-size`` pixels wide;
* ``crops/val/ID.png``: one centre crop per validation photo;
* ``manifest.csv`` (one row per kept photo), ``dropped.csv`` (one row per
  rejected candidate with the reason) and ``LICENSES.md``.

Whether a candidate is a photograph is decided by the ordered rules in
``PACKAGES`` below, which were written by looking at contact sheets of every
candidate.  Automatic filters then drop small, transparent, grayscale and
duplicate images.  With the same package versions and the same seed, the
output is the same on every run.

Requires Python 3.10+, Pillow (with WebP and littlecms support), numpy, and the
Debian tools apt-get, apt-cache and dpkg-deb.
"""

from __future__ import annotations

import argparse
import collections
import csv
import dataclasses
import fnmatch
import hashlib
import io
import json
import math
import random
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
from PIL import Image, ImageCms, ImageDraw, ImageOps

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_WORK_DIR = Path("/work/cache/corpus-work")
DEFAULT_OUT_DIR = Path("/work/cache/corpus")

DEFAULT_CROP_PLAN = "0.75x2,0.5x3,0.35x3"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
KEEP = "keep"

# Reasons recorded in dropped.csv and counted in the summary.
REASON_UNREVIEWED = "unreviewed (no rule matches; look at it and add a rule)"
REASON_SMALL = "too small"
REASON_GRAYSCALE = "grayscale"
REASON_TRANSPARENT = "transparent pixels (cut-out)"
REASON_DUPLICATE = "duplicate"
REASON_DECODE = "decode error"


# --------------------------------------------------------------------------
# Package rules
# --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class PackageSpec:
    """How to find, judge and license the candidate images of one package.

    ``rules`` is an ordered list of ``(pattern, verdict)`` pairs matched with
    ``fnmatch`` against the candidate name, which the comment above each rule
    list describes.  The first matching pattern decides: ``KEEP`` marks a photograph, any
    other verdict is the reason the candidate is dropped.
    """

    name: str
    short: str  # prefix of the photo ids
    extractor: str  # key of EXTRACTORS
    rules: tuple[tuple[str, str], ...]
    # Maps a candidate name to the path used by the Files: fields of
    # debian/copyright (the upstream source tree).
    source_path: Callable[[str], str]


GCOMPRIS_ACTIVITIES = (
    "erase",
    "explore_monuments",
    "explore_world_animals",
    "explore_farm_animals",
    "explore_world_music",
    "clickgame",
    "details",
    "categorization",
)

PACKAGES: tuple[PackageSpec, ...] = (
    PackageSpec(
        name="gcompris-qt-data",
        short="gcompris",
        extractor="gcompris_rcc",
        # Names are rcc entry paths below gcompris/src/activities/.
        rules=(
            ("erase/resource/*.webp", KEEP),
            ("explore_monuments/resource/*.webp", KEEP),
            ("explore_world_animals/resource/animals/*.webp", KEEP),
            ("explore_farm_animals/resource/animals/*.webp", KEEP),
            ("explore_world_music/resource/music/*.webp", KEEP),
            ("clickgame/resource/sea*.webp", KEEP),
            ("clickgame/resource/*", "drawing (fish clip art)"),
            # The activity shows NAME_background.webp next to the pieces
            # NAME_0.webp, NAME_1.webp, ... cut from it.
            ("details/resource/image/*_[0-9].webp", "puzzle piece cut from a background image"),
            ("details/resource/image/*_[0-9][0-9].webp", "puzzle piece cut from a background image"),
            ("details/resource/image/*Gogh*", "painting (Van Gogh)"),
            ("details/resource/image/Eglise_dAuvers-sur-Oise_*", "painting (Van Gogh)"),
            ("details/resource/image/PortraitOfPereTanguy_*", "painting (Van Gogh)"),
            ("details/resource/image/*_background.webp", KEEP),
            # Most categorization photos are 320x213 to 320x240: each gives
            # only its centre crop, upscaled to --crop-size.
            ("categorization/resource/images/tools/*.webp", KEEP),
            ("categorization/resource/images/others/*.webp", KEEP),
            ("categorization/resource/images/fishes/*.webp", KEEP),
            ("categorization/resource/images/monuments/*.webp", KEEP),
            ("categorization/resource/images/renewable/*.webp", KEEP),
            ("categorization/resource/images/*", "drawing (letters and digits)"),
        ),
        source_path=lambda name: "src/activities/" + name,
    ),
    PackageSpec(
        name="enlightenment-data",
        short="enlightenment",
        extractor="enlightenment_edj",
        # Names are the .edj file names.
        rules=(
            ("Bamboo.edj", KEEP),
            ("Foggy-Trees.edj", KEEP),
            ("God-Rays.edj", KEEP),
            ("Green-Maple.edj", KEEP),
            ("Lichen-Branches.edj", KEEP),
            ("Mountain.edj", KEEP),
            ("Peaks.edj", KEEP),
            ("Red-Maple.edj", KEEP),
            ("Sea-of-Lanterns.edj", KEEP),
            ("Snow-Trees.edj", KEEP),
            ("Spruce-Needles.edj", KEEP),
            ("Sunset-Clouds.edj", KEEP),
            ("White-Flower.edj", KEEP),
            ("Yellow-Flower.edj", KEEP),
            ("Dunes.edj", "flat illustration"),
            ("Flat-*.edj", "flat illustration"),
            ("Sunset-Hills.edj", "render (layered hills)"),
            ("Paper-Flower.edj", "drawing (white line art)"),
            ("Squiggle*.edj", "abstract (no embedded JPEG)"),
        ),
        # debian/copyright names none of these files, so only "Files: *" applies.
        source_path=lambda name: "data/backgrounds/" + name,
    ),
    PackageSpec(
        name="lomiri-wallpapers-16.04",
        short="lomiri1604",
        extractor="files",
        # Names are file names in usr/share/backgrounds/.
        rules=(
            ("analogpattern_by_Peter_Nerlich.jpg", "abstract (colour-washed texture)"),
            ("umang_by_Abhishek_Mudgal.jpg", "abstract (colour gradient)"),
            ("*.jpg", KEEP),
        ),
        source_path=lambda name: "16.04/" + name,
    ),
    PackageSpec(
        name="lomiri-wallpapers-20.04",
        short="lomiri2004",
        extractor="files",
        rules=(
            ("Kleiber_by_Lukas_Baubkus.jpg", KEEP),
            ("Fossa_by_Jasper_Roks.jpg", "abstract (geometric shapes)"),
            ("Infinite-Sea_by_Aury88.jpg", "render (composited sky over sea)"),
            ("Painting-Colors_by__herobrine7gamer.jpg", "abstract (colour stripes)"),
        ),
        source_path=lambda name: "20.04/" + name,
    ),
    PackageSpec(
        name="lxqt-themes",
        short="lxqt",
        extractor="files",
        # Names are file names in usr/share/lxqt/wallpapers/.
        rules=(
            ("Butterfly-Kenneth-Wimer.jpg", KEEP),
            ("Valendas.png", KEEP),
            ("after-the-rain.jpg", KEEP),
            ("appleflower.png", KEEP),
            ("beam.png", KEEP),
            ("butterfly.png", KEEP),
            ("cloud.png", KEEP),
            ("drop.png", KEEP),
            ("flowers.png", KEEP),
            ("fog.jpg", KEEP),
            ("this-is-not-windows.jpg", KEEP),
            ("*", "abstract or logo wallpaper"),
        ),
        source_path=lambda name: "wallpapers/" + name,
    ),
    PackageSpec(
        name="tuxpaint-data",
        short="tuxpaint",
        extractor="files",
        # Names are paths below usr/share/tuxpaint/.
        rules=(
            ("templates/*.jpg", KEEP),
            ("starters/reef-back.png", KEEP),
            ("starters/skyline-sf-dusk-back.jpeg", KEEP),
            ("starters/reef.png", "cut-out foreground layer of a photo"),
            ("starters/skyline-sf-dusk.png", "cut-out foreground layer of a photo"),
            ("starters/*", "drawing (colouring page, frame or map)"),
        ),
        # debian/copyright names none of these files, so only "Files: *" applies.
        source_path=lambda name: name,
    ),
    PackageSpec(
        name="palapeli-data",
        short="palapeli",
        extractor="files",
        # Names are file names in usr/share/palapeli/collection/.
        rules=(("*.jpg", KEEP),),
        # debian/copyright names none of these files, so only "Files: *" applies.
        source_path=lambda name: name,
    ),
    PackageSpec(
        name="opencv-doc",
        short="opencv",
        extractor="files",
        # Names are paths below usr/share/doc/opencv-doc/examples/.  Of each
        # stereo pair or pair of views of one scene only the first is kept, so
        # that the two cannot land in different splits.
        rules=(
            ("data/aero1.jpg", KEEP),
            ("data/aero3.jpg", KEEP),
            ("data/aloeL.jpg", KEEP),
            ("data/aloeR.jpg", "second view of a kept photo"),
            ("data/aloeGT.png", "disparity map"),
            ("data/apple.jpg", KEEP),
            ("data/baboon.jpg", KEEP),
            ("data/basketball1.png", KEEP),
            ("data/basketball2.png", "second view of a kept photo"),
            ("data/board.jpg", KEEP),
            ("data/box.png", KEEP),
            ("data/box_in_scene.png", KEEP),
            ("data/building.jpg", KEEP),
            ("data/butterfly.jpg", KEEP),
            ("data/chicky_512.png", KEEP),
            ("data/ela_original.jpg", KEEP),
            ("data/ela_modified.jpg", "edited copy of a kept photo"),
            ("data/fruits.jpg", KEEP),
            ("data/graf1.png", KEEP),
            ("data/graf3.png", "second view of a kept photo"),
            ("data/home.jpg", KEEP),
            ("data/left.jpg", KEEP),
            ("data/right.jpg", "second view of a kept photo"),
            ("data/left[0-9]*.jpg", "chessboard calibration photo"),
            ("data/right[0-9]*.jpg", "chessboard calibration photo"),
            ("data/leuvenA.jpg", KEEP),
            ("data/leuvenB.jpg", "second view of a kept photo"),
            ("data/licenseplate_motion.jpg", "synthetic motion blur"),
            ("data/messi5.jpg", KEEP),
            ("data/orange.jpg", KEEP),
            ("data/pca_test1.jpg", KEEP),
            ("data/rubberwhale1.png", KEEP),
            ("data/rubberwhale2.png", "second view of a kept photo"),
            ("data/squirrel_cls.jpg", KEEP),
            ("data/stuff.jpg", KEEP),
            ("data/sudoku.png", KEEP),
            ("data/starry_night.jpg", "painting (Van Gogh)"),
            ("data/text_defocus.jpg", "synthetic defocus blur"),
            ("data/text_motion.jpg", "synthetic motion blur"),
            ("data/Blender_Suzanne*.jpg", "render"),
            ("data/smarties.png", "render"),
            ("data/ml.png", "render"),
            ("data/*", "drawing, chart, logo or test pattern"),
            ("text/scenetext0[1-6].jpg", KEEP),
            ("text/scenetext_segmented_word0[1-5].jpg", KEEP),
            ("text/scenetext_segmented_word*_mask.png", "mask"),
            ("text/*", "tiny crop of a word or character"),
        ),
        # The examples folder is the upstream samples/ folder: debian/copyright
        # lists samples/data/lena.jpg among the files removed from the source.
        source_path=lambda name: "samples/" + name,
    ),
    PackageSpec(
        name="plasma-workspace-wallpapers",
        short="plasma",
        extractor="plasma_wallpapers",
        # Names are wallpaper folder names in usr/share/wallpapers/.
        rules=(
            ("BytheWater", KEEP),
            ("ColdRipple", KEEP),
            ("ColorfulCups", KEEP),
            ("DarkestHour", KEEP),
            ("EveningGlow", KEEP),
            ("FallenLeaf", KEEP),
            ("Grey", KEEP),
            ("Kite", KEEP),
            ("OneStandsOut", KEEP),
            ("Path", KEEP),
            ("summer_1am", KEEP),
            ("Autumn", "painting"),
            ("*", "abstract or illustrated wallpaper"),
        ),
        # debian/copyright names none of these files, so only "Files: *" applies.
        source_path=lambda name: name,
    ),
    PackageSpec(
        name="mate-backgrounds",
        short="mate",
        extractor="files",
        # Names are paths below usr/share/backgrounds/mate/.
        rules=(("nature/*.jpg", KEEP),),
        source_path=lambda name: name,
    ),
)

# Candidate locations for the "files" extractor: package -> (base folder
# inside the package, glob patterns relative to it).  Candidate names are
# relative to the base folder.
FILE_CANDIDATES: dict[str, tuple[str, tuple[str, ...]]] = {
    "lomiri-wallpapers-16.04": ("usr/share/backgrounds", ("*.jpg",)),
    "lomiri-wallpapers-20.04": ("usr/share/backgrounds", ("*.jpg",)),
    "lxqt-themes": ("usr/share/lxqt/wallpapers", ("*.jpg", "*.png")),
    "tuxpaint-data": (
        "usr/share/tuxpaint",
        ("templates/*.jpg", "starters/*.png", "starters/*.jpg", "starters/*.jpeg"),
    ),
    "palapeli-data": ("usr/share/palapeli/collection", ("*.jpg",)),
    "opencv-doc": (
        "usr/share/doc/opencv-doc/examples",
        ("data/*.jpg", "data/*.png", "text/*.jpg", "text/*.png"),
    ),
    "mate-backgrounds": ("usr/share/backgrounds/mate", ("nature/*.jpg",)),
}


def judge(spec: PackageSpec, name: str) -> str:
    """Return KEEP or the reason for dropping, by the first matching rule."""
    for pattern, verdict in spec.rules:
        if fnmatch.fnmatchcase(name, pattern):
            return verdict
    return REASON_UNREVIEWED


# --------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Candidate:
    package: str
    name: str  # matched against the package rules
    package_path: str  # path of the file inside the package
    entry_path: str  # rcc entry or embedded-JPEG description; "" for plain files
    load_bytes: Callable[[], bytes]
    upstream_license: str = ""  # per-file licence from upstream metadata, if any
    upstream_license_source: str = ""


def read_rcc(path: Path) -> Iterator[tuple[str, bytes]]:
    """Yield (entry path, content) for each file in a Qt binary resource file.

    Layout of Qt's binary rcc format, versions 1 to 3: a 'qres' magic, then
    big-endian u32 version, tree offset, data offset and names offset.
    Version 3 adds a u32 flags field, unused here.  Tree nodes are 14 bytes
    (version 1) or 22 bytes (version 2+, with an 8-byte modification time).
    A node starts with a u32 name offset and u16 flags.  A directory node
    continues with u32 child count and u32 first child index, a file node
    with u16 country, u16 language and u32 data offset.  Names are a u16
    length, a u32 hash and UTF-16BE characters.  Data entries are a u32
    length and the bytes.  Zlib-compressed entries (flag 1) start with a u32
    uncompressed size.
    """
    data = path.read_bytes()
    if data[:4] != b"qres":
        raise ValueError(f"{path}: not a Qt resource file (missing 'qres' magic)")
    version, tree_offset, data_offset, names_offset = struct.unpack(">IIII", data[4:20])
    if version not in (1, 2, 3):
        raise ValueError(f"{path}: unsupported rcc format version {version}")
    node_size = 14 if version == 1 else 22

    def node_name(name_offset: int) -> str:
        start = names_offset + name_offset
        (length,) = struct.unpack(">H", data[start : start + 2])
        return data[start + 6 : start + 6 + 2 * length].decode("utf-16-be")

    def walk(index: int, prefix: str) -> Iterator[tuple[str, bytes]]:
        base = tree_offset + index * node_size
        name_offset, flags = struct.unpack(">IH", data[base : base + 6])
        name = node_name(name_offset) if index else ""
        path_here = f"{prefix}{name}"
        if flags & 2:  # directory
            count, first_child = struct.unpack(">II", data[base + 6 : base + 14])
            child_prefix = f"{path_here}/" if index else ""
            for child in range(first_child, first_child + count):
                yield from walk(child, child_prefix)
            return
        (entry_offset,) = struct.unpack(">I", data[base + 10 : base + 14])
        start = data_offset + entry_offset
        (length,) = struct.unpack(">I", data[start : start + 4])
        blob = data[start + 4 : start + 4 + length]
        if flags & 4:
            # NOTE: Python's standard library has no zstd decoder before 3.14,
            # so zstd entries are skipped; the gcompris-qt-data 3.1 files use none.
            print(f"warning: {path}: skipping zstd-compressed entry {path_here}", file=sys.stderr)
            return
        if flags & 1:
            blob = zlib.decompress(blob[4:])
        yield path_here, blob

    yield from walk(0, "")


def normalize_license(text: str) -> str:
    """Map the licence spellings used in upstream metadata to SPDX-like ids."""
    value = text.strip().rstrip(".")
    lowered = value.lower()
    if lowered in ("public domain", "public-domain"):
        return "public-domain"
    if lowered in ("fdl", "gnu-fdl", "gfdl"):
        return "GFDL (version not stated)"
    match = re.fullmatch(r"(?i)(lgpl|gpl)v?(\d(?:\.\d)?)(\+?)", value)
    if match:
        return f"{match.group(1).upper()}-{match.group(2)}{match.group(3)}"
    match = re.fullmatch(r"(?i)(cc[- ]by(?:[- ]sa)?|cc0)[- ]?(\d\.\d)", value)
    if match:
        return f"{match.group(1).upper().replace(' ', '-')}-{match.group(2)}"
    match = re.search(r"creativecommons\.org/licenses/([a-z-]+)/(\d\.\d)", value)
    if match:
        return f"CC-{match.group(1).upper()}-{match.group(2)}"
    return value


def parse_gcompris_readme(text: str, folder: str) -> dict[str, str]:
    """Map rcc entry paths to the licence given in a gcompris resource README.

    The README is a list of blank-line separated blocks with Copyright,
    License, Source and Files fields.  File names follow "Files:" on the same
    line or on the next lines, relative to the README's folder.  A few blocks
    omit the "Files:" key and only list the names.
    """
    licenses: dict[str, str] = {}
    for block in re.split(r"\n\s*\n", text):
        license_value = ""
        files: list[str] = []
        for line in block.splitlines():
            key, sep, value = line.partition(":")
            if sep and key.strip() in ("License", "Licence"):
                license_value = value.strip()
            elif sep and key.strip() == "Files":
                files.extend(value.split())
            elif not sep and re.fullmatch(r"\s*[\w./-]+\.\w+\s*", line):
                files.append(line.strip())
        if license_value:
            for file_name in files:
                licenses[f"{folder}/{file_name}"] = normalize_license(license_value)
    return licenses


def extract_gcompris(root: Path, spec: PackageSpec) -> list[Candidate]:
    candidates = []
    rcc_dir = root / "usr/share/gcompris-qt/rcc"
    prefix = "gcompris/src/activities/"
    for activity in GCOMPRIS_ACTIVITIES:
        rcc_path = rcc_dir / f"{activity}.rcc"
        entries = dict(read_rcc(rcc_path))
        # entry path -> (licence, README entry path); a README may list files
        # of its own folder or of subfolders.
        readme_licenses: dict[str, tuple[str, str]] = {}
        for entry, blob in entries.items():
            folder, _, file_name = entry.rpartition("/")
            if file_name == "README":
                text = blob.decode("utf-8", "replace")
                for listed, license_name in parse_gcompris_readme(text, folder).items():
                    readme_licenses[listed] = (license_name, entry)
        for entry, blob in sorted(entries.items()):
            if not entry.lower().endswith(IMAGE_SUFFIXES):
                continue
            if not entry.startswith(prefix):
                raise ValueError(f"{rcc_path}: unexpected entry path {entry}")
            license_name, readme_entry = readme_licenses.get(entry, ("", ""))
            candidates.append(
                Candidate(
                    package=spec.name,
                    name=entry[len(prefix) :],
                    package_path=str(rcc_path.relative_to(root)),
                    entry_path=entry,
                    load_bytes=lambda blob=blob: blob,
                    upstream_license=license_name,
                    upstream_license_source=(
                        f"{rcc_path.relative_to(root)}:{readme_entry}" if readme_entry else ""
                    ),
                )
            )
    return candidates


def find_embedded_jpegs(data: bytes) -> list[tuple[int, int]]:
    """Return (start, end) byte ranges of the JPEG streams in a binary blob.

    Each stream starts at an FFD8FF marker and ends after the last FFD9
    marker before the next start (or the end of the blob).
    """
    starts = []
    position = data.find(b"\xff\xd8\xff")
    while position != -1:
        starts.append(position)
        position = data.find(b"\xff\xd8\xff", position + 3)
    ranges = []
    for index, start in enumerate(starts):
        limit = starts[index + 1] if index + 1 < len(starts) else len(data)
        end = data.rfind(b"\xff\xd9", start, limit)
        if end != -1:
            ranges.append((start, end + 2))
    return ranges


def extract_enlightenment(root: Path, spec: PackageSpec) -> list[Candidate]:
    """Take the largest embedded JPEG of each background .edj file.

    An .edj background stores the same picture at many resolutions, so only
    the largest is a candidate.  Files without a JPEG are still listed, so
    that the rules and the summary account for them.
    """
    candidates = []
    for edj_path in sorted((root / "usr/share/enlightenment/data/backgrounds").glob("*.edj")):
        data = edj_path.read_bytes()
        best: tuple[int, int, int, int, int] | None = None  # area, w, h, start, end
        ranges = find_embedded_jpegs(data)
        for start, end in ranges:
            try:
                width, height = Image.open(io.BytesIO(data[start:end])).size
            except OSError:
                continue
            if best is None or width * height > best[0]:
                best = (width * height, width, height, start, end)
        if best is None:
            entry_path = "no embedded JPEG"
            load: Callable[[], bytes] = lambda: b""
        else:
            _, width, height, start, end = best
            entry_path = (
                f"JPEG at bytes {start}-{end} ({width}x{height}, largest of {len(ranges)})"
            )
            load = lambda path=edj_path, start=start, end=end: path.read_bytes()[start:end]
        candidates.append(
            Candidate(
                package=spec.name,
                name=edj_path.name,
                package_path=str(edj_path.relative_to(root)),
                entry_path=entry_path,
                load_bytes=load,
            )
        )
    return candidates


def extract_plasma(root: Path, spec: PackageSpec) -> list[Candidate]:
    """Take the largest image of each Plasma wallpaper (light variant)."""
    candidates = []
    for folder in sorted((root / "usr/share/wallpapers").iterdir()):
        images = [p for p in (folder / "contents/images").glob("*") if p.suffix.lower() in IMAGE_SUFFIXES]
        if not images:
            continue

        def area(path: Path) -> int:
            match = re.fullmatch(r"(\d+)x(\d+)", path.stem)
            if not match:
                raise ValueError(f"{path}: expected a WIDTHxHEIGHT file name")
            return int(match.group(1)) * int(match.group(2))

        largest = max(sorted(images), key=area)
        candidate = Candidate(
            package=spec.name,
            name=folder.name,
            package_path=str(largest.relative_to(root)),
            entry_path="",
            load_bytes=lambda path=largest: path.read_bytes(),
        )
        metadata_path = folder / "metadata.json"
        if metadata_path.exists():
            metadata = json.loads(metadata_path.read_text(encoding="utf-8"))
            license_value = metadata.get("KPlugin", {}).get("License", "")
            if license_value:
                candidate.upstream_license = normalize_license(license_value)
                candidate.upstream_license_source = str(metadata_path.relative_to(root))
        candidates.append(candidate)
    return candidates


def extract_files(root: Path, spec: PackageSpec) -> list[Candidate]:
    base_rel, patterns = FILE_CANDIDATES[spec.name]
    base = root / base_rel
    paths = sorted({p for pattern in patterns for p in base.glob(pattern) if p.is_file()})
    candidates = []
    for path in paths:
        candidate = Candidate(
            package=spec.name,
            name=str(path.relative_to(base)),
            package_path=str(path.relative_to(root)),
            entry_path="",
            load_bytes=lambda path=path: path.read_bytes(),
        )
        add_upstream_license(candidate, path, root)
        candidates.append(candidate)
    return candidates


def add_upstream_license(candidate: Candidate, path: Path, root: Path) -> None:
    """Fill the per-file licence from metadata shipped next to the image."""
    if candidate.package == "lxqt-themes":
        # The wallpapers folder has one License file for all wallpapers.
        license_path = path.parent / "License"
        if license_path.exists():
            text = license_path.read_text(encoding="utf-8")
            match = re.search(r"https?://creativecommons\.org/licenses/[a-z-]+/\d\.\d/?", text)
            if match:
                candidate.upstream_license = normalize_license(match.group(0))
                candidate.upstream_license_source = str(license_path.relative_to(root))
    elif candidate.package == "palapeli-data":
        desktop_path = path.with_suffix(".desktop")
        if desktop_path.exists():
            for line in desktop_path.read_text(encoding="utf-8").splitlines():
                if line.startswith("X-KDE-PluginInfo-License="):
                    candidate.upstream_license = normalize_license(line.split("=", 1)[1])
                    candidate.upstream_license_source = str(desktop_path.relative_to(root))
    elif candidate.package == "tuxpaint-data":
        # Starters keep their credits in NAME.txt, shared by NAME-back.*.
        stem = path.stem.removesuffix("-back")
        notes_path = path.parent / f"{stem}.txt"
        if notes_path.exists():
            for line in notes_path.read_text(encoding="utf-8").splitlines():
                if line.lower().lstrip("# ").startswith("public domain"):
                    candidate.upstream_license = "public-domain"
                    candidate.upstream_license_source = str(notes_path.relative_to(root))


EXTRACTORS: dict[str, Callable[[Path, PackageSpec], list[Candidate]]] = {
    "gcompris_rcc": extract_gcompris,
    "enlightenment_edj": extract_enlightenment,
    "plasma_wallpapers": extract_plasma,
    "files": extract_files,
}


# --------------------------------------------------------------------------
# debian/copyright
# --------------------------------------------------------------------------

@dataclasses.dataclass
class CopyrightFile:
    """Files paragraphs of a machine-readable debian/copyright file."""

    paragraphs: list[tuple[list[str], str]]  # (Files patterns, License short name)

    @classmethod
    def parse(cls, text: str) -> "CopyrightFile":
        paragraphs = []
        for block in re.split(r"\n[ \t]*\n", text):
            fields: dict[str, str] = {}
            current = None
            for line in block.splitlines():
                if line[:1] in (" ", "\t") and current:
                    fields[current] += "\n" + line.strip()
                elif ":" in line:
                    current, value = line.split(":", 1)
                    fields[current] = value.strip()
            if "Files" in fields and "License" in fields:
                license_name = fields["License"].split("\n", 1)[0].strip()
                paragraphs.append((fields["Files"].split(), license_name))
        if not paragraphs:
            raise ValueError("no Files paragraphs found; is this a DEP-5 copyright file?")
        return cls(paragraphs)

    def license_for(self, source_path: str) -> tuple[str, str]:
        """Return (licence, matching Files pattern) for a source path.

        In DEP-5 the last matching paragraph wins, "*" matches any run of
        characters and "?" any single character, "/" included.  Image extensions are ignored when both
        sides have one, because some packages convert images at build time
        (gcompris ships WebP files built from PNG and JPEG sources).
        """
        result = ("", "")
        for patterns, license_name in self.paragraphs:
            for pattern in patterns:
                if dep5_match(pattern, source_path):
                    result = (license_name, pattern)
        return result


def strip_image_suffix(path: str) -> str:
    for suffix in IMAGE_SUFFIXES + (".svg",):
        if path.lower().endswith(suffix):
            return path[: -len(suffix)]
    return path


def dep5_regex(pattern: str) -> str:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return "".join(parts)


def dep5_match(pattern: str, path: str) -> bool:
    if re.fullmatch(dep5_regex(pattern), path):
        return True
    stripped_pattern = strip_image_suffix(pattern)
    stripped_path = strip_image_suffix(path)
    if stripped_pattern == pattern or stripped_path == path:
        return False
    return re.fullmatch(dep5_regex(stripped_pattern), stripped_path) is not None


# --------------------------------------------------------------------------
# Packages on disk
# --------------------------------------------------------------------------

def run_command(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"command failed with exit code {result.returncode}: {' '.join(command)}\n"
            f"{result.stderr.strip()}"
        )
    return result.stdout


def deb_field(deb_path: Path, field: str) -> str:
    return run_command(["dpkg-deb", "-f", str(deb_path), field]).strip()


def candidate_version(package: str) -> str:
    """Return the version that apt-get download would fetch."""
    output = run_command(["apt-cache", "policy", package])
    match = re.search(r"^\s*Candidate:\s*(\S+)", output, re.MULTILINE)
    if not match or match.group(1) == "(none)":
        raise RuntimeError(
            f"apt has no candidate version of {package}; run 'apt-get update' "
            "with a Debian bookworm source configured"
        )
    return match.group(1)


def find_deb(deb_dir: Path, package: str, version: str | None) -> Path | None:
    for deb_path in sorted(deb_dir.glob(f"{package}_*.deb")):
        if deb_field(deb_path, "Package") != package:
            continue
        if version is None or deb_field(deb_path, "Version") == version:
            return deb_path
    return None


def fetch_packages(deb_dir: Path, packages: list[str], skip_download: bool) -> dict[str, Path]:
    """Return the .deb path of each package, downloading those not cached."""
    deb_dir.mkdir(parents=True, exist_ok=True)
    debs: dict[str, Path] = {}
    missing = []
    for package in packages:
        version = None if skip_download else candidate_version(package)
        deb_path = find_deb(deb_dir, package, version)
        if deb_path:
            debs[package] = deb_path
        elif skip_download:
            raise RuntimeError(
                f"--skip-download: no {package}_*.deb in {deb_dir}; run once without "
                "--skip-download to fetch it"
            )
        else:
            missing.append(package)
    if missing:
        print(f"Downloading {', '.join(missing)} into {deb_dir}")
        result = subprocess.run(["apt-get", "download", *missing], cwd=deb_dir)
        if result.returncode != 0:
            raise RuntimeError(f"apt-get download failed with exit code {result.returncode}")
        for package in missing:
            deb_path = find_deb(deb_dir, package, candidate_version(package))
            if deb_path is None:
                raise RuntimeError(f"apt-get download left no {package}_*.deb in {deb_dir}")
            debs[package] = deb_path
    return debs


def unpack(deb_path: Path, root: Path) -> None:
    """Unpack a .deb into root unless the same file was unpacked there before."""
    stamp = root / ".unpacked-from"
    digest = hashlib.sha256(deb_path.read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    run_command(["dpkg-deb", "-x", str(deb_path), str(root)])
    stamp.write_text(digest)


# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------

SRGB_PROFILE = ImageCms.createProfile("sRGB")


def decode_rgb(blob: bytes) -> tuple[Image.Image, bool]:
    """Decode to an sRGB RGB image with EXIF orientation applied.

    Returns the image and whether more than 1 % of its pixels are transparent.
    Transparency is dropped, not composited.
    """
    image = Image.open(io.BytesIO(blob))
    image.load()
    image = ImageOps.exif_transpose(image)
    icc = image.info.get("icc_profile")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        image = image.convert("RGBA")
        # A few soft edge pixels (opencv's chicky_512.png has 0.4 %) are not a
        # cut-out, so more than 1 % of the pixels must be transparent.
        alpha = np.asarray(image.getchannel("A"))
        transparent = np.count_nonzero(alpha < 255) > 0.01 * alpha.size
    else:
        transparent = False
    if icc:
        source_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if image.mode not in ("RGB", "CMYK", "L"):
            image = image.convert("RGB")
        image = ImageCms.profileToProfile(
            image, source_profile, SRGB_PROFILE, outputMode="RGB",
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
        )
    else:
        image = image.convert("RGB")
    return image, transparent


def mean_chroma(image: Image.Image) -> float:
    """Return the mean chroma sqrt(Cb'^2 + Cr'^2) in 8-bit YCbCr units."""
    thumbnail = image.copy()
    thumbnail.thumbnail((256, 256))
    ycbcr = np.asarray(thumbnail.convert("YCbCr"), dtype=np.float32)
    chroma = np.hypot(ycbcr[..., 1] - 128.0, ycbcr[..., 2] - 128.0)
    return float(chroma.mean())


def difference_hash(image: Image.Image, size: int = 16) -> np.ndarray:
    """Return a size*size bit difference hash (dHash) of the grayscale image.

    Each bit is set when a pixel of a (size+1)x(size) thumbnail is brighter
    than its right neighbour.  Unlike an average hash, it does not match
    unrelated landscapes that share a bright sky above a dark ground.
    """
    gray = np.asarray(
        image.convert("L").resize((size + 1, size), Image.Resampling.BOX), dtype=np.float32
    )
    return (gray[:, 1:] > gray[:, :-1]).ravel()


def resized_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def crop_square(image: Image.Image, left: int, top: int, side: int, size: int) -> Image.Image:
    return image.crop((left, top, left + side, top + side)).resize(
        (size, size), Image.Resampling.LANCZOS
    )


def centre_crop(image: Image.Image, size: int) -> Image.Image:
    side = min(image.size)
    left = (image.width - side) // 2
    top = (image.height - side) // 2
    return crop_square(image, left, top, side, size)


def training_crops(
    image: Image.Image, size: int, plan: list[tuple[float, int]], rng: random.Random
) -> list[Image.Image]:
    """Return the centre crop plus random crops for each (scale, count) in plan.

    A random crop has side scale * short side and is skipped when that side
    is below size, so only the centre crop of a small photo is upscaled.
    """
    crops = [centre_crop(image, size)]
    short_side = min(image.size)
    for scale, count in plan:
        side = round(short_side * scale)
        if side < size:
            continue
        for _ in range(count):
            left = rng.randint(0, image.width - side)
            top = rng.randint(0, image.height - side)
            crops.append(crop_square(image, left, top, side, size))
    return crops


def parse_crop_plan(text: str) -> list[tuple[float, int]]:
    plan = []
    for item in text.split(","):
        scale_text, sep, count_text = item.strip().partition("x")
        try:
            scale, count = float(scale_text), int(count_text)
        except ValueError:
            scale, count = -1.0, -1
        if not sep or not 0 < scale <= 1 or count < 0:
            raise argparse.ArgumentTypeError(
                f"invalid crop plan item {item!r}; expected SCALExCOUNT such as 0.5x3"
            )
        plan.append((scale, count))
    return plan


def encode_jpeg(image: Image.Image) -> bytes:
    """Encode at quality 95 without chroma subsampling, which would blur colour edges."""
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, subsampling=0, optimize=True)
    return buffer.getvalue()


def thumbnail(image: Image.Image, side: int = 200) -> Image.Image:
    small = image.copy()
    small.thumbnail((side, side))
    return small


def write_contact_sheet(items: list[tuple[Image.Image, str]], path: Path, columns: int = 8) -> None:
    cell_w, cell_h, label_h = 200, 140, 14
    rows = max(1, math.ceil(len(items) / columns))
    sheet = Image.new("RGB", (columns * cell_w, rows * (cell_h + label_h)), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (image, label) in enumerate(items):
        thumbnail = image.copy()
        thumbnail.thumbnail((cell_w - 4, cell_h - 4))
        x = (index % columns) * cell_w
        y = (index // columns) * (cell_h + label_h)
        sheet.paste(thumbnail, (x + 2, y + 2))
        draw.text((x + 2, y + cell_h), label[:32], fill="black")
    sheet.save(path)


# --------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------

@dataclasses.dataclass
class Photo:
    candidate: Candidate
    id: str
    version: str
    jpeg: bytes  # the photo as written: sRGB, long side at most --max-side
    size: tuple[int, int]
    preview: Image.Image  # small copy for the review contact sheets
    source_size: tuple[int, int]
    hash_bits: np.ndarray
    license: str = ""
    license_source: str = ""
    copyright_file_license: str = ""
    split: str = ""
    sha256: str = ""
    crops: int = 0


def make_id(spec: PackageSpec, name: str, used_ids: set[str]) -> str:
    stem = strip_image_suffix(name).removesuffix(".edj")
    stem = stem.replace("/resource/images/", "/").replace("/resource/image/", "/")
    stem = stem.replace("/resource/animals/", "/").replace("/resource/music/", "/")
    stem = stem.replace("/resource/", "/")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", stem).strip("-").lower()
    photo_id = f"{spec.short}-{slug}"
    unique_id, counter = photo_id, 2
    while unique_id in used_ids:
        unique_id, counter = f"{photo_id}-{counter}", counter + 1
    used_ids.add(unique_id)
    return unique_id


def assign_splits(photos: list[Photo], fraction: float, seed: int) -> None:
    """Hold out about fraction of the photos, stratified by package.

    The total number of validation photos is round(fraction * N).  Each
    package gets the integer part of its share, and the remaining places go
    to the packages with the largest fractional parts (largest remainder
    method), so small packages still get a validation photo when their share
    rounds up.
    """
    by_package: dict[str, list[Photo]] = collections.defaultdict(list)
    for photo in photos:
        by_package[photo.candidate.package].append(photo)
    total_val = round(fraction * len(photos))
    shares = {package: fraction * len(items) for package, items in by_package.items()}
    counts = {package: math.floor(share) for package, share in shares.items()}
    remaining = total_val - sum(counts.values())
    for package in sorted(shares, key=lambda p: (-(shares[p] - counts[p]), p))[:remaining]:
        counts[package] += 1
    for package, items in sorted(by_package.items()):
        ordered = sorted(items, key=lambda photo: photo.id)
        random.Random(f"{seed}:split:{package}").shuffle(ordered)
        for index, photo in enumerate(ordered):
            photo.split = "val" if index < counts[package] else "train"


def check_outside_repository(path: Path, option: str) -> None:
    resolved = path.resolve()
    if resolved == REPO_ROOT or REPO_ROOT in resolved.parents:
        raise SystemExit(
            f"error: {option} {path} is inside the repository {REPO_ROOT}; "
            "choose a folder outside it, such as /work/cache"
        )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Download Debian packages that ship colour photographs, keep the "
            "photographs and write resized photos, square training crops, a "
            "manifest and a licence summary."
        ),
        epilog=(
            "Outputs in OUT_DIR: photos/{train,val}/ID.jpg, crops/train/ID_K.png, "
            "crops/val/ID.png, manifest.csv (one row per photo with package, path, "
            "licence, size, sha256 and split), dropped.csv (rejected candidates and "
            "reasons) and LICENSES.md.  Example: %(prog)s --contact-sheets"
        ),
    )
    parser.add_argument(
        "--work-dir", type=Path, default=DEFAULT_WORK_DIR,
        help="folder for the downloaded .deb files (debs/) and the unpacked packages "
        "(root/), kept between runs as a cache; must be outside the repository "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--out-dir", type=Path, default=DEFAULT_OUT_DIR,
        help="output folder; its photos/, crops/, review/, manifest.csv, dropped.csv "
        "and LICENSES.md are replaced on each run; must be outside the repository "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--packages", nargs="+", metavar="PKG", choices=[spec.name for spec in PACKAGES],
        help="process only these packages (default: all)",
    )
    parser.add_argument(
        "--skip-download", action="store_true",
        help="use the .deb files already in WORK_DIR/debs instead of asking apt for the "
        "candidate version and downloading missing ones",
    )

    parser.add_argument(
        "--seed", type=int, default=20240601,
        help="seed for the split and the random crops (default: %(default)s)",
    )
    parser.add_argument(
        "--val-fraction", type=float, default=0.1,
        help="fraction of photos held out for validation, split by photo and stratified "
        "by package (default: %(default)s)",
    )

    parser.add_argument(
        "--max-side", type=int, default=1600,
        help="long side in pixels of the written photos; smaller photos are not "
        "upscaled (default: %(default)s)",
    )
    parser.add_argument(
        "--min-side", type=int, default=200,
        help="drop photos whose short side in pixels, after resizing to --max-side, "
        "is below this; the centre crop of a photo smaller than --crop-size is "
        "upscaled, as the app does with small scans (default: %(default)s)",
    )
    parser.add_argument(
        "--min-chroma", type=float, default=2.0,
        help="drop photos as grayscale or near-grayscale when their mean chroma "
        "sqrt((Cb-128)^2 + (Cr-128)^2), in 8-bit YCbCr units on a 256 px thumbnail, "
        "is below this (default: %(default)s)",
    )

    # With the default rules, unrelated photos of this corpus differ in 47
    # bits or more, and consecutive video frames (opencv-doc's rubberwhale1/2,
    # basketball1/2) in 11.
    parser.add_argument(
        "--max-hash-distance", type=int, default=24,
        help="photos whose 256-bit difference hashes (16x16 grayscale) differ in at "
        "most this many bits are duplicates, and only the largest copy is kept "
        "(default: %(default)s)",
    )

    parser.add_argument(
        "--crop-size", type=int, default=256,
        help="side in pixels of the square crops (default: %(default)s)",
    )
    parser.add_argument(
        "--crop-plan", type=parse_crop_plan, default=parse_crop_plan(DEFAULT_CROP_PLAN),
        metavar="SCALExCOUNT,...",
        help="random training crops per photo in addition to the centre crop: COUNT "
        "crops with side SCALE times the short side, skipped when that side is below "
        f"--crop-size (default: {DEFAULT_CROP_PLAN})",
    )

    parser.add_argument(
        "--contact-sheets", action="store_true",
        help="also write review/kept_NN.png and review/dropped.png contact sheets "
        "for checking the rules",
    )

    args = parser.parse_args(argv)
    if not 0 <= args.val_fraction < 1:
        parser.error(f"--val-fraction must be in [0, 1), got {args.val_fraction}")
    return args


def collect(
    args: argparse.Namespace, specs: list[PackageSpec]
) -> tuple[list[Photo], list[tuple[Candidate, str, Image.Image | None]], dict[str, str]]:
    """Download, unpack and judge every candidate.

    Returns the photos that passed the rules and the filters before
    de-duplication, the dropped candidates with their reasons, and the
    package versions.
    """
    work_dir = args.work_dir
    debs = fetch_packages(work_dir / "debs", [spec.name for spec in specs], args.skip_download)
    photos: list[Photo] = []
    dropped: list[tuple[Candidate, str, Image.Image | None]] = []
    versions: dict[str, str] = {}
    used_ids: set[str] = set()
    for spec in specs:
        root = work_dir / "root" / spec.name
        unpack(debs[spec.name], root)
        versions[spec.name] = deb_field(debs[spec.name], "Version")
        copyright_path = root / "usr/share/doc" / spec.name / "copyright"
        copyright_file = CopyrightFile.parse(copyright_path.read_text(encoding="utf-8"))
        candidates = EXTRACTORS[spec.extractor](root, spec)
        print(f"{spec.name} {versions[spec.name]}: {len(candidates)} candidates")
        for candidate in candidates:
            verdict = judge(spec, candidate.name)
            if verdict != KEEP:
                dropped.append((candidate, verdict, None))
                continue
            try:
                image, transparent = decode_rgb(candidate.load_bytes())
            except (OSError, ValueError, ImageCms.PyCMSError) as error:
                print(f"warning: cannot decode {candidate.package}:{candidate.name}: {error}", file=sys.stderr)
                dropped.append((candidate, REASON_DECODE, None))
                continue
            source_size = image.size
            target = resized_size(*image.size, args.max_side)
            if target != image.size:
                image = image.resize(target, Image.Resampling.LANCZOS, reducing_gap=3.0)
            if transparent:
                dropped.append((candidate, REASON_TRANSPARENT, thumbnail(image)))
                continue
            if min(image.size) < args.min_side:
                reason = f"{REASON_SMALL} (short side {min(image.size)} px < {args.min_side})"
                dropped.append((candidate, reason, thumbnail(image)))
                continue
            chroma = mean_chroma(image)
            if chroma < args.min_chroma:
                reason = f"{REASON_GRAYSCALE} (mean chroma {chroma:.1f} < {args.min_chroma})"
                dropped.append((candidate, reason, thumbnail(image)))
                continue
            license_name, pattern = copyright_file.license_for(spec.source_path(candidate.name))
            photo = Photo(
                candidate=candidate,
                id=make_id(spec, candidate.name, used_ids),
                version=versions[spec.name],
                jpeg=encode_jpeg(image),
                size=image.size,
                preview=thumbnail(image),
                source_size=source_size,
                hash_bits=difference_hash(image),
                copyright_file_license=license_name,
            )
            if candidate.upstream_license:
                photo.license = candidate.upstream_license
                photo.license_source = candidate.upstream_license_source
            else:
                photo.license = license_name
                photo.license_source = f"usr/share/doc/{spec.name}/copyright (Files: {pattern})"
            photos.append(photo)
    return photos, dropped, versions


def remove_duplicates(
    photos: list[Photo], max_distance: int
) -> tuple[list[Photo], list[tuple[Photo, Photo]]]:
    """Drop near-duplicate photos, keeping the largest of each group.

    Photos are visited from the largest source to the smallest.  A photo whose
    hash is within max_distance bits of an already kept photo is a duplicate
    of that photo.
    """
    order = sorted(
        photos,
        key=lambda p: (-p.source_size[0] * p.source_size[1], PACKAGE_ORDER[p.candidate.package], p.id),
    )
    unique: list[Photo] = []
    duplicates: list[tuple[Photo, Photo]] = []
    for photo in order:
        original = None
        for other in unique:
            if np.count_nonzero(other.hash_bits != photo.hash_bits) <= max_distance:
                original = other
                break
        if original is None:
            unique.append(photo)
        else:
            duplicates.append((photo, original))
    unique.sort(key=lambda p: (PACKAGE_ORDER[p.candidate.package], p.id))
    return unique, duplicates


PACKAGE_ORDER = {spec.name: index for index, spec in enumerate(PACKAGES)}


def prepare_out_dir(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("photos", "crops", "review"):
        if (out_dir / name).exists():
            shutil.rmtree(out_dir / name)
    for name in ("manifest.csv", "dropped.csv", "LICENSES.md"):
        (out_dir / name).unlink(missing_ok=True)
    for folder in ("photos/train", "photos/val", "crops/train", "crops/val"):
        (out_dir / folder).mkdir(parents=True)


def write_outputs(args: argparse.Namespace, photos: list[Photo]) -> dict[str, int]:
    """Write photos and crops, and return the crop count per split."""
    out_dir = args.out_dir
    crop_counts = {"train": 0, "val": 0}
    for photo in photos:
        photo_path = out_dir / "photos" / photo.split / f"{photo.id}.jpg"
        photo_path.write_bytes(photo.jpeg)
        photo.sha256 = hashlib.sha256(photo.jpeg).hexdigest()
        # Crops come from the written JPEG, so they can be rebuilt from photos/.
        image = Image.open(io.BytesIO(photo.jpeg)).convert("RGB")
        if photo.split == "val":
            centre_crop(image, args.crop_size).save(out_dir / "crops/val" / f"{photo.id}.png")
            photo.crops = 1
        else:
            rng = random.Random(f"{args.seed}:crops:{photo.id}")
            crops = training_crops(image, args.crop_size, args.crop_plan, rng)
            for index, crop in enumerate(crops):
                crop.save(out_dir / "crops/train" / f"{photo.id}_{index}.png")
            photo.crops = len(crops)
        crop_counts[photo.split] += photo.crops
    return crop_counts


MANIFEST_FIELDS = (
    "id", "split", "package", "package_version", "package_path", "entry_path",
    "license", "license_source", "copyright_file_license",
    "source_width", "source_height", "width", "height", "sha256", "crops",
)


def write_manifest(path: Path, photos: list[Photo]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=MANIFEST_FIELDS)
        writer.writeheader()
        for photo in photos:
            writer.writerow({
                "id": photo.id,
                "split": photo.split,
                "package": photo.candidate.package,
                "package_version": photo.version,
                "package_path": photo.candidate.package_path,
                "entry_path": photo.candidate.entry_path,
                "license": photo.license,
                "license_source": photo.license_source,
                "copyright_file_license": photo.copyright_file_license,
                "source_width": photo.source_size[0],
                "source_height": photo.source_size[1],
                "width": photo.size[0],
                "height": photo.size[1],
                "sha256": photo.sha256,
                "crops": photo.crops,
            })


def write_dropped(path: Path, dropped: list[tuple[Candidate, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(("package", "name", "package_path", "entry_path", "reason"))
        for candidate, reason in dropped:
            writer.writerow((candidate.package, candidate.name, candidate.package_path, candidate.entry_path, reason))


def write_licenses(path: Path, photos: list[Photo], versions: dict[str, str]) -> None:
    counts = collections.Counter((p.candidate.package, p.license) for p in photos)
    lines = [
        "# Licences of the photo corpus",
        "",
        "Every photo comes from a Debian package; manifest.csv gives for each photo",
        "the package, version, path and licence.  `license` is the most specific",
        "licence found: per-file upstream metadata shipped in the package where it",
        "exists (gcompris resource README files, Plasma metadata.json, Palapeli",
        ".desktop files, the LXQt wallpaper License file, Tux Paint starter notes),",
        "otherwise the Files paragraph of the package's debian/copyright that",
        "covers the file.  `copyright_file_license` always gives the latter.",
        "Attribution licences (CC-BY*) require crediting the authors named in",
        "those files when the photos are redistributed.",
        "",
        "| package | version | licence | photos |",
        "| --- | --- | --- | ---: |",
    ]
    for (package, license_name), count in sorted(counts.items(), key=lambda item: (PACKAGE_ORDER[item[0][0]], item[0][1])):
        lines.append(f"| {package} | {versions[package]} | {license_name} | {count} |")
    lines += ["", f"Total: {len(photos)} photos.", ""]
    catch_all = collections.Counter(
        p.candidate.package for p in photos if p.license_source.endswith("(Files: *)")
    )
    if catch_all:
        lines += [
            "These photos have no per-file licence: only the catch-all `Files: *`",
            "paragraph of debian/copyright covers them, and neither that file nor",
            "upstream metadata names their photographers.  Check their origin",
            "before redistributing them:",
            "",
        ]
        for package, count in sorted(catch_all.items(), key=lambda item: PACKAGE_ORDER[item[0]]):
            lines.append(f"- {package}: {count}")
        lines.append("")
    totals = collections.Counter(p.license for p in photos)
    lines += ["| licence | photos |", "| --- | ---: |"]
    for license_name, count in sorted(totals.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"| {license_name} | {count} |")
    lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def write_review_sheets(out_dir: Path, photos: list[Photo], dropped: list[tuple[Candidate, str, Image.Image | None]]) -> None:
    review = out_dir / "review"
    review.mkdir(parents=True, exist_ok=True)
    chunk = 96
    for start in range(0, len(photos), chunk):
        items = [(p.preview, p.id) for p in photos[start : start + chunk]]
        write_contact_sheet(items, review / f"kept_{start // chunk + 1:02d}.png")
    decoded = [(image, f"{reason.split(' (')[0]}: {c.name.rsplit('/', 1)[-1]}") for c, reason, image in dropped if image is not None]
    if decoded:
        write_contact_sheet(decoded, review / "dropped.png")


def print_summary(
    specs: list[PackageSpec],
    candidates_count: dict[str, int],
    photos: list[Photo],
    dropped: list[tuple[Candidate, str]],
    crop_counts: dict[str, int],
) -> None:
    print()
    print("Summary")
    for spec in specs:
        package_photos = [p for p in photos if p.candidate.package == spec.name]
        train = sum(p.split == "train" for p in package_photos)
        reasons = collections.Counter(
            reason.split(" (")[0] if reason.startswith((REASON_SMALL, REASON_GRAYSCALE, REASON_DUPLICATE)) else reason
            for candidate, reason in dropped
            if candidate.package == spec.name
        )
        print(
            f"  {spec.name}: {candidates_count[spec.name]} candidates, kept {len(package_photos)} "
            f"({train} train, {len(package_photos) - train} val), dropped {sum(reasons.values())}"
        )
        for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0])):
            print(f"      {count:4d}  {reason}")
    train = sum(p.split == "train" for p in photos)
    print(f"  total photos: {len(photos)} ({train} train, {len(photos) - train} val)")
    print(f"  total crops: {crop_counts['train']} train, {crop_counts['val']} val")
    unreviewed = sum(reason == REASON_UNREVIEWED for _, reason in dropped)
    if unreviewed:
        print(f"  warning: {unreviewed} candidates match no rule; see dropped.csv")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    check_outside_repository(args.work_dir, "--work-dir")
    check_outside_repository(args.out_dir, "--out-dir")
    specs = [spec for spec in PACKAGES if not args.packages or spec.name in args.packages]

    try:
        photos, dropped_raw, versions = collect(args, specs)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    photos, duplicates = remove_duplicates(photos, args.max_hash_distance)
    for duplicate, original in duplicates:
        reason = f"{REASON_DUPLICATE} (of {original.id})"
        dropped_raw.append((duplicate.candidate, reason, duplicate.preview))
    assign_splits(photos, args.val_fraction, args.seed)

    prepare_out_dir(args.out_dir)
    crop_counts = write_outputs(args, photos)
    write_manifest(args.out_dir / "manifest.csv", photos)
    dropped = [(candidate, reason) for candidate, reason, _ in dropped_raw]
    dropped.sort(key=lambda item: (PACKAGE_ORDER[item[0].package], item[0].name))
    write_dropped(args.out_dir / "dropped.csv", dropped)
    write_licenses(args.out_dir / "LICENSES.md", photos, versions)
    if args.contact_sheets:
        write_review_sheets(args.out_dir, photos, dropped_raw)

    candidates_count = collections.Counter(c.package for c, _ in dropped)
    candidates_count.update(p.candidate.package for p in photos)
    print_summary(specs, candidates_count, photos, dropped, crop_counts)
    print(f"Wrote {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
