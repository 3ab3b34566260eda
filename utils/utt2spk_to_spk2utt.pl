#!/usr/bin/env bash
# Kaldi's utils/utt2spk_to_spk2utt.pl: see toolkit/bin/utt2spk_to_spk2utt.py (--help).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=$root/tools/venv/bin/python; [ -x "$python" ] || python=python3
PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" exec "$python" -m toolkit.bin.utt2spk_to_spk2utt "$@"
