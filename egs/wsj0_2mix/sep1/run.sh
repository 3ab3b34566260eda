#!/usr/bin/env bash
# WSJ0-2mix separation (mixtures generated here from WSJ0 and MERL's mix lists); see README.md.
#   ./run.sh --local_data_opts "--corpus_dir /data/wsj0_wav --lists_dir /data/create-speaker-mixtures"
#            [--fs 8000|16000] [--mode min|max] [--sep_config conf/tuning/train_mossformer2.yaml] [sep.sh options]
set -euo pipefail
fs=8000
mode=min
args=()
while [ $# -gt 0 ]; do  # take the recipe's own options, pass the rest to sep.sh
    case "$1" in
        --fs) fs=$2; shift 2 ;;
        --mode) mode=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
tag=$((fs / 1000))k_${mode}

../../TEMPLATE/sep1/sep.sh \
    --fs ${fs} --num_spks 2 \
    --local_data_opts "--fs ${fs} --mode ${mode}" \
    --train_set tr_${tag} --valid_set cv_${tag} --test_sets "tt_${tag}" \
    --expdir exp_${tag} --min_seconds 0.5 --max_seconds 30 \
    --nj 8 --inference_nj 8 --ngpu 1 \
    --sep_config conf/train_conv_tasnet.yaml \
    "${args[@]}"
