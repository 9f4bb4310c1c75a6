#!/usr/bin/env bash
# Build the one-folder app dist/ColorApp/ with PyInstaller.
#
#   packaging/build.sh
#
# The build runs in its own virtual environment (build/venv), apart from the .venv used
# for development, so a fresh clone builds the same bundle. Environment variables:
#
#   PYTHON                interpreter for the build venv (default python3.11)
#   BUILD_VENV            folder of the build venv (default build/venv)
#   TORCH_PACKAGES        PyTorch packages as NAME==VERSION, separated by spaces
#                         (default "torch==2.13.0"); they are installed first, and
#                         the project's other dependencies are then resolved to fit them
#   TORCH_INDEX_URL       package index for TORCH_PACKAGES (default: pip's own)
#   PYINSTALLER_VERSION   PyInstaller release (default 6.22.3)
#   HOOKS_CONTRIB_VERSION pyinstaller-hooks-contrib release (default 2026.10)
#
# The app needs only the CPU build of PyTorch, and the CUDA build adds several GB of
# libraries. On the development machine pip finds a local torch 2.13.0+cpu wheel.
# Elsewhere, install the CPU builds of torch and torchvision from PyTorch's CPU wheel
# index, for example:
#
#   TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu \
#   TORCH_PACKAGES="torch==2.13.0 torchvision==0.28.0" packaging/build.sh
#
# To start over after changing these, delete build/venv.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3.11}
venv=${BUILD_VENV:-build/venv}
read -r -a torch_packages <<<"${TORCH_PACKAGES:-torch==2.13.0}"
torch_index_url=${TORCH_INDEX_URL:-}
pyinstaller_version=${PYINSTALLER_VERSION:-6.22.3}
hooks_contrib_version=${HOOKS_CONTRIB_VERSION:-2026.10}

started=$SECONDS

if [[ ! -x "$venv/bin/python" ]]; then
    echo "Creating the build venv $venv with $python"
    "$python" -m venv "$venv"
fi
pip=("$venv/bin/python" -m pip install --quiet)

echo "Installing ${torch_packages[*]}${torch_index_url:+ from $torch_index_url}"
if [[ -n "$torch_index_url" ]]; then
    "${pip[@]}" --index-url "$torch_index_url" "${torch_packages[@]}"
else
    "${pip[@]}" "${torch_packages[@]}"
fi

# The constraints keep those releases through the later installs. Without them, a
# dependency that requires another torch release (torchvision does) makes pip replace
# the CPU build.
constraints=$venv/torch-constraints.txt
printf '%s\n' "${torch_packages[@]}" >"$constraints"

# pip reinstalls a project given as a folder every time. setuptools builds its wheel
# in build/lib and never deletes a module removed from the source tree there, so the
# build starts from an empty folder.
rm -rf build/lib
echo "Installing PyInstaller $pyinstaller_version and the project with its dependencies"
"${pip[@]}" --constraint "$constraints" \
    "pyinstaller==$pyinstaller_version" "pyinstaller-hooks-contrib==$hooks_contrib_version" .

"$venv/bin/python" - <<'EOF'
import torch

if torch.version.cuda is not None:
    print(
        f"NOTE: torch {torch.__version__} is a CUDA build; the bundle will carry its CUDA "
        "libraries (several GB). Set TORCH_INDEX_URL to a CPU wheel index for a small bundle."
    )
EOF

echo "Running PyInstaller"
rm -rf dist/ColorApp
"$venv/bin/pyinstaller" --noconfirm --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/colorapp.spec

echo "Built dist/ColorApp/ ($(du -sh dist/ColorApp | cut -f1)) in $((SECONDS - started)) s"
