#!/usr/bin/env bash
# Export a chosen training checkpoint as a shipped model with its card.
#
#   tools/export_shipped.sh RECIPE CHECKPOINT
#
# Writes resources/models/RECIPE.safetensors (fp16) and RECIPE.md. The card's notes
# (weaknesses, corpus) come from tools/model_notes/RECIPE.md. Choose CHECKPOINT by
# the validation figures in the run's metrics.jsonl and by a contact sheet
# (tools/contact_sheet.py), not simply the last one.
set -euo pipefail
recipe=${1:?usage: tools/export_shipped.sh RECIPE CHECKPOINT}
checkpoint=${2:?usage: tools/export_shipped.sh RECIPE CHECKPOINT}
python=${PYTHON:-python}
root=$(cd "$(dirname "$0")/.." && pwd)
case "$recipe" in
    pix2pix) name="pix2pix (compact)"; summary="U-Net generator trained with a PatchGAN discriminator, GAN + L1 loss." ;;
    pix2pix-class) name="pix2pix + scene classes (compact)"; summary="U-Net generator with a scene-classification branch, GAN + L1 + cross-entropy." ;;
    wgan-gp-class) name="WGAN-GP + scene classes (compact)"; summary="U-Net generator with a scene-classification branch, WGAN-GP + L2 + cross-entropy." ;;
    *) echo "unknown recipe $recipe" >&2; exit 2 ;;
esac
training_data='{"folder": "crops/train of the open corpus built by tools/build_corpus.py",
 "corpus": "365 colour photographs from 10 Debian packages (329 training, 36 held out)",
 "photos": "1,636 256x256 crops of the 329 training photographs",
 "validation_photos": "33 crops of the 36 held-out photographs",
 "skipped": "91 crops of one flat tint (sky, wall) or no colour, left out by the colour screening",
 "licences": "public domain, CC0, CC-BY, CC-BY-SA, GPL, LGPL, BSD, Apache-2.0; per-photo list in docs/corpus/manifest.csv"}'
exec "$python" -m engine export "$checkpoint" \
    -o "$root/resources/models/$recipe.safetensors" \
    --name "$name" \
    --description "$summary Width 16, trained on a CPU on a small open photo corpus." \
    --license "CC-BY-SA-4.0" \
    --training-data "$training_data" \
    --notes "$root/tools/model_notes/$recipe.md"
