"""The shared trainer: DDP, mixed precision, accumulation, clipping, exact resume.

One optimizer step = `accum_grad` micro-batches. Resume checkpoints are written only
between optimizer steps (every --save_interval_steps and at each epoch end) and hold
everything the next step depends on: model, optimizers and schedulers, grad scaler,
sampler position, every rank's RNG states, reporter and model-selection history, and
the partial epoch's running stats. A run started again in the same output_dir picks
up the newest checkpoint, so kill -9 at any moment loses at most the steps since it.
"""
import contextlib
import logging
import math
import os
import sys
import time

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from toolkit.data.batching import padding_efficiency
from toolkit.train.build import build_optimizers, build_train_sampler, valid_batches
from toolkit.train.checkpoint import latest_checkpoint, load_checkpoint, save_resume_checkpoint
from toolkit.train.distributed import barrier
from toolkit.train.finetune import apply_finetune_options
from toolkit.train.model_selection import ModelSelection
from toolkit.train.reporter import Accumulator, Reporter
from toolkit.utils.errors import ConfigError, ToolkitError
from toolkit.utils.seed import get_rng_state, set_rng_state, set_seed


class TrainingError(ToolkitError):
    """Training cannot go on (e.g. gradients non-finite too many steps in a row)."""


def _autocast(precision, device):
    if precision == "fp32":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if precision == "bf16" else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)


def _to_device(batch, device):
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}


class Trainer:
    """Trains `task`'s model as `args` says; call `run()`."""

    def __init__(self, args, task, dist_info):
        self.args, self.task, self.dist = args, task, dist_info
        self.device = dist_info.device
        set_seed(args.seed, deterministic=args.deterministic)
        model = task.build_model(args)
        apply_finetune_options(model, args)
        if args.activation_checkpointing:
            if not hasattr(model, "set_activation_checkpointing"):
                raise ConfigError(f"task {task.name}: its model does not support --activation_checkpointing")
            model.set_activation_checkpointing(True)
        self.model = model.to(self.device)
        groups = model.optimizer_params() if hasattr(model, "optimizer_params") else {"main": model.parameters()}
        self.turns = list(groups)
        if dist_info.enabled:
            self.model = DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=len(self.turns) > 1)
        self.train_data = task.build_dataset(args, args.train_data_dir, train=True)
        self.valid_data = task.build_dataset(args, args.valid_data_dir, train=False)
        self.sampler = build_train_sampler(args, task, self.train_data, dist_info)
        self.optimizers = build_optimizers(args, groups, self.sampler, dist_info)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=args.precision == "fp16")
        self.reporter = Reporter(args.output_dir, dist_info.is_main, args.tensorboard)
        self.selection = ModelSelection(args.output_dir, args.best_model_criterion, args.keep_nbest_models,
                                        args.patience)
        self.epoch, self.step, self.nonfinite_run, self.nonfinite_total = 1, 0, 0, 0
        self.epoch_stats = Accumulator()

    @property
    def module(self):
        return self.model.module if isinstance(self.model, DistributedDataParallel) else self.model

    # ----- checkpoints -----
    def state_dict(self, batches_done):
        rng = get_rng_state()
        if self.dist.enabled:
            gathered = [None] * self.dist.world_size
            dist.all_gather_object(gathered, rng)
            rng = gathered
        else:
            rng = [rng]
        return {
            "model": self.module.state_dict(), "optimizers": self.optimizers.state_dict(),
            "scaler": self.scaler.state_dict(), "sampler": self.sampler.state_dict(batches_done=batches_done),
            "rng": rng, "reporter": self.reporter.state_dict(), "selection": self.selection.state_dict(),
            "epoch": self.epoch, "step": self.step, "nonfinite": [self.nonfinite_run, self.nonfinite_total],
            "epoch_stats": {"sums": self.epoch_stats.sums, "weights": self.epoch_stats.weights},
        }

    def save(self, batches_done):
        state = self.state_dict(batches_done)  # collective: every rank takes part
        if self.dist.is_main:
            save_resume_checkpoint(self.args.output_dir, state, self.epoch, self.step)
        barrier(self.dist)

    def resume(self):
        """Load the newest resume checkpoint in output_dir, if any; return the batches done in its epoch."""
        path = latest_checkpoint(self.args.output_dir)
        if path is None:
            return 0
        state = load_checkpoint(path, weights_only=False)
        self.module.load_state_dict(state["model"])
        self.optimizers.load_state_dict(state["optimizers"])
        self.scaler.load_state_dict(state["scaler"])
        self.sampler.load_state_dict(state["sampler"])
        self.reporter.load_state_dict(state["reporter"])
        self.selection.load_state_dict(state["selection"])
        self.epoch, self.step = state["epoch"], state["step"]
        self.nonfinite_run, self.nonfinite_total = state["nonfinite"]
        self.epoch_stats.sums, self.epoch_stats.weights = state["epoch_stats"]["sums"], state["epoch_stats"]["weights"]
        rng = state["rng"]
        set_rng_state(rng[self.dist.rank] if len(rng) == self.dist.world_size else rng[0])
        batches_done = self.sampler.state_dict()["batches_done"]  # 0 if the sampler settings changed
        logging.info("resumed from %s: epoch %d, step %d, %d batches into the epoch",
                     path, self.epoch, self.step, batches_done)
        return batches_done

    # ----- steps -----
    def _normalise_grads(self, optimizer, local_weight):
        """Turn summed weighted-loss gradients into the weighted mean over all micro-batches and ranks.

        Each micro-batch back-propagates loss * weight; DDP averages over ranks. Scaling by
        world_size / (total weight over ranks) then gives exactly the gradient of one big
        batch, so N ranks x accum_grad micro-batches equal one process with the whole batch.
        """
        total = torch.tensor([local_weight], dtype=torch.float64, device=self.device)
        if self.dist.enabled:
            dist.all_reduce(total)
        if float(total) <= 0:
            return
        factor = self.dist.world_size / float(total)
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    p.grad.mul_(factor)

    def _forward(self, batch, turn):
        with _autocast(self.args.precision, self.device):
            kwargs = {"turn": turn} if len(self.turns) > 1 else {}
            loss, stats, weight = self.model(**batch, **kwargs)
        weight = torch.as_tensor(weight, dtype=torch.float32, device=self.device)
        return (None if loss is None else loss.float()), stats, weight

    def _optimizer_step(self, name):
        """Unscale, clip, check, step one optimizer; return the gradient norm (nan when skipped)."""
        optimizer = self.optimizers[name]
        self.scaler.unscale_(optimizer)
        params = [p for g in optimizer.param_groups for p in g["params"]]
        max_norm = self.args.grad_clip if self.args.grad_clip > 0 else math.inf
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        if torch.isfinite(norm):
            self.scaler.step(optimizer)
        self.scaler.update()
        optimizer.zero_grad(set_to_none=True)
        return float(norm)

    def train_batches(self, batches):
        """One optimizer step over micro-batches [(utts, batch)]; returns its stats."""
        stats_sum, norms = Accumulator(), {}
        for turn in self.turns:
            turn_weight = 0.0
            if len(self.turns) > 1:  # an earlier turn's backward may have left gradients on this turn's parameters
                self.module.zero_grad(set_to_none=True)
            backward = False
            for i, (_, batch) in enumerate(batches):
                sync = i == len(batches) - 1 or not self.dist.enabled
                context = contextlib.nullcontext() if sync else self.model.no_sync()
                with context:
                    loss, stats, weight = self._forward(batch, turn)
                    if loss is not None:
                        self.scaler.scale(loss * weight).backward()
                        backward = True
                turn_weight += float(weight)
                prefix = "" if len(self.turns) == 1 else f"{turn}_"
                stats_sum.add({f"{prefix}{k}": v for k, v in stats.items()}, float(weight))
            if backward:  # a None loss: this turn sits this step out (e.g. a discriminator not started yet)
                self._normalise_grads(self.optimizers[turn], turn_weight)
                norms[turn] = self._optimizer_step(turn)
        finite = all(math.isfinite(n) for n in norms.values())
        self.nonfinite_run = 0 if finite else self.nonfinite_run + 1
        self.nonfinite_total += 0 if finite else 1
        if not finite:
            logging.warning("step %d: non-finite gradient norm %s: step skipped (%d in a row, %d in all)",
                            self.step + 1, norms, self.nonfinite_run, self.nonfinite_total)
            if self.nonfinite_run >= self.args.max_nonfinite_steps:
                raise TrainingError(
                    f"{self.nonfinite_run} optimizer steps in a row had non-finite gradients; lower --lr, "
                    f"use --grad_clip, fp32 or bf16 instead of fp16, or check the data of the last batches")
        self.step += 1
        self.optimizers.step_update(self.step)
        result = stats_sum.means()
        result.update({f"grad_norm{'' if len(self.turns) == 1 else '_' + n}": v for n, v in norms.items()})
        return result, sum(float(w) for w in stats_sum.weights.values()) / max(1, len(stats_sum.weights))

    def _loader(self, dataset, batch_sampler, epoch):
        dataset.epoch = epoch
        generator = torch.Generator().manual_seed(self.args.seed * 100003 + epoch)
        return DataLoader(dataset, batch_sampler=batch_sampler, collate_fn=self.task.build_collate(self.args),
                          num_workers=self.args.num_workers, generator=generator)

    def train_epoch(self, batches_done):
        """Run the rest of the current epoch from `batches_done`; False when --max_steps ended it."""
        args = self.args
        self.sampler.set_epoch(self.epoch)  # keeps a resume point loaded for this epoch
        total = len(self.sampler)
        bar = tqdm(total=total, initial=batches_done, desc=f"epoch {self.epoch}", unit="batch",
                   disable=not (self.dist.is_main and sys.stderr.isatty()))
        self.module.train()
        window, pending, started = Accumulator(), [], time.time()
        for utts, batch in self._loader(self.train_data, self.sampler, self.epoch):
            pending.append((utts, _to_device(batch, self.device)))
            batches_done += 1
            if len(pending) < args.accum_grad and batches_done < total:
                continue
            lengths = [b[f"{next(iter(self.task.data_fields(args, True)))}_lengths"] for _, b in pending]
            stats, _ = self.train_batches(pending)
            self.epoch_stats.add(stats)
            frames = sum(int(x.sum()) for x in lengths)
            elapsed = max(time.time() - started, 1e-9)
            window.add(dict(stats, lr=self.optimizers.lrs()[self.turns[0]][0],
                            utt_per_s=sum(len(u) for u, _ in pending) / elapsed, frames_per_s=frames / elapsed,
                            pad_eff=sum(padding_efficiency(x.tolist()) for x in lengths) / len(lengths)))
            pending, started = [], time.time()
            bar.update(args.accum_grad if batches_done < total else bar.total - bar.n)
            if self.dist.is_main and self.step % args.log_interval == 0:
                self.reporter.log_interval(self.epoch, self.step, window.means())
                window = Accumulator()
            if args.save_interval_steps and self.step % args.save_interval_steps == 0:
                self.save(batches_done)
            if args.max_steps is not None and self.step >= args.max_steps:
                bar.close()
                return False
        bar.close()
        return True

    @torch.no_grad()
    def validate(self):
        """Weighted means of the model's stats on the validation set, over all ranks."""
        sampler = valid_batches(self.args, self.task, self.dist)
        self.module.eval()
        stats = Accumulator()
        for _, batch in self._loader(self.valid_data, sampler, 0):
            batch = _to_device(batch, self.device)
            with _autocast(self.args.precision, self.device):
                kwargs = {"turn": self.turns[-1]} if len(self.turns) > 1 else {}
                _, batch_stats, weight = self.module(**batch, **kwargs)
            stats.add(batch_stats, float(weight))
        self.module.train()
        return stats.means(self.dist)

    def end_epoch(self):
        """Validate, report, select models, update epoch schedulers; True to stop training."""
        train_stats = self.epoch_stats.means(self.dist)
        valid_stats = self.validate()
        phase_stats = {"train": train_stats, "valid": valid_stats}
        self.reporter.end_epoch(self.epoch, phase_stats)
        if self.dist.is_main:
            self.selection.update(self.epoch, phase_stats, self.module.state_dict())
        else:
            self.selection.history[self.epoch] = {f"{p}.{k}": v for p, s in phase_stats.items() for k, v in s.items()}
        first = self.selection.criteria[0]
        self.optimizers.epoch_update(self.epoch, phase_stats.get(first.phase, {}).get(first.metric))
        if self.optimizers.should_restore_best:
            best = self.selection.best_epoch(first)
            path = os.path.join(self.args.output_dir, f"{best}epoch.pth")
            barrier(self.dist)
            self.module.load_state_dict(load_checkpoint(path))
            logging.info("lr halved: model restored from the best epoch %d (%s)", best, path)
        return self.selection.should_stop()

    def run(self):
        """Train until --max_epoch, --max_steps or early stopping; save and report throughout."""
        args = self.args
        batches_done = self.resume()
        if self.epoch > args.max_epoch or (args.max_steps is not None and self.step >= args.max_steps
                                           and batches_done == 0):
            logging.info("nothing to do: training already finished (epoch %d, step %d)", self.epoch - 1, self.step)
            return
        while self.epoch <= args.max_epoch:
            completed = self.train_epoch(batches_done)
            stop = self.end_epoch() or not completed
            self.epoch += 1
            self.epoch_stats = Accumulator()
            batches_done = 0
            self.save(0)
            if stop:
                break
        logging.info("training finished after epoch %d, step %d (%d non-finite steps skipped)",
                     self.epoch - 1, self.step, self.nonfinite_total)
