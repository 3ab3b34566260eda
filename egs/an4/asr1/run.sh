#!/usr/bin/env bash
# CMU AN4 ASR (948 + 130 utterances of spelled census data); see README.md.
#   ./run.sh [--local_data_opts "--corpus_dir DIR [--ndev_utts N]"] [--stage N] [--stop_stage M] [asr.sh options]
set -euo pipefail
corpus_dir=downloads  # the extracted an4 folder, or the folder holding it

../../TEMPLATE/asr1/asr.sh \
    --fs 16000 \
    --local_data_opts "--corpus_dir ${corpus_dir}" \
    --train_set train_nodev --valid_set train_dev --test_sets "train_dev test" \
    --speed_perturb_factors "0.9 1.0 1.1" \
    --feats_type fbank --feat_conf conf/fbank.yaml \
    --token_type bpe --nbpe 30 --bpemode unigram \
    --ngpu 1 \
    --use_lm true --lm_config conf/lm.yaml \
    "$@"
