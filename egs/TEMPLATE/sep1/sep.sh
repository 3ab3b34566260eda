#!/usr/bin/env bash
# Shared speech-separation stages. A recipe's run.sh sets its corpus options and calls this script.
# Every stage reads what earlier stages wrote, so any stage can be rerun alone:
#   ./run.sh --stage 5 --stop_stage 5
set -euo pipefail

. "$(dirname "${BASH_SOURCE[0]}")/../common.sh"  # log, train_cmd

stage=1                  # first stage to run
stop_stage=100           # last stage to run
nj=4                     # parallel jobs for data processing
ngpu=0                   # GPUs for training (torchrun --nproc_per_node)
fs=8000                  # sample rate: every mixture and source must have it (8k and 16k data stay apart)
num_spks=2               # sources per mixture (spk1.scp .. spkN.scp)
local_data_opts=""       # options passed to local/data.sh
data_dir=data            # where the data dirs are (e.g. data_8k and data_16k kept apart)
train_set=train          # training data dir under --data_dir
valid_set=dev            # validation data dir
test_sets="test"         # evaluation data dirs
speed_perturb_factors="" # e.g. "0.9 1.0 1.1" (mixture and sources perturbed alike); empty skips
min_seconds=0.5          # stage 4 filter: shortest training/validation mixture
max_seconds=30           # stage 4 filter: longest training/validation mixture (training crops to --max_length)
sep_config=conf/train_sep.yaml   # training config (separator, separator_conf, max_length, ...)
sep_args=""              # extra training options, e.g. "--max_epoch 3"
nbest_average=5          # checkpoints averaged after training (by valid si_snr)
inference_args=""        # extra sep_inference options, e.g. "--chunk_seconds 8 --overlap_seconds 2"
inference_model=valid.si_snr.ave.pth  # model file in the experiment dir used for inference
inference_nj=4           # parallel inference jobs
score_args=""            # extra score_sep options, e.g. "--stoi --pesq"
expdir=exp               # experiments

help_message="Usage: $0 [options]  (see the option list below; stages:
  1 data preparation (local/data.sh -> <data_dir>/<set>/: wav.scp, spk1.scp .. spkN.scp)
  2 speed perturbation of the training set (--speed_perturb_factors)
  3 format check: every data dir validated at --fs (a rate mismatch is an error, never resampled
    silently; utt2num_samples must agree with the audio)
  4 length filtering of the training and validation sets (<data_dir>/<set>_filtered, removed.txt)
  5 training and checkpoint averaging (exp/sep_<config>/)
  6 separation of the test sets with --inference_nj jobs (exp/sep_<config>/separate/<set>/spkN.scp)
  7 scoring: SI-SNR(i), SDR(i), score.json, RESULTS.md (and by_pair.tsv when the set has utt2src_spk)
  8 summary)"

. ./path.sh
. utils/parse_options.sh

if [ $# -ne 0 ]; then
    log "Unexpected arguments: $*\n${help_message}"
    exit 1
fi

[ -n "${speed_perturb_factors}" ] && train_sp=${train_set}_sp || train_sp=${train_set}
sep_exp=${expdir}/sep_$(basename ${sep_config} .yaml)
spk_scps() { for i in $(seq ${num_spks}); do echo "$1/spk${i}.scp"; done; }

if [ ${stage} -le 1 ] && [ ${stop_stage} -ge 1 ]; then
    log "Stage 1: data preparation: local/data.sh ${local_data_opts}"
    local/data.sh ${local_data_opts}
fi

if [ ${stage} -le 2 ] && [ ${stop_stage} -ge 2 ] && [ -n "${speed_perturb_factors}" ]; then
    log "Stage 2: speed perturbation (${speed_perturb_factors}): ${data_dir}/${train_set} -> ${data_dir}/${train_sp}"
    utils/perturb_data_dir_speed.sh --nj ${nj} --factors "${speed_perturb_factors// /,}" \
        ${data_dir}/${train_set} ${data_dir}/${train_sp}
fi

if [ ${stage} -le 3 ] && [ ${stop_stage} -ge 3 ]; then
    for dset in ${train_sp} ${valid_set} ${test_sets}; do
        log "Stage 3: checking ${data_dir}/${dset} at ${fs} Hz with ${num_spks} sources"
        for scp in $(spk_scps ${data_dir}/${dset}); do
            [ -f ${scp} ] || { log "${scp}: missing; a ${num_spks}-speaker data dir needs spk1.scp .. spk${num_spks}.scp"; exit 1; }
        done
        [ -f ${data_dir}/${dset}/utt2num_samples ] || { log "${data_dir}/${dset}/utt2num_samples: missing; the batch sampler needs it" \
            "(python -m toolkit.bin.prepare_audio --fs ${fs} writes it, resampling as it goes)"; exit 1; }
        utils/validate_data_dir.sh --nj ${nj} --fs ${fs} ${data_dir}/${dset}
    done
fi

if [ ${stage} -le 4 ] && [ ${stop_stage} -ge 4 ]; then
    for dset in ${train_sp} ${valid_set}; do
        log "Stage 4: filtering ${data_dir}/${dset} -> ${data_dir}/${dset}_filtered (${min_seconds}-${max_seconds} s; removed.txt says why)"
        python -m toolkit.bin.filter_data_dir ${data_dir}/${dset} ${data_dir}/${dset}_filtered \
            --min_samples $(awk "BEGIN{print int(${min_seconds} * ${fs})}") \
            --max_samples $(awk "BEGIN{print int(${max_seconds} * ${fs})}")
    done
fi

if [ ${stage} -le 5 ] && [ ${stop_stage} -ge 5 ]; then
    log "Stage 5: separation training -> ${sep_exp} (log: ${sep_exp}/train.log)"
    train_cmd --task sep --config ${sep_config} --fs ${fs} --num_spks ${num_spks} \
        --train_data_dir ${data_dir}/${train_sp}_filtered --valid_data_dir ${data_dir}/${valid_set}_filtered \
        --output_dir ${sep_exp} ${sep_args}
    log "Stage 5: averaging the ${nbest_average} best checkpoints by valid si_snr -> ${sep_exp}/valid.si_snr.ave.pth"
    python -m toolkit.bin.average_checkpoints --exp_dir ${sep_exp} --criterion "valid si_snr max" --nbest ${nbest_average}
fi

if [ ${stage} -le 6 ] && [ ${stop_stage} -ge 6 ]; then
    for dset in ${test_sets}; do
        dir=${sep_exp}/separate_$(basename ${inference_model} .pth)/${dset}
        log "Stage 6: separating ${data_dir}/${dset} -> ${dir} (${inference_nj} jobs, logs in ${dir}/log)"
        utils/split_data.sh ${data_dir}/${dset} ${inference_nj}
        utils/run.sh JOB=1:${inference_nj} ${dir}/log/separate.JOB.log \
            python -m toolkit.bin.sep_inference --model_dir ${sep_exp} --model_file ${inference_model} \
                --wav_scp ${data_dir}/${dset}/split${inference_nj}/JOB/wav.scp --out_dir ${dir}/output.JOB ${inference_args}
        python -m toolkit.bin.merge_inference --out_dir ${dir} $(for j in $(seq ${inference_nj}); do echo ${dir}/output.${j}; done)
    done
fi

if [ ${stage} -le 7 ] && [ ${stop_stage} -ge 7 ]; then
    for dset in ${test_sets}; do
        dir=${sep_exp}/separate_$(basename ${inference_model} .pth)/${dset}
        log "Stage 7: scoring ${dir} against ${data_dir}/${dset} -> ${dir}/score.json"
        python -m toolkit.bin.score_sep --mix_scp ${data_dir}/${dset}/wav.scp --ref_scps $(spk_scps ${data_dir}/${dset}) \
            --est_scps $(spk_scps ${dir}) --out_dir ${dir} \
            $([ -f ${data_dir}/${dset}/utt2src_spk ] && echo --utt2src_spk ${data_dir}/${dset}/utt2src_spk) \
            --results_md ${sep_exp}/RESULTS.md --results_name "${dset} $(basename ${inference_model} .pth)" ${score_args}
    done
fi

if [ ${stage} -le 8 ] && [ ${stop_stage} -ge 8 ]; then
    log "Stage 8: summary"
    python -m toolkit.bin.data_summary $([ -f ${sep_exp}/selection.json ] && echo --exp_dir ${sep_exp}) \
        $(for dset in ${train_sp} ${valid_set} ${test_sets}; do echo ${data_dir}/${dset}; done)
    [ -f ${sep_exp}/RESULTS.md ] && cat ${sep_exp}/RESULTS.md
fi
log "Finished: $0 $*"
