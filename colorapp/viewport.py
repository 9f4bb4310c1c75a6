"""Zoom and pan of an image in a view, as plain Python state without Qt.

Several views can share one ``Viewport``: each draws the image at
``image_rect(view_size)``, so views of the same size show the same part of the
image at the same scale. Coordinates are floats: image coordinates in image
pixels from the top left corner, view coordinates in logical pixels of the view.
"""

from __future__ import annotations

import math
from collections.abc import Callable

Size = tuple[float, float]
Point = tuple[float, float]

MIN_SCALE = 0.01
MAX_SCALE = 32.0
FIT_MARGIN = 12
"""Space left around the image, in view pixels, when it is fitted into the view."""


class Viewport:
    """Scale and center of an image in a view, or "fit": the whole image, centered.

    ``scale`` is view pixels per image pixel. While zoomed, the view center shows
    the image point ``center``, which is kept inside the image so the image cannot
    be panned out of sight. Listeners are called after every change.
    """

    def __init__(self) -> None:
        self._image_size: Size | None = None
        self._fit = True
        self._scale = 1.0
        self._center: Point = (0.0, 0.0)
        self._listeners: list[Callable[[], None]] = []

    # State

    @property
    def image_size(self) -> Size | None:
        return self._image_size

    @property
    def is_fit(self) -> bool:
        return self._fit

    @property
    def center(self) -> Point:
        """Image point at the view center (the image center in fit mode)."""
        if self._fit or self._image_size is None:
            return self._image_center()
        return self._center

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def set_image_size(self, size: Size | None) -> None:
        """Show an image of this size. A different size than before resets the view to fit."""
        if size is not None and (size[0] <= 0 or size[1] <= 0):
            raise ValueError(f"image size must be positive, got {size}")
        if size == self._image_size:
            return
        self._image_size = size
        self._fit = True
        self._notify()

    # Geometry

    def fit_scale(self, view_size: Size) -> float:
        """Return the scale at which the whole image fits the view inside the margin."""
        if self._image_size is None:
            return 1.0
        width, height = self._image_size
        available_width = max(view_size[0] - 2 * FIT_MARGIN, 1.0)
        available_height = max(view_size[1] - 2 * FIT_MARGIN, 1.0)
        return min(available_width / width, available_height / height)

    def scale_for(self, view_size: Size) -> float:
        """Return view pixels per image pixel in a view of this size."""
        return self.fit_scale(view_size) if self._fit else self._scale

    def image_rect(self, view_size: Size) -> tuple[float, float, float, float]:
        """Return (left, top, width, height) of the whole image in view coordinates.

        While zoomed in, the rectangle is larger than the view and the view shows
        only part of it. Without an image, return an empty rectangle.
        """
        if self._image_size is None:
            return (0.0, 0.0, 0.0, 0.0)
        scale = self.scale_for(view_size)
        center_x, center_y = self.center
        left = view_size[0] / 2 - center_x * scale
        top = view_size[1] / 2 - center_y * scale
        return (left, top, self._image_size[0] * scale, self._image_size[1] * scale)

    def map_to_image(self, point: Point, view_size: Size) -> Point:
        """Return the image coordinates under a view point."""
        scale = self.scale_for(view_size)
        center_x, center_y = self.center
        return (
            center_x + (point[0] - view_size[0] / 2) / scale,
            center_y + (point[1] - view_size[1] / 2) / scale,
        )

    def map_from_image(self, point: Point, view_size: Size) -> Point:
        """Return the view coordinates of an image point."""
        scale = self.scale_for(view_size)
        center_x, center_y = self.center
        return (
            view_size[0] / 2 + (point[0] - center_x) * scale,
            view_size[1] / 2 + (point[1] - center_y) * scale,
        )

    # Changes

    def zoom_at(self, factor: float, point: Point, view_size: Size) -> None:
        """Multiply the scale by ``factor`` and keep the image point under ``point`` in place.

        The point stays exactly in place when zooming in on a point of the image.
        Zooming out can pan the view back over the image, which moves the point.
        """
        if self._image_size is None:
            return
        if not math.isfinite(factor) or factor <= 0:
            raise ValueError(f"zoom factor must be a positive number, got {factor}")
        old_scale = self.scale_for(view_size)
        new_scale = min(max(old_scale * factor, MIN_SCALE), MAX_SCALE)
        anchor_x, anchor_y = self.map_to_image(point, view_size)
        offset_x = point[0] - view_size[0] / 2
        offset_y = point[1] - view_size[1] / 2
        self._set_zoomed(new_scale, (anchor_x - offset_x / new_scale, anchor_y - offset_y / new_scale))

    def zoom_by(self, factor: float, view_size: Size) -> None:
        """Zoom around the view center."""
        self.zoom_at(factor, (view_size[0] / 2, view_size[1] / 2), view_size)

    def set_scale(self, scale: float) -> None:
        """Show the image at ``scale`` (1.0 is 100 %) around the current center."""
        if self._image_size is None:
            return
        if not math.isfinite(scale) or scale <= 0:
            raise ValueError(f"scale must be a positive number, got {scale}")
        self._set_zoomed(min(max(scale, MIN_SCALE), MAX_SCALE), self.center)

    def pan(self, dx: float, dy: float, view_size: Size) -> None:
        """Move the image by (dx, dy) view pixels, as a hand dragging it would."""
        if self._image_size is None or (dx == 0 and dy == 0):
            return
        scale = self.scale_for(view_size)
        center_x, center_y = self.center
        self._set_zoomed(scale, (center_x - dx / scale, center_y - dy / scale))

    def fit(self) -> None:
        """Show the whole image, centered."""
        if self._fit:
            return
        self._fit = True
        self._notify()

    # Internals

    def _image_center(self) -> Point:
        if self._image_size is None:
            return (0.0, 0.0)
        return (self._image_size[0] / 2, self._image_size[1] / 2)

    def _set_zoomed(self, scale: float, center: Point) -> None:
        width, height = self._image_size
        clamped = (min(max(center[0], 0.0), width), min(max(center[1], 0.0), height))
        if not self._fit and scale == self._scale and clamped == self._center:
            return
        self._fit = False
        self._scale = scale
        self._center = clamped
        self._notify()

    def _notify(self) -> None:
        for listener in list(self._listeners):
            listener()
