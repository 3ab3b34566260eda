#!/usr/bin/env bash
# Shared TTS stages (FastSpeech2 + HiFi-GAN). A recipe's run.sh sets its corpus options and
# calls this script. Every stage reads what earlier stages wrote, so any stage can be rerun alone:
#   ./run.sh --stage 6 --stop_stage 6
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"  # log, train_cmd

stage=1                  # first stage to run
stop_stage=100           # last stage to run
nj=4                     # parallel jobs for data processing
ngpu=0                   # GPUs for training (torchrun --nproc_per_node)
fs=22050                 # sample rate of the corpus (checked; the mel config must agree)
local_data_opts=""       # options passed to local/data.sh
train_set=train          # training data dir under data/
valid_set=dev            # validation data dir
test_sets="test"         # sets whose text is synthesised and scored
feat_conf=conf/mel.yaml  # log-mel config (toolkit.features.logmel.LogMel options)
dumpdir=dump             # features, phonemes, durations, pitch, energy
token_opts="--cleaner tts_en --voice en-us"  # phonemiser options for train_tokenizer --token_type phn
min_frames=10            # stage 4 filter: shortest training utterance (frames)
max_frames=3000          # stage 4 filter: longest training utterance (frames)
aligner_config=conf/train_aligner.yaml  # CTC aligner (an ASR model without subsampling)
aligner_args=""          # extra aligner training options
duration_method=ctc      # ctc: a phoneme owns the frames from its CTC spike to the next one's | viterbi
                         # (on mini_synth, ctc gave word boundaries 3.1 frames, not 5.3, and steadier durations)
f0_method=dio            # dio | harvest (pyworld)
f0min=60                 # Hz
f0max=500                # Hz
tts_config=conf/train_fastspeech2.yaml  # acoustic model config
tts_args=""              # extra acoustic model training options
tts_nbest=3              # acoustic model checkpoints averaged (by valid loss)
vocoder_config=conf/train_hifigan.yaml  # vocoder config
vocoder_args=""          # extra vocoder training options
vocoder_valid_utts=0     # validate the vocoder on this many dev utterances each epoch (0: all)
inference_args=""        # extra tts_inference options (e.g. "--speed 1.1 --pitch_scale 1.05")
inference_nj=2           # parallel synthesis jobs
asr_model_dir=""         # ASR experiment for the intelligibility score (CER); empty: no CER
asr_model_file=valid.acc.ave.pth  # its weights
expdir=exp               # experiments

help_message="Usage: $0 [options]  (see the option list below; stages:
  1 data preparation (local/data.sh -> data/<set>/)
  2 log-mel extraction (dump/<set>/feats.scp) and global CMVN stats
  3 text cleaning and phonemisation (data/token_list/phn, dump/<set>/token_int)
  4 durations: length filter (dump/<set>_filtered, removed.txt), CTC aligner training
    (exp/aligner), forced alignment to frames per phoneme (dump/<set>_filtered/durations)
  5 per-phoneme pitch (WORLD F0) and energy, normalised with training statistics
  6 acoustic model training and averaging (exp/tts_<config>/)
  7 vocoder training (exp/vocoder_<config>/)
  8 synthesis of the test sentences with the vocoder and with Griffin-Lim
  9 scoring: MCD, log-F0 RMSE, voicing error, ASR CER; score.json, RESULTS.md, mel figures
 10 summary)"

. ./path.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "Unexpected arguments: $*\n${help_message}"
    exit 1
fi

token_dir=data/token_list/phn
device=cpu; [ "${ngpu}" -gt 0 ] && device=cuda  # alignment and synthesis
aligner_exp=${expdir}/aligner
tts_exp=${expdir}/tts_$(basename ${tts_config} .yaml)
vocoder_exp=${expdir}/vocoder_$(basename ${vocoder_config} .yaml)
tts_model=valid.loss.ave.pth
vocoder_model=valid.mel_loss.best.pth
stats=${dumpdir}/${train_set}_filtered/prosody_stats.json

if [ ${stage} -le 1 ] && [ ${stop_stage} -ge 1 ]; then
    log "Stage 1: data preparation: local/data.sh ${local_data_opts}"
    local/data.sh ${local_data_opts}
    for dset in ${train_set} ${valid_set} ${test_sets}; do
        utils/validate_data_dir.sh --nj ${nj} --fs ${fs} data/${dset}
    done
fi

if [ ${stage} -le 2 ] && [ ${stop_stage} -ge 2 ]; then
    for dset in ${train_set} ${valid_set} ${test_sets}; do
        log "Stage 2: log-mel features: data/${dset} -> ${dumpdir}/${dset} (logs in ${dumpdir}/${dset}/log)"
        python -m toolkit.bin.make_feats --data_dir data/${dset} --out_dir ${dumpdir}/${dset} \
            --feat_type logmel --feat_conf ${feat_conf} --nj ${nj}
    done
    log "Stage 2: global CMVN statistics: ${dumpdir}/${train_set}/cmvn.ark"
    python -m toolkit.bin.compute_cmvn_stats --feats_scp ${dumpdir}/${train_set}/feats.scp \
        --out ${dumpdir}/${train_set}/cmvn.ark
fi

if [ ${stage} -le 3 ] && [ ${stop_stage} -ge 3 ]; then
    log "Stage 3: phoneme inventory from data/${train_set}/text -> ${token_dir}"
    python -m toolkit.bin.train_tokenizer --token_type phn --text data/${train_set}/text \
        --out_dir ${token_dir} ${token_opts}
    for dset in ${train_set} ${valid_set} ${test_sets}; do
        log "Stage 3: phonemising ${dumpdir}/${dset}/text -> ${dumpdir}/${dset}/token, token_int"
        python -m toolkit.bin.tokenize_text --token_type phn --token_dir ${token_dir} \
            --text ${dumpdir}/${dset}/text --out ${dumpdir}/${dset}/token \
            --out_ids ${dumpdir}/${dset}/token_int --nj ${nj}
    done
fi

if [ ${stage} -le 4 ] && [ ${stop_stage} -ge 4 ]; then
    for dset in ${train_set} ${valid_set}; do
        log "Stage 4: filtering ${dumpdir}/${dset} -> ${dumpdir}/${dset}_filtered (removed.txt says why)"
        python -m toolkit.bin.filter_data_dir --min_frames ${min_frames} --max_frames ${max_frames} \
            --subsampling 1 ${dumpdir}/${dset} ${dumpdir}/${dset}_filtered
    done
    log "Stage 4: CTC aligner training -> ${aligner_exp} (log: ${aligner_exp}/train.log)"
    train_cmd --task asr --config ${aligner_config} --token_list ${token_dir}/tokens.txt \
        --cmvn ${dumpdir}/${train_set}/cmvn.ark \
        --train_data_dir ${dumpdir}/${train_set}_filtered --valid_data_dir ${dumpdir}/${valid_set}_filtered \
        --output_dir ${aligner_exp} ${aligner_args}
    for dset in ${train_set} ${valid_set}; do
        log "Stage 4: forced alignment -> ${dumpdir}/${dset}_filtered/durations"
        python -m toolkit.bin.compute_durations --model_dir ${aligner_exp} --checkpoint valid.loss.best.pth \
            --method ${duration_method} --device ${device} \
            --feats_scp ${dumpdir}/${dset}_filtered/feats.scp --token_int ${dumpdir}/${dset}_filtered/token_int \
            --out ${dumpdir}/${dset}_filtered/durations
    done
fi

if [ ${stage} -le 5 ] && [ ${stop_stage} -ge 5 ]; then
    for dset in ${train_set} ${valid_set}; do
        dir=${dumpdir}/${dset}_filtered
        log "Stage 5: ${f0_method} F0 and energy per phoneme -> ${dir}/pitch, ${dir}/energy"
        python -m toolkit.bin.extract_prosody --wav_scp ${dir}/wav.scp --durations ${dir}/durations \
            --feat_conf ${feat_conf} --out_dir ${dir} --f0_method ${f0_method} --f0min ${f0min} --f0max ${f0max} \
            --nj ${nj} $([ ${dset} != ${train_set} ] && echo --stats_file ${stats})
    done
fi

if [ ${stage} -le 6 ] && [ ${stop_stage} -ge 6 ]; then
    log "Stage 6: acoustic model training -> ${tts_exp} (log: ${tts_exp}/train.log)"
    train_cmd --task tts --config ${tts_config} --token_list ${token_dir}/tokens.txt --feat_conf ${feat_conf} \
        --cmvn ${dumpdir}/${train_set}/cmvn.ark --prosody_stats ${stats} \
        --train_data_dir ${dumpdir}/${train_set}_filtered --valid_data_dir ${dumpdir}/${valid_set}_filtered \
        --output_dir ${tts_exp} ${tts_args}
    log "Stage 6: averaging the ${tts_nbest} best checkpoints by valid loss -> ${tts_exp}/${tts_model}"
    python -m toolkit.bin.average_checkpoints --exp_dir ${tts_exp} --criterion "valid loss min" --nbest ${tts_nbest}
fi

if [ ${stage} -le 7 ] && [ ${stop_stage} -ge 7 ]; then
    vocoder_valid=${dumpdir}/${valid_set}_filtered
    if [ ${vocoder_valid_utts} -gt 0 ]; then
        vocoder_valid=${dumpdir}/${valid_set}_filtered_${vocoder_valid_utts}
        utils/subset_data_dir.sh --per_spk ${vocoder_valid_utts} ${dumpdir}/${valid_set}_filtered ${vocoder_valid}
    fi
    log "Stage 7: vocoder training -> ${vocoder_exp} (log: ${vocoder_exp}/train.log)"
    train_cmd --task vocoder --config ${vocoder_config} --feat_conf ${feat_conf} \
        --train_data_dir ${dumpdir}/${train_set}_filtered --valid_data_dir ${vocoder_valid} \
        --output_dir ${vocoder_exp} ${vocoder_args}
fi

if [ ${stage} -le 8 ] && [ ${stop_stage} -ge 8 ]; then
    for dset in ${test_sets}; do
        for voc in hifigan griffin_lim; do
            dir=${tts_exp}/synth_${voc}/${dset}
            voc_opts="--vocoder griffin_lim"
            [ ${voc} = hifigan ] && voc_opts="--vocoder_dir ${vocoder_exp} --vocoder_file ${vocoder_model}"
            log "Stage 8: synthesising ${dumpdir}/${dset}/text with ${voc} -> ${dir} (${inference_nj} jobs, logs in ${dir}/log)"
            utils/split_data.sh ${dumpdir}/${dset} ${inference_nj}
            utils/run.sh JOB=1:${inference_nj} ${dir}/log/synth.JOB.log \
                python -m toolkit.bin.tts_inference --model_dir ${tts_exp} --model_file ${tts_model} ${voc_opts} \
                    --token_int ${dumpdir}/${dset}/split${inference_nj}/JOB/token_int --out_dir ${dir}/output.JOB \
                    --device ${device} \
                    ${inference_args}
            python -m toolkit.bin.merge_inference --out_dir ${dir} \
                $(for j in $(seq ${inference_nj}); do echo ${dir}/output.${j}; done)
        done
    done
fi

if [ ${stage} -le 9 ] && [ ${stop_stage} -ge 9 ]; then
    asr_opts=""
    if [ -n "${asr_model_dir}" ]; then
        asr_opts="--asr_model_dir ${asr_model_dir} --asr_model_file ${asr_model_file} --cleaner asr"
    else
        log "Stage 9: no --asr_model_dir: the ASR CER is not scored"
    fi
    for dset in ${test_sets}; do
        for voc in hifigan griffin_lim; do
            dir=${tts_exp}/synth_${voc}/${dset}
            log "Stage 9: scoring ${dir}/wav.scp against ${dumpdir}/${dset}/wav.scp -> ${dir}/score.json"
            python -m toolkit.bin.score_tts --ref_scp ${dumpdir}/${dset}/wav.scp --hyp_scp ${dir}/wav.scp \
                --text ${dumpdir}/${dset}/text --out_dir ${dir} --nj ${nj} ${asr_opts} \
                --results_md ${tts_exp}/RESULTS.md --name "${dset} ${voc}" --rtf_json ${dir}/rtf.json
        done
        log "Stage 9: predicted vs reference mel spectrograms -> ${tts_exp}/images/mel_${dset}_*.png"
        python -m toolkit.bin.plot_mels --ref_feats_scp ${dumpdir}/${dset}/feats.scp \
            --hyp_feats_scp ${tts_exp}/synth_hifigan/${dset}/feats.scp --num 3 \
            --out_prefix ${tts_exp}/images/mel_${dset}
    done
fi

if [ ${stage} -le 10 ] && [ ${stop_stage} -ge 10 ]; then
    log "Stage 10: summary"
    python -m toolkit.bin.data_summary --token_dir ${token_dir} \
        $(for e in ${aligner_exp} ${tts_exp} ${vocoder_exp}; do [ -f ${e}/selection.json ] && echo --exp_dir ${e}; done) \
        $(for dset in ${train_set}_filtered ${valid_set}_filtered ${test_sets}; do echo ${dumpdir}/${dset}; done)
    [ -f ${tts_exp}/RESULTS.md ] && cat ${tts_exp}/RESULTS.md
fi
log "Finished: $0 $*"
