#!/usr/bin/env bash
# mini_synth ASR: an offline corpus synthesised with espeak-ng; see README.md.
#   ./run.sh [--corpus_size ci|bench] [--stage N] [--stop_stage M] [asr.sh options]
# asr.sh options given here come after the recipe's own and override them: --feats_type raw trains on
# the audio with fbank features computed in the model (exp/asr_<config>_raw) instead of dumped fbank.
set -euo pipefail
corpus_size=ci
fs=16000
args=()
while [ $# -gt 0 ]; do  # take the recipe's own option, pass the rest to asr.sh
    case "$1" in
        --corpus_size|--corpus-size) corpus_size=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
case ${corpus_size} in
    ci) nbpe=100; asr_config=conf/train_asr_ci.yaml; sp_factors=""; nbest=2 ;;
    bench) nbpe=300; asr_config=conf/train_asr.yaml; sp_factors="0.9 1.0 1.1"; nbest=2 ;;
    *) echo "$0: --corpus_size must be ci or bench, got '${corpus_size}'" >&2; exit 1 ;;
esac

../../TEMPLATE/asr1/asr.sh \
    --fs ${fs} \
    --local_data_opts "--corpus_size ${corpus_size} --fs ${fs}" \
    --train_set train --valid_set dev --test_sets "test" \
    --speed_perturb_factors "${sp_factors}" \
    --feats_type fbank --feat_conf conf/fbank.yaml \
    --token_type bpe --nbpe ${nbpe} --bpemode unigram \
    --nj 2 --inference_nj 2 --use_lm true \
    --asr_config ${asr_config} --nbest_average ${nbest} --inference_config conf/decode_asr.yaml \
    "${args[@]}"
