#!/usr/bin/env bash
# Libri2Mix separation (mixtures generated here from LibriSpeech and the LibriMix metadata); see README.md.
#   ./run.sh --local_data_opts "--corpus_dir /data/LibriSpeech --lists_dir /data/LibriMix/metadata/Libri2Mix"
#            [--fs 8000|16000] [--mode min|max] [--train_part 100|360] [sep.sh options]
set -euo pipefail
fs=8000
mode=min
train_part=100
args=()
while [ $# -gt 0 ]; do  # take the recipe's own options, pass the rest to sep.sh
    case "$1" in
        --fs) fs=$2; shift 2 ;;
        --mode) mode=$2; shift 2 ;;
        --train_part) train_part=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
tag=$((fs / 1000))k_${mode}

../../TEMPLATE/sep1/sep.sh \
    --fs ${fs} --num_spks 2 \
    --local_data_opts "--fs ${fs} --mode ${mode} --parts train-clean-${train_part},dev-clean,test-clean" \
    --train_set train_${train_part}_clean_${tag} --valid_set dev_clean_${tag} --test_sets "test_clean_${tag}" \
    --expdir exp_${tag} --min_seconds 0.5 --max_seconds 30 \
    --nj 8 --inference_nj 8 --ngpu 1 \
    --sep_config conf/train_conv_tasnet.yaml \
    "${args[@]}"
