"""The trainer's command-line options (the task adds its own)."""
from toolkit.train import finetune, model_selection
from toolkit.utils.config import add_dict_option, int_or_none, str2bool


def add_arguments(parser):
    parser.add_argument("--output_dir", required=True, help="experiment dir: checkpoints, logs, config.yaml")
    parser.add_argument("--train_data_dir", required=True, help="training data dir (dump/<feats>/<set>)")
    parser.add_argument("--valid_data_dir", required=True, help="validation data dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--deterministic", type=str2bool, default=False,
                        help="deterministic algorithms (bitwise resume on CPU; slower on GPU)")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--num_workers", type=int, default=0, help="DataLoader worker processes")

    group = parser.add_argument_group("steps and precision")
    group.add_argument("--max_epoch", type=int, default=10)
    group.add_argument("--max_steps", type=int_or_none, default=None, help="stop after this many optimizer steps")
    group.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32")
    group.add_argument("--accum_grad", type=int, default=1, help="micro-batches per optimizer step")
    group.add_argument("--grad_clip", type=float, default=5.0, help="max gradient norm (<= 0: no clipping)")
    group.add_argument("--max_nonfinite_steps", type=int, default=10,
                       help="abort after this many optimizer steps in a row with a non-finite gradient")
    group.add_argument("--activation_checkpointing", type=str2bool, default=False)
    group.add_argument("--save_interval_steps", type=int, default=0,
                       help="also save a resume checkpoint every N optimizer steps (0: each epoch only)")
    group.add_argument("--log_interval", type=int, default=50, help="optimizer steps between train.log lines")
    group.add_argument("--tensorboard", type=str2bool, default=True, help="write tensorboard logs if installed")

    group = parser.add_argument_group("optimisation")
    group.add_argument("--optim", default="adam", help="adam | adamw | sgd")
    add_dict_option(group, "optim_conf", default={}, help="optimizer options (betas, eps, momentum, ...)")
    group.add_argument("--lr", type=float, default=1.0e-3)
    group.add_argument("--weight_decay", type=float, default=0.0)
    group.add_argument("--no_decay_1d", type=str2bool, default=False, help="no weight decay on biases and norms")
    group.add_argument("--scheduler", default="none",
                       help="none | noam | warmuplinear | cosine | exponential | plateau_halving")
    add_dict_option(group, "scheduler_conf", default={}, help="scheduler options (warmup_steps, ...)")
    group.add_argument("--lr_scale_rule", choices=("none", "linear", "sqrt"), default="none",
                       help="scale --lr from --ref_batch_size to the global batch size")
    group.add_argument("--ref_batch_size", type=int_or_none, default=None,
                       help="global batch size (utterances) that --lr was tuned for")

    group = parser.add_argument_group("batches")
    group.add_argument("--batch_type", choices=("static", "bucket", "numel"), default="numel")
    group.add_argument("--shuffle", type=str2bool, default=True,
                       help="shuffle batches each epoch (false: the same length-ordered batches)")
    group.add_argument("--batch_size", type=int, default=32, help="utterances per batch (static, bucket)")
    group.add_argument("--batch_bins", type=int, default=100000, help="padded length x utterances (numel)")
    group.add_argument("--max_batch_size", type=int_or_none, default=None)
    group.add_argument("--quadratic_duration", type=float, default=None, help="attention cost length (numel)")
    group.add_argument("--max_length", type=int_or_none, default=None, help="length limit (see --length_policy)")
    group.add_argument("--min_length", type=int_or_none, default=None)
    group.add_argument("--length_policy", choices=("drop", "crop"), default="drop")
    group.add_argument("--category_weights", default=None,
                       help="oversample by utt2category: 'balanced' or a yaml mapping {category: share}")

    model_selection.add_arguments(parser)
    finetune.add_arguments(parser)
