"""Draw the ColorApp icon into resources/icons/colorapp-256.png and colorapp-48.png.

The icon is a framed landscape whose left half is grey and right half in colour, split
by a compare-slider handle, as in the app's before-and-after view. Run it with the
project's Python after changing the drawing (it needs only Pillow). The PNG files are
committed, so a build does not run it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw, ImageOps

CANVAS = 1024
"""Side in pixels of the drawing, which is then downscaled to each icon size."""

SIZES = (256, 48)
OUTPUT_DIR = Path(__file__).resolve().parent.parent / "resources" / "icons"

FRAME_FILL = (244, 241, 234, 255)
OUTLINE = (46, 52, 64, 255)
SKY_TOP = (64, 132, 214)
SKY_HORIZON = (250, 196, 120)
SUN = (255, 214, 74)
FAR_HILL = (70, 140, 110)
NEAR_HILL = (46, 110, 60)
HANDLE = (255, 255, 255, 255)


def _vertical_gradient(width: int, height: int, top: tuple, bottom: tuple) -> Image.Image:
    gradient = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(gradient)
    for y in range(height):
        t = y / max(height - 1, 1)
        colour = tuple(round(a + (b - a) * t) for a, b in zip(top, bottom))
        draw.line([(0, y), (width, y)], fill=colour)
    return gradient


def _landscape(width: int, height: int) -> Image.Image:
    """Return an RGB landscape (sky, sun, two hills) of ``width`` x ``height`` pixels."""
    photo = _vertical_gradient(width, height, SKY_TOP, SKY_HORIZON)
    draw = ImageDraw.Draw(photo)

    sun_radius = width * 0.11
    sun_x, sun_y = width * 0.70, height * 0.36
    draw.ellipse([sun_x - sun_radius, sun_y - sun_radius, sun_x + sun_radius, sun_y + sun_radius], fill=SUN)

    draw.ellipse([-width * 0.3, height * 0.55, width * 0.9, height * 1.6], fill=FAR_HILL)
    draw.ellipse([width * 0.25, height * 0.68, width * 1.5, height * 1.8], fill=NEAR_HILL)
    return photo


def draw_icon() -> Image.Image:
    """Return the icon as an RGBA image of CANVAS x CANVAS pixels."""
    icon = Image.new("RGBA", (CANVAS, CANVAS), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)

    frame_margin = CANVAS * 0.06
    frame_box = [frame_margin, frame_margin, CANVAS - frame_margin, CANVAS - frame_margin]
    draw.rounded_rectangle(frame_box, radius=CANVAS * 0.14, fill=FRAME_FILL, outline=OUTLINE,
                           width=round(CANVAS * 0.035))

    # The photo: drawn in colour, then its left half replaced by the grey version.
    photo_margin = round(CANVAS * 0.16)
    photo_side = CANVAS - 2 * photo_margin
    photo = _landscape(photo_side, photo_side)
    half = photo_side // 2
    grey_half = ImageOps.grayscale(photo.crop((0, 0, half, photo_side))).convert("RGB")
    photo.paste(grey_half, (0, 0))

    mask = Image.new("L", (photo_side, photo_side), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, photo_side - 1, photo_side - 1],
                                           radius=round(CANVAS * 0.06), fill=255)
    icon.paste(photo, (photo_margin, photo_margin), mask)

    # The compare slider: a white divider with a round handle in the middle.
    centre = photo_margin + half
    line_half_width = CANVAS * 0.012
    draw.rectangle([centre - line_half_width, photo_margin, centre + line_half_width,
                    photo_margin + photo_side], fill=HANDLE)
    handle_radius = CANVAS * 0.07
    middle = CANVAS / 2
    draw.ellipse([centre - handle_radius, middle - handle_radius, centre + handle_radius,
                  middle + handle_radius], fill=HANDLE, outline=OUTLINE, width=round(CANVAS * 0.014))
    return icon


def write_icons(output_dir: Path = OUTPUT_DIR, sizes: tuple[int, ...] = SIZES) -> list[Path]:
    """Write one PNG per size, ``colorapp-SIZE.png``, into ``output_dir``; return their paths."""
    icon = draw_icon()
    output_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for size in sizes:
        path = output_dir / f"colorapp-{size}.png"
        icon.resize((size, size), Image.Resampling.LANCZOS).save(path, optimize=True)
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=OUTPUT_DIR,
                        help=f"folder for the PNG files (default {OUTPUT_DIR})")
    args = parser.parse_args()
    for path in write_icons(args.output_dir):
        print(path)


if __name__ == "__main__":
    main()
