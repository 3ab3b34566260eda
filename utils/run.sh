#!/usr/bin/env bash
# Kaldi run.pl-style parallel job runner: see toolkit/bin/run_jobs.py (--help).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=$root/tools/venv/bin/python; [ -x "$python" ] || python=python3
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m toolkit.bin.run_jobs "$@"
