#!/usr/bin/env bash
# LJSpeech TTS: FastSpeech2 + HiFi-GAN V1 on one GPU (see README.md).
#   ./run.sh [--stage N] [--stop_stage M] [--local_data_opts "--corpus_dir /path"] [tts.sh options]
set -euo pipefail

../../TEMPLATE/tts1/tts.sh \
    --fs 22050 \
    --train_set train --valid_set dev --test_sets "test" \
    --feat_conf conf/mel.yaml \
    --nj 8 --inference_nj 4 --ngpu 1 \
    --aligner_config conf/train_aligner.yaml \
    --tts_config conf/tuning/train_fastspeech2.yaml \
    --vocoder_config conf/tuning/train_hifigan_v1.yaml \
    "$@"
