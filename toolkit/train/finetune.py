"""Fine-tuning: initialise from checkpoints (--init_param), freeze (--freeze_param), LoRA, counts.

--init_param PATH[:SRC_PREFIX[:DST_PREFIX[:EXCLUDE,...]]] follows ESPnet: from the model
state in PATH (a trainer state or a bare state dict) drop the keys under any EXCLUDE
prefix, take those under SRC_PREFIX (all if empty) with that prefix removed, and load
them into the model under DST_PREFIX (the whole model if empty). Prefixes match on
module boundaries: `encoder.layers.1` covers `encoder.layers.1.w`, not `encoder.layers.10.w`.
Examples: `exp/asr/valid.acc.best.pth` (everything), `lm.pth:lm:decoder.lm`,
`exp/a/model.pth:encoder:encoder`, `exp/a/model.pth:::decoder.output_layer,ctc` (all but
the vocabulary-sized layers). A shape mismatch is an error naming the key; model keys
under DST_PREFIX that the checkpoint does not set, and checkpoint keys with no place in
the model, are logged. Several --init_param apply in order.
"""
import logging
from typing import NamedTuple

from toolkit.layers.lora import apply_lora
from toolkit.train.checkpoint import extract_model_state, load_checkpoint
from toolkit.utils.config import str_or_none
from toolkit.utils.errors import ConfigError


class InitReport(NamedTuple):
    loaded: list      # model keys set from the checkpoint
    missing: list     # model keys under the destination prefix left as they were
    unexpected: list  # selected checkpoint keys with no such key in the model
    excluded: list    # checkpoint keys dropped by the exclude prefixes


def _under(key, prefix):
    return not prefix or key == prefix or key.startswith(prefix + ".")


def _join(prefix, rest):
    return ".".join(part for part in (prefix, rest) if part)


def parse_init_param(spec):
    """'path[:src[:dst[:ex1,ex2]]]' -> (path, src_prefix, dst_prefix, [exclude prefixes])."""
    path, src, dst, exclude = (spec.split(":", 3) + ["", "", ""])[:4]
    if not path:
        raise ConfigError(f"init_param {spec!r}: no checkpoint path; "
                          "expected PATH[:SRC_PREFIX[:DST_PREFIX[:EXCLUDE,...]]]")
    return path, src, dst, [e for e in exclude.split(",") if e]


def _listing(keys, limit=8):
    more = f" ... ({len(keys)} in all)" if len(keys) > limit else ""
    return ", ".join(keys[:limit]) + more


def init_param(model, spec):
    """Load the part of a checkpoint that `spec` selects into `model`; return an InitReport."""
    path, src, dst, exclude = parse_init_param(spec)
    source = extract_model_state(load_checkpoint(path), path)
    excluded = [k for k in source if any(_under(k, prefix) for prefix in exclude)]
    dropped = set(excluded)
    selected = [k for k in source if k not in dropped and _under(k, src)]
    if not selected:
        tops = sorted({k.split(".")[0] for k in source})
        raise ConfigError(f"init_param {spec!r}: {path} holds no parameter under "
                          f"'{src}' (after excluding {exclude}); its top-level names: {', '.join(tops)}")
    model_state = model.state_dict()
    if dst and not any(_under(k, dst) for k in model_state):
        raise ConfigError(f"init_param {spec!r}: the model has no parameter under '{dst}'")
    to_load, unexpected = {}, []
    for key in selected:
        target = _join(dst, key[len(src) + 1:] if src else key)
        if target not in model_state:
            unexpected.append(key)
            continue
        if source[key].shape != model_state[target].shape:
            raise ConfigError(f"init_param {spec!r}: {key} has shape {tuple(source[key].shape)} in "
                              f"{path}, but the model's {target} has {tuple(model_state[target].shape)}")
        to_load[target] = source[key]
    if not to_load:
        raise ConfigError(f"init_param {spec!r}: none of the {len(selected)} selected keys of {path} "
                          f"exists in the model under '{dst}' (e.g. {_listing(unexpected, 3)})")
    model.load_state_dict(to_load, strict=False)
    missing = [k for k in model_state if _under(k, dst) and k not in to_load]
    logging.info("init_param %s: loaded %d tensors%s", spec, len(to_load),
                 f", excluded {len(excluded)}" if excluded else "")
    if missing:
        logging.warning("init_param %s: %d model tensors%s not in the checkpoint, left as "
                        "initialised: %s", spec, len(missing), f" under '{dst}'" if dst else "",
                        _listing(missing))
    if unexpected:
        logging.warning("init_param %s: %d checkpoint tensors have no place in the model: %s",
                        spec, len(unexpected), _listing(unexpected))
    return InitReport(list(to_load), missing, unexpected, excluded)


def freeze_param(model, prefixes):
    """Set requires_grad False on parameters under any of `prefixes`; return their names."""
    named = dict(model.named_parameters())
    frozen = []
    for prefix in prefixes:
        hits = [name for name in named if _under(name, prefix)]
        if not hits:
            tops = sorted({name.split(".")[0] for name in named})
            raise ConfigError(f"freeze_param {prefix!r} matches no parameter; "
                              f"top-level names: {', '.join(tops)}")
        for name in hits:
            named[name].requires_grad = False
        frozen += hits
    logging.info("froze %d parameter tensors under %s", len(frozen), ", ".join(prefixes))
    return frozen


def count_parameters(model):
    """(trainable, total) numbers of scalar parameters; shared tensors count once."""
    params = list(model.parameters())
    return (sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params))


def format_parameter_count(model):
    """One log line, e.g. 'parameters: 1,234,567 total (1.23 M), 12,345 trainable (1.00%)'."""
    trainable, total = count_parameters(model)
    share = 100.0 * trainable / total if total else 0.0
    return (f"parameters: {total:,} total ({total / 1e6:.2f} M), "
            f"{trainable:,} trainable ({share:.2f}%)")


def add_arguments(parser):
    """Add --init_param, --freeze_param and --lora_* to an argparse parser."""
    parser.add_argument("--init_param", nargs="*", default=[],
                        metavar="PATH[:SRC[:DST[:EXCLUDE,...]]]",
                        help="initialise (part of) the model from checkpoints, in order")
    parser.add_argument("--freeze_param", nargs="*", default=[], metavar="PREFIX",
                        help="parameter name prefixes not to train")
    parser.add_argument("--lora_targets", type=str_or_none, default=None,
                        help="comma-separated nn.Linear name suffixes or regexes to adapt with "
                             "LoRA (freezes everything else); none: no LoRA")
    parser.add_argument("--lora_rank", type=int, default=8)
    parser.add_argument("--lora_alpha", type=float, default=16.0, help="LoRA scale is alpha / rank")
    parser.add_argument("--lora_dropout", type=float, default=0.0)


def apply_finetune_options(model, args):
    """Apply --init_param, then LoRA, then --freeze_param to `model`; log the parameter count."""
    for spec in args.init_param:
        init_param(model, spec)
    if args.lora_targets:
        apply_lora(model, args.lora_targets, args.lora_rank, args.lora_alpha, args.lora_dropout)
    if args.freeze_param:
        freeze_param(model, args.freeze_param)
    logging.info(format_parameter_count(model))
