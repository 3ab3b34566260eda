#!/usr/bin/env bash
# LibriSpeech 960 h -> data/<part> for all seven parts, data/train_960 and data/dev
# (dev-clean + dev-other); logic in toolkit/corpus/real/librispeech.py.
# Nothing is downloaded: get the seven parts from https://www.openslr.org/12 and extract them under corpus_dir.
set -euo pipefail
corpus_dir=downloads  # the LibriSpeech folder, or the folder holding it
. ./path.sh
. utils/parse_options.sh

python -m toolkit.bin.prepare_corpus --corpus librispeech --src "${corpus_dir}" --dst data \
    --parts dev-clean dev-other test-clean test-other train-clean-100 train-clean-360 train-other-500
utils/combine_data.sh data/train_960 data/train_clean_100 data/train_clean_360 data/train_other_500
utils/combine_data.sh data/dev data/dev_clean data/dev_other
