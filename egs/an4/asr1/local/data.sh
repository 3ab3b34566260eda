#!/usr/bin/env bash
# CMU AN4 -> data/{train,train_dev,train_nodev,test}; logic in toolkit/corpus/real/an4.py.
# Nothing is downloaded: get an4_sphere.tar.gz from http://www.speech.cs.cmu.edu/databases/an4/
# and extract it under corpus_dir.
set -euo pipefail
corpus_dir=downloads  # the an4 folder, or the folder holding it
ndev_utts=100         # first training utterances held out as train_dev (ESPnet's split)
. ./path.sh
. utils/parse_options.sh

python -m toolkit.bin.prepare_corpus --corpus an4 --src "${corpus_dir}" --dst data --ndev_utts "${ndev_utts}"
