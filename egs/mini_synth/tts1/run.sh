#!/usr/bin/env bash
# mini_synth TTS: one espeak-ng voice, offline; FastSpeech2 + HiFi-GAN (stages: ../../../README.md, RESULTS.md).
#   ./run.sh [--corpus_size ci|bench] [--stage N] [--stop_stage M] [tts.sh options]
set -euo pipefail
corpus_size=ci
fs=16000
args=()
while [ $# -gt 0 ]; do  # take the recipe's own option, pass the rest to tts.sh
    case "$1" in
        --corpus_size|--corpus-size) corpus_size=$2; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
case ${corpus_size} in
    ci) suffix=_ci; vocoder_valid_utts=0 ;;
    bench) suffix=""; vocoder_valid_utts=10 ;;  # a 10-utterance vocoder validation: ~4 s, not ~20 s, an epoch
    *) echo "$0: --corpus_size must be ci or bench, got '${corpus_size}'" >&2; exit 1 ;;
esac
# The intelligibility score uses the mini_synth ASR model when it has been trained (../asr1).
asr_model_dir=""
[ -f ../asr1/exp/asr_train_asr/valid.acc.ave.pth ] && asr_model_dir=../asr1/exp/asr_train_asr

../../TEMPLATE/tts1/tts.sh \
    --fs ${fs} \
    --local_data_opts "--corpus_size ${corpus_size} --fs ${fs}" \
    --train_set train --valid_set dev --test_sets "test" \
    --feat_conf conf/mel.yaml \
    --nj 2 --inference_nj 2 \
    --aligner_config conf/train_aligner${suffix}.yaml \
    --tts_config conf/train_fastspeech2${suffix}.yaml \
    --vocoder_config conf/train_hifigan${suffix}.yaml --vocoder_valid_utts ${vocoder_valid_utts} \
    --asr_model_dir "${asr_model_dir}" \
    "${args[@]}"
