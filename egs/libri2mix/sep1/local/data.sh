#!/usr/bin/env bash
# Libri2Mix -> <data_dir>/<set>_clean_<fs/1000>k_<mode> (and <set>_both_... with noise_dir), set in
# train_100 train_360 dev test; logic in toolkit/corpus/real/libri2mix.py.
# Nothing is downloaded: LibriSpeech (https://www.openslr.org/12), LibriMix's metadata CSVs
# (https://github.com/JorisCos/LibriMix, metadata/Libri2Mix) and, for mix_both, WHAM! noise.
set -euo pipefail
corpus_dir=downloads/LibriSpeech                       # the LibriSpeech folder, or the folder holding it
lists_dir=downloads/LibriMix/metadata/Libri2Mix        # holds libri2mix_{train-clean-100,...}.csv
noise_dir=                                             # wham_noise folder: also makes mix_both (empty: mix_clean only)
wav_dir=downloads/Libri2Mix                            # mixtures go to wav_dir/wav8k/min/<part>/{s1,s2,mix_clean,...}/
parts="train-clean-100 train-clean-360 dev-clean test-clean"  # metadata parts to make (spaces or commas)
fs=8000                                                # 8000 or 16000
mode=min                                               # min (truncate to the shortest) or max (zero-pad)
nj=4                                                   # worker processes
data_dir=data                                          # where the data dirs go
. ./path.sh
. utils/parse_options.sh

# shellcheck disable=SC2086  # parts is a word list
python -m toolkit.bin.prepare_sep_corpus --corpus libri2mix --src "${corpus_dir}" --lists_dir "${lists_dir}" \
    --noise_dir "${noise_dir}" --dst "${data_dir}" --wav_dir "${wav_dir}" --parts ${parts//,/ } \
    --fs "${fs}" --mode "${mode}" --nj "${nj}"
