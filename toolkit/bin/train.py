"""Train a task's model: python -m toolkit.bin.train --task NAME --config conf/x.yaml --output_dir exp/x

Distributed: torchrun --nproc_per_node N -m toolkit.bin.train ... (gloo on CPU, nccl on
GPU); several nodes: add torchrun's --nnodes, --node_rank and --rdzv_endpoint. The
resolved config is saved as OUTPUT_DIR/config.yaml; a run started again in the same
OUTPUT_DIR resumes from its newest checkpoint.
"""
import logging
import os
import sys

from toolkit.tasks import get_task
from toolkit.train.distributed import init_distributed, shutdown
from toolkit.train.options import add_arguments
from toolkit.train.trainer import Trainer
from toolkit.utils.config import get_parser, parse_args, save_config
from toolkit.utils.errors import cli_main


def _task_name(argv):
    """--task from the command line or the --config yaml (needed before the parser is built)."""
    import yaml

    for i, arg in enumerate(argv):
        if arg in ("--task", "--task=") or arg.startswith("--task="):
            return arg.split("=", 1)[1] if "=" in arg else argv[i + 1]
    for i, arg in enumerate(argv):
        if arg == "--config" or arg.startswith("--config="):
            path = arg.split("=", 1)[1] if "=" in arg else argv[i + 1]
            with open(path, encoding="utf-8") as f:
                return (yaml.safe_load(f) or {}).get("task")
    return None


def build_parser(task_name):
    parser = get_parser(__doc__)
    parser.add_argument("--task", required=True, help="task name (asr, lm, sep)")
    add_arguments(parser)
    if task_name:
        get_task(task_name).add_arguments(parser)
    return parser


def _setup_logging(output_dir, rank):
    handlers = [logging.StreamHandler(sys.stderr)]
    if rank == 0:
        os.makedirs(output_dir, exist_ok=True)
        handlers.append(logging.FileHandler(os.path.join(output_dir, "train.log")))
    fmt = f"%(asctime)s [rank {rank}] (%(module)s:%(lineno)d) %(levelname)s: %(message)s"
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING, format=fmt, handlers=handlers,
                        force=True)


@cli_main
def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(build_parser(_task_name(argv)), argv)
    task = get_task(args.task)
    info = init_distributed(args.device)
    _setup_logging(args.output_dir, info.rank)
    if info.is_main:
        save_config(args, os.path.join(args.output_dir, "config.yaml"))
    logging.info("task %s, world size %d, device %s", args.task, info.world_size, info.device)
    try:
        Trainer(args, task, info).run()
    finally:
        shutdown(info)


if __name__ == "__main__":
    main()
