#!/usr/bin/env bash
# WSJ0-2mix -> <data_dir>/{tr,cv,tt}_<fs/1000>k_<mode>; logic in toolkit/corpus/real/wsj0_2mix.py.
# Nothing is downloaded: WSJ0 (LDC93S6A) with its discs merged under corpus_dir/wsj0 and
# converted to wav (or the .wv1 files with sph2pipe on PATH), and MERL's mix lists
# mix_2_spk_{tr,cv,tt}.txt (create-speaker-mixtures.zip) in lists_dir.
set -euo pipefail
corpus_dir=downloads/wsj0_wav                   # the folder holding wsj0/
lists_dir=downloads/create-speaker-mixtures     # holds mix_2_spk_{tr,cv,tt}.txt
wav_dir=downloads/wsj0-mix/2speakers            # mixtures go to wav_dir/wav8k/min/tr/{mix,s1,s2}/...
fs=8000                                         # 8000 or 16000
mode=min                                        # min (truncate to the shorter) or max (zero-pad)
nj=4                                            # worker processes
data_dir=data                                   # where the data dirs go
. ./path.sh
. utils/parse_options.sh

python -m toolkit.bin.prepare_sep_corpus --corpus wsj0_2mix --src "${corpus_dir}" --lists_dir "${lists_dir}" \
    --dst "${data_dir}" --wav_dir "${wav_dir}" --fs "${fs}" --mode "${mode}" --nj "${nj}"
