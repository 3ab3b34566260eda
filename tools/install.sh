#!/usr/bin/env bash
# Build tools/venv with the toolkit installed in editable mode (idempotent).
# Usage: tools/install.sh [extras, e.g. test]     (re-run is a no-op when up to date)
set -euo pipefail
tools_dir=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$tools_dir")
venv="$tools_dir/venv"
extras="${1:-test}"
python="${PYTHON:-python3}"
stamp="$venv/.installed-$extras"

if [ -f "$stamp" ] && [ "$stamp" -nt "$root/setup.py" ]; then
    echo "tools/venv is up to date ($stamp)"
    exit 0
fi
if [ ! -x "$venv/bin/python" ]; then
    echo "Creating $venv"
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip "setuptools<82" wheel  # <82: pyworld needs pkg_resources
echo "Installing toolkit[$extras] into $venv (first time: a few minutes)"
"$venv/bin/python" -m pip install --quiet -e "$root[$extras]"
if [ "$extras" = test ]; then
    # pyctcdecode (test oracle) pins numpy<2 but runs on numpy 2: install it without its pins.
    "$venv/bin/python" -m pip install --quiet --no-deps "pyctcdecode==0.5.0" "pygtrie>=2.1,<3"
    # pyvoicebox-sap (activlev oracle for the WSJ0-2mix level): its pins are not needed for that function.
    "$venv/bin/python" -m pip install --quiet --no-deps "pyvoicebox-sap==0.1.1"
    # clearvoice (MossFormer2 oracle) would pull librosa, opencv and numpy<2: only what its network imports.
    "$venv/bin/python" -m pip install --quiet --no-deps "clearvoice==0.1.2" "rotary_embedding_torch==0.8.3" \
        "einops==0.8.2" "torchinfo==1.8.0" "yamlargparse==1.31.1"
fi
"$venv/bin/python" -c "import torch, torchaudio, kaldiio, sentencepiece, soundfile, espeakng_loader, pyworld; print('torch', torch.__version__, 'torchaudio', torchaudio.__version__)"
touch "$stamp"
