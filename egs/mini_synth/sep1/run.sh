#!/usr/bin/env bash
# mini_synth separation: offline two-speaker mixtures synthesised with espeak-ng; see README.md.
#   ./run.sh [--corpus_size ci|bench] [--fs 8000|16000] [--model conv_tasnet|mossformer2] [--stage N] [sep.sh options]
set -euo pipefail
corpus_size=ci
fs=8000
model=conv_tasnet
args=()
while [ $# -gt 0 ]; do  # take the recipe's own options, pass the rest to sep.sh
    case "$1" in
        --corpus_size|--corpus-size) corpus_size=$2; shift 2 ;;
        --fs) fs=$2; shift 2 ;;
        --model) model=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
case ${corpus_size} in
    ci) sep_config=conf/train_sep_ci.yaml ;;
    bench) sep_config=conf/train_${model}.yaml ;;
    *) echo "$0: --corpus_size must be ci or bench, got '${corpus_size}'" >&2; exit 1 ;;
esac
case ${fs} in
    8000|16000) ;;
    *) echo "$0: --fs must be 8000 or 16000, got '${fs}'" >&2; exit 1 ;;
esac

# 8 kHz and 16 kHz data and experiments live apart: data_8000/, exp_8000/, ...
# Short trainings whose lr decays to its floor: the last/best epoch alone, no averaging.
../../TEMPLATE/sep1/sep.sh \
    --fs ${fs} --num_spks 2 \
    --local_data_opts "--corpus_size ${corpus_size} --fs ${fs} --data_dir data_${fs}" \
    --data_dir data_${fs} --expdir exp_${fs} \
    --train_set train --valid_set dev --test_sets "test" \
    --nj 2 --inference_nj 2 \
    --sep_config ${sep_config} --nbest_average 1 \
    "${args[@]}"
