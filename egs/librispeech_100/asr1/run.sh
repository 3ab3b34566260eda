#!/usr/bin/env bash
# LibriSpeech train-clean-100 ASR; see README.md.
#   ./run.sh [--local_data_opts "--corpus_dir DIR"] [--stage N] [--stop_stage M] [asr.sh options]
set -euo pipefail
corpus_dir=downloads  # the extracted LibriSpeech folder, or the folder holding it

../../TEMPLATE/asr1/asr.sh \
    --fs 16000 \
    --local_data_opts "--corpus_dir ${corpus_dir}" \
    --train_set train_clean_100 --valid_set dev --test_sets "test_clean test_other dev_clean dev_other" \
    --speed_perturb_factors "0.9 1.0 1.1" \
    --feats_type fbank --feat_conf conf/fbank.yaml \
    --token_type bpe --nbpe 5000 --bpemode unigram \
    --ngpu 1 \
    --use_lm false --lm_config conf/lm.yaml \
    "$@"
