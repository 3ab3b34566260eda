#!/usr/bin/env bash
# LibriSpeech train-clean-100 -> data/{train_clean_100,dev_clean,dev_other,test_clean,test_other}
# and data/dev (dev-clean + dev-other); logic in toolkit/corpus/real/librispeech.py.
# Nothing is downloaded: get the five parts from https://www.openslr.org/12 and extract them under corpus_dir.
set -euo pipefail
corpus_dir=downloads  # the LibriSpeech folder, or the folder holding it
. ./path.sh
. utils/parse_options.sh

python -m toolkit.bin.prepare_corpus --corpus librispeech --src "${corpus_dir}" --dst data \
    --parts dev-clean dev-other test-clean test-other train-clean-100
utils/combine_data.sh data/dev data/dev_clean data/dev_other
