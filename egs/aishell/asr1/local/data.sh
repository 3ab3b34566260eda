#!/usr/bin/env bash
# AISHELL-1 -> data/{train,dev,test}; logic in toolkit/corpus/real/aishell.py.
# Nothing is downloaded: get data_aishell.tgz from https://www.openslr.org/33, extract it under
# corpus_dir, then extract the per-speaker archives in data_aishell/wav (see README.md).
set -euo pipefail
corpus_dir=downloads  # the data_aishell folder, or the folder holding it
. ./path.sh
. utils/parse_options.sh

python -m toolkit.bin.prepare_corpus --corpus aishell --src "${corpus_dir}" --dst data
