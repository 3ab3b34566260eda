#!/usr/bin/env bash
# Kaldi's utils/split_data.sh: see toolkit/bin/split_data.py (--help).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=$root/tools/venv/bin/python; [ -x "$python" ] || python=python3
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m toolkit.bin.split_data "$@"
