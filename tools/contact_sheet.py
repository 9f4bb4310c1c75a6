"""Make a contact sheet PNG: input, ground truth and each model's colourization per photo.

Usage: python tools/contact_sheet.py --data DIR --models pix2pix [more] -o sheet.png [--count 8]

Each row is one photo of DIR at 256x256; the columns are the grayscale input, the
ground truth, then one column per model. Photos without colour are left out, as
``colorapp-engine evaluate`` leaves them out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from PIL import Image, ImageDraw

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from engine.catalog import ModelCatalog  # noqa: E402
from engine.color import lab_to_rgb_keep_lightness, rgb_to_lab  # noqa: E402
from engine.data.photo_folder import find_images  # noqa: E402
from engine.data.screening import MONOCHROME_REASONS, screen_photo  # noqa: E402
from engine.evaluation import EVAL_SIZE, load_eval_image, predict_lab  # noqa: E402
from engine.modelfile import load_generator  # noqa: E402

LABEL_HEIGHT = 22


def _to_image(rgb: torch.Tensor) -> Image.Image:
    array = (rgb.permute(1, 2, 0).clamp(0, 1) * 255).round().byte().numpy()
    return Image.fromarray(array, "RGB")


def _resolve(item: str) -> Path:
    path = Path(item)
    if path.suffix:
        return path
    entry = ModelCatalog().find(item)
    if entry is None:
        raise SystemExit(f"error: no model named {item!r}")
    return entry.path


@torch.inference_mode()
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--models", nargs="+", required=True)
    parser.add_argument("-o", "--output", required=True, type=Path)
    parser.add_argument("--count", type=int, default=8, help="photos (rows) on the sheet")
    parser.add_argument("--skip", type=int, default=0, help="photos to skip at the start of DIR")
    parser.add_argument("--tile", type=int, default=EVAL_SIZE, help="width of each picture on the sheet, in pixels")
    parser.add_argument("--keep-monochrome", action="store_true",
                        help="also show grayscale and single-tint photos, left out as evaluate leaves them out")
    args = parser.parse_args()

    files = find_images(args.data)
    if not args.keep_monochrome:
        files = [path for path in files if screen_photo(path).reason not in MONOCHROME_REASONS]
    files = files[args.skip : args.skip + args.count]
    models = [(name, load_generator(_resolve(name))[0]) for name in args.models]
    titles = ["input", "ground truth"] + [name if not name.endswith(".safetensors") else Path(name).stem
                                          for name, _ in models]
    columns = len(titles)
    size = args.tile
    sheet = Image.new("RGB", (columns * size, LABEL_HEIGHT + len(files) * size), "white")
    draw = ImageDraw.Draw(sheet)
    for column, title in enumerate(titles):
        draw.text((column * size + 6, 5), title, fill="black")

    for row, path in enumerate(files):
        truth = load_eval_image(path)[None]
        truth_lab = rgb_to_lab(truth)
        gray = lab_to_rgb_keep_lightness(torch.cat((truth_lab[:, :1], torch.zeros_like(truth_lab[:, 1:])), 1))
        tiles = [gray[0], truth[0]]
        for _, model in models:
            tiles.append(lab_to_rgb_keep_lightness(predict_lab(model, truth_lab))[0])
        top = LABEL_HEIGHT + row * size
        for column, tile in enumerate(tiles):
            picture = _to_image(tile).resize((size, size), Image.Resampling.LANCZOS)
            sheet.paste(picture, (column * size, top))
    sheet.save(args.output, optimize=True)
    print(args.output)


if __name__ == "__main__":
    main()
