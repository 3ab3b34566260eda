"""Build the trainer's samplers and optimizers from its options."""
import logging
import os

import yaml

from toolkit.data.length_filter import write_dropped
from toolkit.data.samplers import BatchSampler
from toolkit.train.optimizers import OptimizerSet, build_optimizer, scaled_lr
from toolkit.train.schedulers import build_scheduler
from toolkit.utils.errors import ConfigError


def _sampler(args, lengths, **kwargs):
    return BatchSampler(lengths, batch_type=args.batch_type, batch_size=args.batch_size,
                        batch_bins=args.batch_bins, max_batch_size=args.max_batch_size,
                        quadratic_duration=args.quadratic_duration, seed=args.seed, **kwargs)


def build_train_sampler(args, task, dataset, dist_info):
    """The training BatchSampler: DDP-aware, length-filtered (dropped utterances written), oversampling."""
    categories, weights = None, args.category_weights
    if weights is not None:
        categories = dataset.data.table("utt2category")
        if weights != "balanced":
            weights = yaml.safe_load(weights)
    sampler = _sampler(args, task.lengths(args, args.train_data_dir), shuffle=args.shuffle,
                       world_size=dist_info.world_size, rank=dist_info.rank, categories=categories,
                       category_weights=weights, max_length=args.max_length, min_length=args.min_length,
                       length_policy=args.length_policy)
    if sampler.dropped and dist_info.is_main:
        path = os.path.join(args.output_dir, "dropped_utts.txt")
        write_dropped(sampler.dropped, path)
        logging.warning("%d training utterances dropped by length limits: listed in %s", len(sampler.dropped), path)
    if sampler.cropped:
        fields = task.crop_fields(args)
        if not fields:
            raise ConfigError(f"task {task.name} cannot crop; use --length_policy drop")
        dataset.set_crop(args.max_length, sampler.cropped, fields)
    return sampler


def valid_batches(args, task, dist_info):
    """This rank's share of the validation batches (no padding: validation runs no collectives)."""
    sampler = _sampler(args, task.lengths(args, args.valid_data_dir), shuffle=False)
    sampler.set_epoch(0)
    return list(sampler)[dist_info.rank::dist_info.world_size]


def build_optimizers(args, groups, sampler, dist_info):
    """One optimizer (+ scheduler) per parameter group {name: params}; lr scaled by --lr_scale_rule."""
    lr = args.lr
    if args.lr_scale_rule != "none":
        if args.ref_batch_size is None:
            raise ConfigError("--lr_scale_rule needs --ref_batch_size")
        global_batch = len(sampler.lengths) / max(1, len(sampler)) * dist_info.world_size * args.accum_grad
        lr = scaled_lr(args.lr, global_batch, args.ref_batch_size, args.lr_scale_rule)
        logging.info("lr %.3g scaled by the %s rule to %.3g (global batch %.1f utterances, reference %d)",
                     args.lr, args.lr_scale_rule, lr, global_batch, args.ref_batch_size)
    optimizers = OptimizerSet()
    for name, params in groups.items():
        optimizer = build_optimizer(args.optim, params, lr, args.weight_decay, args.no_decay_1d, **dict(args.optim_conf))
        optimizers.add(name, optimizer, build_scheduler(args.scheduler, optimizer, **dict(args.scheduler_conf)))
    return optimizers
