"""ColorApp's engine: colourization models, colour pipeline, inference and training.

This package has no Qt dependency; the desktop app and the ``colorapp-engine``
command-line tool are both built on it.
"""

from engine.imaging import SUPPORTED_SUFFIXES

__version__ = "0.1.0"

__all__ = ["SUPPORTED_SUFFIXES", "__version__"]
