"""The model catalogue: the shipped models and those the user trained or imported."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from engine import paths
from engine.atomic import write_new
from engine.errors import ModelFileError
from engine.modelinfo import MODEL_SUFFIX, ModelInfo, read_model_info

log = logging.getLogger(__name__)

DEFAULT_MODEL_KEY = "pix2pix"
"""File stem of the shipped model selected when the user has chosen none."""


@dataclass(frozen=True)
class ModelEntry:
    key: str
    """Stable id: the file stem, prefixed with "user:" for user models."""
    name: str
    path: Path
    shipped: bool
    info: ModelInfo
    card_markdown: str


def _card_for(path: Path, info: ModelInfo) -> str:
    card = path.with_suffix(".md")
    if card.is_file():
        try:
            return card.read_text(encoding="utf-8")
        except OSError as error:
            log.warning("cannot read model card %s: %s", card, error)
    return f"# {info.name}\n\n{info.description or 'No model card was provided.'}\n"


class ModelCatalog:
    """Lists model files in the shipped folder and the user model folder.

    Files that fail validation are skipped and kept in ``problems`` with the reason.
    """

    def __init__(self, user_model_dir: Path | None = None, shipped_dir: Path | None = None) -> None:
        self.shipped_dir = shipped_dir or paths.shipped_model_dir()
        self.user_model_dir = user_model_dir or paths.user_model_dir()
        self.problems: list[str] = []

    def _scan(self, folder: Path, shipped: bool) -> list[ModelEntry]:
        if not folder.is_dir():
            return []
        entries = []
        for path in sorted(folder.glob(f"*{MODEL_SUFFIX}")):
            try:
                info = read_model_info(path)
            except ModelFileError as error:
                log.warning("skipping model file: %s", error)
                self.problems.append(str(error))
                continue
            key = path.stem if shipped else f"user:{path.stem}"
            entries.append(ModelEntry(key, info.name, path, shipped, info, _card_for(path, info)))
        return entries

    def entries(self) -> list[ModelEntry]:
        """Return the shipped models (default first), then the user's, freshly scanned."""
        self.problems = []
        shipped = self._scan(self.shipped_dir, shipped=True)
        shipped.sort(key=lambda entry: entry.key != DEFAULT_MODEL_KEY)
        return shipped + self._scan(self.user_model_dir, shipped=False)

    def default(self) -> ModelEntry:
        entries = self.entries()
        if not entries:
            raise ModelFileError(
                f"no model files found in {self.shipped_dir} or {self.user_model_dir}; "
                "reinstall ColorApp or import a model"
            )
        return entries[0]

    def find(self, key: str) -> ModelEntry | None:
        return next((entry for entry in self.entries() if entry.key == key), None)


MAX_IMPORT_SUFFIX = 999


def _copy_new(source: Path, target: Path) -> Path:
    return write_new(target, lambda temporary: shutil.copyfile(source, temporary))


def import_model(path: str | Path, user_model_dir: Path | None = None) -> ModelEntry:
    """Validate a model file fully and copy it, with its ``.md`` card if present, into the user model folder.

    Validation builds the generator the metadata names and checks every tensor's
    name and shape, as loading does. An existing user model is never overwritten:
    the copy gets a ``_2``, ``_3`` ... suffix instead. A file that is already in the
    user model folder is returned as it is.

    Raises:
        ModelFileError: the file is missing, not a ColorApp safetensors model, or
            could not be copied.
    """
    from engine.modelfile import load_generator  # Imports torch, which the catalogue avoids.

    path = Path(path)
    folder = Path(user_model_dir) if user_model_dir is not None else paths.user_model_dir()
    if path.suffix != MODEL_SUFFIX:
        raise ModelFileError(
            f"{path}: not a model file; ColorApp models are {MODEL_SUFFIX} files"
        )
    _, info = load_generator(path)
    card = path.with_suffix(".md")
    card_text = _card_for(path, info)

    if path.resolve().parent == folder.resolve():
        log.info("%s is already in the user model folder", path)
        return ModelEntry(f"user:{path.stem}", info.name, path, False, info, card_text)

    try:
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(1, MAX_IMPORT_SUFFIX + 1):
            stem = path.stem if index == 1 else f"{path.stem}_{index}"
            target = folder / f"{stem}{MODEL_SUFFIX}"
            target_card = folder / f"{stem}.md"
            if target.exists() or target_card.exists():
                continue
            try:
                _copy_new(path, target)
            except FileExistsError:
                continue
            break
        else:
            raise ModelFileError(
                f"{folder}: more than {MAX_IMPORT_SUFFIX} models named {path.stem}*; "
                "rename the file before importing it"
            )
        if card.is_file():
            try:
                _copy_new(card, target_card)
            except FileExistsError:
                log.warning("kept the existing model card %s; %s was not copied", target_card, card)
    except OSError as error:
        raise ModelFileError(
            f"{path}: copying into {folder} failed ({error.strerror or error}); check that "
            "the folder is writable and the disk has free space"
        ) from None

    log.info("imported model %r from %s as %s", info.name, path, target)
    return ModelEntry(f"user:{stem}", info.name, target, False, info, _card_for(target, info))
