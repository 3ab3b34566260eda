# Shared by the stage scripts (asr1/asr.sh, sep1/sep.sh, ...): sourced after their option defaults.

# log MESSAGE: timestamped, with the calling script and line.
log() { echo -e "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "$0"):${BASH_LINENO[0]}) $*"; }

# train_cmd ARGS: one training process on CPU (--ngpu 0) or one GPU, else torchrun with one
# process per GPU. Several nodes: the same with torchrun's --nnodes/--node_rank/--rdzv_endpoint (README).
train_cmd() {
    if [ "${ngpu}" -le 1 ]; then
        python -m toolkit.bin.train "$@" --device $([ "${ngpu}" -eq 0 ] && echo cpu || echo cuda)
    else
        torchrun --standalone --nproc_per_node "${ngpu}" -m toolkit.bin.train "$@" --device cuda
    fi
}
