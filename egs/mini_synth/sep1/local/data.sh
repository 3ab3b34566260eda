#!/usr/bin/env bash
# Synthesise the offline mini_synth corpus (two-speaker mixtures) and make <data_dir>/{train,dev,test}.
set -euo pipefail
corpus_size=ci   # ci | bench
fs=8000          # 8000 | 16000
seed=0
nj=2
corpus_dir=downloads
data_dir=data    # where the data dirs go
. ./path.sh
. utils/parse_options.sh

out=${corpus_dir}/mini_synth_${corpus_size}_${fs}
python -m toolkit.bin.synth_corpus --out_dir ${out} --size ${corpus_size} --fs ${fs} \
    --seed ${seed} --nj ${nj} --tasks sep --reuse
for dset in train dev test; do
    rm -rf ${data_dir}/${dset}
    utils/copy_data_dir.sh ${out}/data/sep_${dset} ${data_dir}/${dset}
done
