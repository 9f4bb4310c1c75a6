"""Model file metadata: reading and validating it without importing torch.

A safetensors file starts with an 8-byte little-endian header length and a JSON
header whose ``__metadata__`` entry is a string-to-string table. Reading only that
keeps the app's start-up fast, and it runs no code from the file.
"""

from __future__ import annotations

import json
import struct
from dataclasses import asdict, dataclass, field
from pathlib import Path

from engine.errors import ModelFileError

ARCHITECTURES = ("unet", "unet-class")
MAX_HEADER_BYTES = 100_000_000
"""The safetensors library's own header size limit."""

FORMAT_NAME = "colorapp-model"
FORMAT_VERSION = 1
MODEL_SUFFIX = ".safetensors"
_JSON_FIELDS = ("hyperparameters", "training_data", "metrics", "label_centers")


@dataclass
class ModelInfo:
    """Metadata of a model file: its generator, training and quality."""

    name: str
    architecture: str
    width: int
    num_classes: int | None = None
    recipe: str = ""
    version: str = "1"
    description: str = ""
    license: str = ""
    hyperparameters: dict = field(default_factory=dict)
    training_data: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    label_centers: list | None = None
    """k-means centres of the ab histograms behind pseudo-labels, or None."""

    def to_metadata(self) -> dict[str, str]:
        metadata = {"format": FORMAT_NAME, "format_version": str(FORMAT_VERSION)}
        for key, value in asdict(self).items():
            if value is None:
                continue
            metadata[key] = json.dumps(value) if key in _JSON_FIELDS else str(value)
        return metadata

    @classmethod
    def from_metadata(cls, metadata: dict[str, str] | None, path: Path) -> ModelInfo:
        def fail(problem: str) -> ModelFileError:
            return ModelFileError(
                f"{path}: {problem}; this is not a valid ColorApp model file "
                "(export one with 'colorapp-engine export' or pick another file)"
            )

        if not metadata or metadata.get("format") != FORMAT_NAME:
            raise fail("the metadata does not name the ColorApp model format")
        try:
            version = int(metadata.get("format_version", ""))
        except ValueError:
            raise fail("the format version is missing") from None
        if version > FORMAT_VERSION:
            raise ModelFileError(
                f"{path}: model format version {version} is newer than this ColorApp "
                f"supports ({FORMAT_VERSION}); update ColorApp to use it"
            )
        for key in ("name", "architecture", "width"):
            if key not in metadata:
                raise fail(f"the metadata field {key!r} is missing")
        architecture = metadata["architecture"]
        if architecture not in ARCHITECTURES:
            raise fail(f"unknown architecture {architecture!r}")
        try:
            width = int(metadata["width"])
            num_classes = int(metadata["num_classes"]) if "num_classes" in metadata else None
            parsed = {k: json.loads(metadata[k]) for k in _JSON_FIELDS if k in metadata}
        except (ValueError, json.JSONDecodeError) as error:
            raise fail(f"a metadata field is malformed ({error})") from None
        if width < 1 or (num_classes is not None and num_classes < 2):
            raise fail(f"width {width} or class count {num_classes} is out of range")
        if architecture == "unet-class" and num_classes is None:
            raise fail("a classification model must state num_classes")
        text = {k: metadata[k] for k in ("recipe", "version", "description", "license") if k in metadata}
        return cls(
            name=metadata["name"],
            architecture=architecture,
            width=width,
            num_classes=num_classes,
            **text,
            **parsed,
        )


def _read_header(path: Path) -> dict:
    def unreadable(problem: str) -> ModelFileError:
        return ModelFileError(
            f"{path}: not a readable safetensors model file ({problem}); the file may be "
            "truncated or of another kind; export or download it again"
        )

    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise unreadable("shorter than a safetensors header")
        (length,) = struct.unpack("<Q", prefix)
        size = path.stat().st_size
        if length > MAX_HEADER_BYTES or 8 + length > size:
            raise unreadable(f"header length {length} does not fit the file of {size} bytes")
        try:
            header = json.loads(handle.read(length))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise unreadable(f"header is not JSON: {error}") from None
    if not isinstance(header, dict):
        raise unreadable("header is not a JSON object")
    end = max((entry["data_offsets"][1] for key, entry in header.items()
               if key != "__metadata__" and isinstance(entry, dict) and "data_offsets" in entry),
              default=0)
    if 8 + length + end > size:
        raise unreadable(f"the tensors need {8 + length + end} bytes but the file has {size}")
    return header


def read_model_info(path: str | Path) -> ModelInfo:
    """Read and validate a model file's metadata without loading its weights."""
    path = Path(path)
    try:
        header = _read_header(path)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: model file not found") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a folder, not a model file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot read the model file ({error.strerror or error})") from None
    metadata = header.get("__metadata__")
    if metadata is not None and not isinstance(metadata, dict):
        metadata = None
    return ModelInfo.from_metadata(metadata, path)


