"""Exceptions the engine raises for problems a user can act on."""

from __future__ import annotations


class ColorAppError(Exception):
    """Base class; ``str(error)`` is a complete message for the user."""


class ImageReadError(ColorAppError):
    """An image file is missing, unreadable, corrupt or of an unsupported kind."""


class ModelFileError(ColorAppError):
    """A model file is missing, malformed, or not a ColorApp model."""


class ExportError(ColorAppError):
    """Writing a result image failed."""


class TrainingError(ColorAppError):
    """A training run cannot start or had to stop."""


class InferenceError(ColorAppError):
    """Colourizing a photo failed: the model gave no usable colour or ran out of memory."""


class CancelledError(ColorAppError):
    """The caller cancelled a long operation (``cancel()`` returned True)."""
