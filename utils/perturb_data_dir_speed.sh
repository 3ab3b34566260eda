#!/usr/bin/env bash
# Kaldi's utils/perturb_data_dir_speed.sh: see toolkit/bin/perturb_data_dir_speed.py (--help).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=$root/tools/venv/bin/python; [ -x "$python" ] || python=python3
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m toolkit.bin.perturb_data_dir_speed "$@"
