#!/usr/bin/env bash
# Synthesise the offline mini_synth corpus and make data/{train,dev,test}.
set -euo pipefail
corpus_size=ci   # ci | bench
fs=16000         # 16000 | 8000
seed=0
nj=2
corpus_dir=downloads
. ./path.sh
. utils/parse_options.sh

out=${corpus_dir}/mini_synth_${corpus_size}_${fs}
python -m toolkit.bin.synth_corpus --out_dir ${out} --size ${corpus_size} --fs ${fs} \
    --seed ${seed} --nj ${nj} --tasks asr --reuse
for dset in train dev test; do
    rm -rf data/${dset}
    utils/copy_data_dir.sh ${out}/data/${dset} data/${dset}
done
