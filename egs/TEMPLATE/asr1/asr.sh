#!/usr/bin/env bash
# Shared ASR stages. A recipe's run.sh sets its corpus options and calls this script.
# Every stage reads what earlier stages wrote, so any stage can be rerun alone:
#   ./run.sh --stage 3 --stop_stage 3
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"  # log, train_cmd

stage=1                  # first stage to run
stop_stage=100           # last stage to run
nj=4                     # parallel jobs for data processing
ngpu=0                   # GPUs for training (torchrun --nproc_per_node)
fs=16000                 # sample rate of the corpus
local_data_opts=""       # options passed to local/data.sh
train_set=train          # training data dir under data/
valid_set=dev            # validation data dir
test_sets="test"         # evaluation data dirs
speed_perturb_factors="" # e.g. "0.9 1.0 1.1"; empty skips speed perturbation
feats_type=fbank         # fbank | mfcc: features dumped in stage 3; raw: audio, features computed in the model
frontend_type=fbank      # --feats_type raw: the features the model computes from the audio (fbank | mfcc)
feat_conf=conf/fbank.yaml  # feature options (torchaudio.compliance.kaldi), dumped or computed in the model
dumpdir=dump             # features and tokens
token_type=bpe           # bpe | char | word | phn
nbpe=300                 # vocabulary size for bpe
bpemode=unigram          # unigram | bpe
token_opts=""            # extra options for train_tokenizer (e.g. --character_coverage 0.9995)
min_frames=10            # stage 5 filter: shortest training utterance (frames)
max_frames=3000          # stage 5 filter: longest training utterance (frames)
subsampling=4            # stage 5 filter: encoder subsampling (CTC needs frames/subsampling >= tokens)
min_seconds=0.1          # stage 5 filter with --feats_type raw: shortest training utterance (utt2num_samples / fs)
max_seconds=30           # stage 5 filter with --feats_type raw: longest training utterance
use_lm=false             # train a language model on the training text (stage 6) and use it in decoding
lm_config=conf/lm.yaml   # LM training config
lm_args=""               # extra LM training options, e.g. "--max_epoch 3"
asr_config=conf/train_asr.yaml  # ASR training config
asr_args=""              # extra ASR training options, e.g. "--max_epoch 3 --batch_bins 20000"
nbest_average=5          # checkpoints averaged after training (by valid acc)
inference_config=conf/decode_asr.yaml  # decoding options (mode, beam, ctc_weight, ...)
inference_args=""        # extra decoding options, e.g. "--beam 5"
inference_model=valid.acc.ave.pth  # model file in the experiment dir used for decoding
inference_nj=4           # parallel decoding jobs
expdir=exp               # experiments

help_message="Usage: $0 [options]  (see the option list below; stages:
  1 data preparation (local/data.sh -> data/<set>/)
  2 speed perturbation of the training set (--speed_perturb_factors)
  3 feature extraction (dump/<feats_type>/<set>/feats.scp) and global CMVN stats; with --feats_type raw
    no features are stored: the data dirs are copied to dump/raw/<set> (audio rates checked, utt2num_samples
    needed) and the CMVN stats of --frontend_type features computed from the training audio with --feat_conf
    are written with the resolved feature config (dump/raw/<train_set>/cmvn.ark, feat_conf.yaml)
  4 tokenizer training and token dumping (data/token_list/, dump/.../token_int)
  5 length/token filtering of the training and validation sets (dump/.../<set>_filtered, removed.txt);
    raw: by --min_seconds/--max_seconds of utt2num_samples
  6 language model training (--use_lm true; exp/lm/)
  7 ASR training and checkpoint averaging (exp/asr_<config>/; raw: exp/asr_<config>_raw/, the model computes
    its features from the audio: --frontend_conf from dump/raw/<train_set>/feat_conf.yaml, kept in config.yaml;
    --batch_bins still counts feature frames, from utt2num_samples through the feature config)
  8 decoding of the test sets with --inference_nj jobs (exp/asr_<config>/decode_*/<set>/text)
  9 scoring: WER/CER, alignments, score.json, RESULTS.md
 10 summary of the data, tokens, models and results)"

. ./path.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "Unexpected arguments: $*\n${help_message}"
    exit 1
fi

case ${feats_type} in
    fbank|mfcc|raw) ;;
    *) log "--feats_type must be fbank, mfcc or raw, got '${feats_type}'"; exit 1 ;;
esac
[ -n "${speed_perturb_factors}" ] && train_sp=${train_set}_sp || train_sp=${train_set}
feat_dir=${dumpdir}/${feats_type}
case ${token_type} in
    bpe) token_dir=data/token_list/${bpemode}${nbpe} ;;
    *)   token_dir=data/token_list/${token_type} ;;
esac

if [ ${stage} -le 1 ] && [ ${stop_stage} -ge 1 ]; then
    log "Stage 1: data preparation: local/data.sh ${local_data_opts}"
    local/data.sh ${local_data_opts}
    for dset in ${train_set} ${valid_set} ${test_sets}; do
        utils/validate_data_dir.sh --nj ${nj} --fs ${fs} data/${dset}
    done
fi

if [ ${stage} -le 2 ] && [ ${stop_stage} -ge 2 ] && [ -n "${speed_perturb_factors}" ]; then
    log "Stage 2: speed perturbation (${speed_perturb_factors}): data/${train_set} -> data/${train_sp}"
    utils/perturb_data_dir_speed.sh --nj ${nj} --factors "${speed_perturb_factors// /,}" \
        data/${train_set} data/${train_sp}
fi

if [ ${stage} -le 3 ] && [ ${stop_stage} -ge 3 ] && [ "${feats_type}" = raw ]; then
    for dset in ${train_sp} ${valid_set} ${test_sets}; do
        log "Stage 3: raw audio (features computed in the model): data/${dset} -> ${feat_dir}/${dset}, checked at ${fs} Hz"
        [ -f data/${dset}/utt2num_samples ] || { log "data/${dset}/utt2num_samples: missing; --feats_type raw sizes" \
            "batches by it (python -m toolkit.bin.prepare_audio --fs ${fs} writes it)"; exit 1; }
        utils/copy_data_dir.sh data/${dset} ${feat_dir}/${dset}
        utils/validate_data_dir.sh --nj ${nj} --fs ${fs} --no_sample_check ${feat_dir}/${dset}
    done
    log "Stage 3: global CMVN statistics of ${frontend_type} features of the audio: ${feat_dir}/${train_sp}/cmvn.ark" \
        "(feature config: ${feat_dir}/${train_sp}/feat_conf.yaml)"
    python -m toolkit.bin.compute_cmvn_stats --wav_scp ${feat_dir}/${train_sp}/wav.scp \
        $([ -f ${feat_dir}/${train_sp}/segments ] && echo --segments ${feat_dir}/${train_sp}/segments) \
        --feat_type ${frontend_type} --feat_conf ${feat_conf} --nj ${nj} \
        --out ${feat_dir}/${train_sp}/cmvn.ark --out_feat_conf ${feat_dir}/${train_sp}/feat_conf.yaml
elif [ ${stage} -le 3 ] && [ ${stop_stage} -ge 3 ]; then
    for dset in ${train_sp} ${valid_set} ${test_sets}; do
        log "Stage 3: ${feats_type} features: data/${dset} -> ${feat_dir}/${dset} (logs in ${feat_dir}/${dset}/log)"
        python -m toolkit.bin.make_feats --data_dir data/${dset} --out_dir ${feat_dir}/${dset} \
            --feat_type ${feats_type} --feat_conf ${feat_conf} --nj ${nj}
    done
    log "Stage 3: global CMVN statistics: ${feat_dir}/${train_sp}/cmvn.ark"
    python -m toolkit.bin.compute_cmvn_stats --feats_scp ${feat_dir}/${train_sp}/feats.scp \
        --out ${feat_dir}/${train_sp}/cmvn.ark
fi

if [ ${stage} -le 4 ] && [ ${stop_stage} -ge 4 ]; then
    log "Stage 4: ${token_type} tokenizer from data/${train_set}/text -> ${token_dir}"
    python -m toolkit.bin.train_tokenizer --token_type ${token_type} --nbpe ${nbpe} --bpemode ${bpemode} \
        --text data/${train_set}/text --out_dir ${token_dir} ${token_opts}
    for dset in ${train_sp} ${valid_set} ${test_sets}; do
        log "Stage 4: tokenizing ${feat_dir}/${dset}/text -> ${feat_dir}/${dset}/token, token_int"
        python -m toolkit.bin.tokenize_text --token_type ${token_type} --token_dir ${token_dir} \
            --text ${feat_dir}/${dset}/text --out ${feat_dir}/${dset}/token \
            --out_ids ${feat_dir}/${dset}/token_int --nj ${nj}
    done
fi

asr_exp=${expdir}/asr_$(basename ${asr_config} .yaml)
[ "${feats_type}" = raw ] && asr_exp=${asr_exp}_raw  # never resumes a dumped-feature run of the same config
decode_tag=$(basename ${inference_config} .yaml)_$(basename ${inference_model} .pth)
lm_opts=""
"${use_lm}" && lm_opts="--lm_dir ${expdir}/lm --lm_checkpoint valid.loss.best.pth"

if [ ${stage} -le 5 ] && [ ${stop_stage} -ge 5 ]; then
    if [ "${feats_type}" = raw ]; then
        length_opts="--min_samples $(awk "BEGIN{print int(${min_seconds} * ${fs})}")"
        length_opts+=" --max_samples $(awk "BEGIN{print int(${max_seconds} * ${fs})}")"
    else
        length_opts="--min_frames ${min_frames} --max_frames ${max_frames} --subsampling ${subsampling}"
    fi
    for dset in ${train_sp} ${valid_set}; do
        log "Stage 5: filtering ${feat_dir}/${dset} -> ${feat_dir}/${dset}_filtered (removed.txt says why)"
        python -m toolkit.bin.filter_data_dir ${length_opts} ${feat_dir}/${dset} ${feat_dir}/${dset}_filtered
    done
fi

if [ ${stage} -le 6 ] && [ ${stop_stage} -ge 6 ] && "${use_lm}"; then
    log "Stage 6: LM training on ${feat_dir}/${train_sp}_filtered/token_int -> ${expdir}/lm (log: ${expdir}/lm/train.log)"
    train_cmd --task lm --config ${lm_config} --token_list ${token_dir}/tokens.txt \
        --train_data_dir ${feat_dir}/${train_sp}_filtered --valid_data_dir ${feat_dir}/${valid_set}_filtered \
        --output_dir ${expdir}/lm ${lm_args}
fi

if [ ${stage} -le 7 ] && [ ${stop_stage} -ge 7 ]; then
    log "Stage 7: ASR training -> ${asr_exp} (log: ${asr_exp}/train.log)"
    frontend_opts=()
    if [ "${feats_type}" = raw ]; then  # the model computes its features: their config goes into config.yaml
        frontend_conf=${feat_dir}/${train_sp}/feat_conf.yaml
        [ -f ${frontend_conf} ] || { log "${frontend_conf}: missing; stage 3 writes it"; exit 1; }
        frontend_opts=(--frontend_conf "$(cat ${frontend_conf})")
    fi
    train_cmd --task asr --config ${asr_config} --token_list ${token_dir}/tokens.txt \
        --cmvn ${feat_dir}/${train_sp}/cmvn.ark "${frontend_opts[@]}" \
        --train_data_dir ${feat_dir}/${train_sp}_filtered --valid_data_dir ${feat_dir}/${valid_set}_filtered \
        --output_dir ${asr_exp} ${asr_args}
    log "Stage 7: averaging the ${nbest_average} best checkpoints by valid acc -> ${asr_exp}/valid.acc.ave.pth"
    python -m toolkit.bin.average_checkpoints --exp_dir ${asr_exp} --criterion "valid acc max" --nbest ${nbest_average}
fi

if [ ${stage} -le 8 ] && [ ${stop_stage} -ge 8 ]; then
    for dset in ${test_sets}; do
        dir=${asr_exp}/${decode_tag}/${dset}
        log "Stage 8: decoding ${feat_dir}/${dset} -> ${dir} (${inference_nj} jobs, logs in ${dir}/log)"
        utils/split_data.sh ${feat_dir}/${dset} ${inference_nj}
        utils/run.sh JOB=1:${inference_nj} ${dir}/log/decode.JOB.log \
            python -m toolkit.bin.asr_inference --model_dir ${asr_exp} --checkpoint ${inference_model} \
                --config ${inference_config} --data_dir ${feat_dir}/${dset}/split${inference_nj}/JOB \
                --out_dir ${dir}/output.JOB ${lm_opts} ${inference_args}
        python -m toolkit.bin.merge_inference --out_dir ${dir} $(for j in $(seq ${inference_nj}); do echo ${dir}/output.${j}; done)
    done
fi

if [ ${stage} -le 9 ] && [ ${stop_stage} -ge 9 ]; then
    for dset in ${test_sets}; do
        dir=${asr_exp}/${decode_tag}/${dset}
        log "Stage 9: scoring ${dir}/text against ${feat_dir}/${dset}/text -> ${dir}/score.json"
        python -m toolkit.bin.score_asr --ref ${feat_dir}/${dset}/text --hyp ${dir}/text --out_dir ${dir} \
            --results_md ${asr_exp}/RESULTS.md --name "${dset} ${decode_tag}" --rtf_json ${dir}/rtf.json
    done
fi

if [ ${stage} -le 10 ] && [ ${stop_stage} -ge 10 ]; then
    log "Stage 10: summary"
    python -m toolkit.bin.data_summary --token_dir ${token_dir} \
        $("${use_lm}" && echo --exp_dir ${expdir}/lm) $([ -f ${asr_exp}/selection.json ] && echo --exp_dir ${asr_exp}) \
        $(for dset in ${train_sp} ${valid_set} ${test_sets}; do echo ${feat_dir}/${dset}; done)
    [ -f ${asr_exp}/RESULTS.md ] && cat ${asr_exp}/RESULTS.md
fi
log "Finished: $0 $*"
