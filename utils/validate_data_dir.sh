#!/usr/bin/env bash
# Check a Kaldi data dir and print every problem: see toolkit/bin/validate_data_dir.py (--help).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=$root/tools/venv/bin/python; [ -x "$python" ] || python=python3
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m toolkit.bin.validate_data_dir "$@"
