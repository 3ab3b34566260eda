#!/usr/bin/env bash
# AISHELL-1 Mandarin ASR with character tokens; see README.md.
#   ./run.sh [--local_data_opts "--corpus_dir DIR"] [--stage N] [--stop_stage M] [asr.sh options]
set -euo pipefail
corpus_dir=downloads  # the extracted data_aishell folder, or the folder holding it

../../TEMPLATE/asr1/asr.sh \
    --fs 16000 \
    --local_data_opts "--corpus_dir ${corpus_dir}" \
    --train_set train --valid_set dev --test_sets "dev test" \
    --speed_perturb_factors "0.9 1.0 1.1" \
    --feats_type fbank --feat_conf conf/fbank.yaml \
    --token_type char \
    --ngpu 1 \
    --use_lm false --lm_config conf/lm.yaml \
    "$@"
