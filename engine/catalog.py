"""The model catalogue: the shipped models and those the user trained or imported."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from engine import paths
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
