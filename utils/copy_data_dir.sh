#!/usr/bin/env bash
# Kaldi's utils/copy_data_dir.sh: see toolkit/bin/copy_data_dir.py (--help).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=$root/tools/venv/bin/python; [ -x "$python" ] || python=python3
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m toolkit.bin.copy_data_dir "$@"
