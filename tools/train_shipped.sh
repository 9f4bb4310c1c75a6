#!/usr/bin/env bash
# Train (or resume) one of the shipped models on the open photo corpus.
#
#   tools/train_shipped.sh pix2pix|pix2pix-class|wgan-gp-class [extra train options]
#
# The corpus comes from tools/build_corpus.py (default /work/cache/corpus); runs go to
# $RUNS/$RUN (default /work/cache/runs/RECIPE-w16), outside the repository. Rerunning
# the same command resumes from the last checkpoint. On a GPU, pass --device cuda and
# --threads 0. The model cards give the exact command of each shipped model.
set -euo pipefail
recipe=${1:?usage: tools/train_shipped.sh RECIPE [train options]}
shift
corpus=${CORPUS:-/work/cache/corpus}
runs=${RUNS:-/work/cache/runs}
run=${RUN:-$recipe-w16}
python=${PYTHON:-python}
exec "$python" -m engine train \
    --recipe "$recipe" \
    --data "$corpus/crops/train" \
    --val "$corpus/crops/val" \
    --out "$runs/$run" \
    --width 16 \
    --threads 1 \
    --checkpoint-every 500 \
    --validate-every 500 \
    --resume \
    "$@"
