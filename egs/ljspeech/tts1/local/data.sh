#!/usr/bin/env bash
# LJ Speech 1.1 -> data/{train,dev,test}; logic in toolkit/corpus/real/ljspeech.py.
# Nothing is downloaded: get LJSpeech-1.1.tar.bz2 from https://keithito.com/LJ-Speech-Dataset/
# (https://data.keithito.com/data/speech/LJSpeech-1.1.tar.bz2) and extract it under corpus_dir.
set -euo pipefail
corpus_dir=downloads  # the LJSpeech-1.1 folder, or the folder holding it
. ./path.sh
. utils/parse_options.sh

python -m toolkit.bin.prepare_corpus --corpus ljspeech --src "${corpus_dir}" --dst data
