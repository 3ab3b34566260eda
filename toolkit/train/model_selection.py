"""Best-model tracking over epochs, n-best snapshot keeping and early stopping (ESPnet style).

Criteria are `PHASE METRIC min|max` (e.g. `valid loss min`, `valid acc max`), each
tracked on its own. After every epoch `ModelSelection.update` writes, in exp_dir:

    {E}epoch.pth               the model state dict after epoch E
    {phase}.{metric}.best.pth  a relative symlink (a copy where symlinks fail) to the best
                               epoch's snapshot, one per criterion
    selection.json             every epoch's scalar stats and each criterion's ranking;
                               `toolkit.bin.average_checkpoints --exp_dir` reads it

and deletes the snapshots that are neither among the `keep_nbest` best of any criterion
nor the latest epoch's. The best epoch is the first to reach the best value (a tie is
no improvement); a NaN value ranks last. Early stopping watches the first criterion:
after `patience` epochs without improvement `should_stop` returns True and logs why.
Resume: save `state_dict()` in the trainer checkpoint, give it to `load_state_dict`.
"""
import json
import logging
import math
import os
import re
from typing import NamedTuple

from toolkit.train.checkpoint import link_checkpoint, save_checkpoint, write_atomically
from toolkit.utils.config import int_or_none
from toolkit.utils.errors import ConfigError, DataError

SELECTION_FILE = "selection.json"
_SNAPSHOT_NAME = re.compile(r"^(\d+)epoch\.pth$")


class Criterion(NamedTuple):
    phase: str
    metric: str
    mode: str  # "min" or "max"

    @property
    def key(self):
        """`phase.metric`, the stat's name in selection.json and in file names."""
        return f"{self.phase}.{self.metric}"

    def __str__(self):
        return f"{self.phase} {self.metric} {self.mode}"


def parse_criterion(spec):
    """'valid loss min' or ['valid', 'loss', 'min'] (ESPnet yaml) -> Criterion."""
    parts = spec.split() if isinstance(spec, str) else [str(part) for part in spec]
    if len(parts) != 3 or parts[2] not in ("min", "max"):
        raise ConfigError(f"best_model_criterion {spec!r}: expected 'PHASE METRIC min|max', "
                          "e.g. 'valid loss min'")
    return Criterion(*parts)


def snapshot_path(exp_dir, epoch):
    return os.path.join(exp_dir, f"{epoch}epoch.pth")


def best_link_path(exp_dir, criterion):
    return os.path.join(exp_dir, f"{criterion.key}.best.pth")


def rank_epochs(history, criterion):
    """Epochs that recorded the criterion's stat, best first (ties: earlier first, NaN last)."""
    sign = 1.0 if criterion.mode == "min" else -1.0
    scored = [(epoch, stats[criterion.key]) for epoch, stats in history.items()
              if criterion.key in stats]
    return [epoch for epoch, value in
            sorted(scored, key=lambda item: (math.isnan(item[1]), sign * item[1], item[0]))]


def _flatten(stats, epoch):
    """{phase: {metric: value}} -> {'phase.metric': float}."""
    flat = {}
    for phase, metrics in stats.items():
        for metric, value in metrics.items():
            try:
                flat[f"{phase}.{metric}"] = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"epoch {epoch}: stat {phase}.{metric} is not a number: "
                                 f"{value!r}") from None
    return flat


class ModelSelection:
    """Tracks criteria over epochs, keeps the n-best snapshots, links the best, stops early."""

    def __init__(self, exp_dir, criteria=("valid loss min",), keep_nbest=10, patience=None):
        if keep_nbest < 1:
            raise ConfigError(f"keep_nbest_models must be at least 1, got {keep_nbest}")
        if patience is not None and patience < 1:
            raise ConfigError(f"patience must be at least 1 (or none), got {patience}")
        self.exp_dir = exp_dir
        self.criteria = [parse_criterion(spec) for spec in criteria]
        if not self.criteria:
            raise ConfigError("best_model_criterion needs at least one 'PHASE METRIC min|max'")
        self.keep_nbest = keep_nbest
        self.patience = patience
        self.history = {}  # epoch -> {'phase.metric': value}

    def update(self, epoch, stats, model_state):
        """Record epoch `epoch`'s stats ({phase: {metric: value}}) and its model state dict."""
        if self.history and epoch <= max(self.history):
            raise ValueError(f"epoch {epoch} is not after the last recorded epoch {max(self.history)}")
        flat = _flatten(stats, epoch)
        for criterion in self.criteria:
            if criterion.key not in flat:
                raise ConfigError(f"best_model_criterion '{criterion}': epoch {epoch} reported no "
                                  f"{criterion.key}; reported stats: {', '.join(sorted(flat))}")
        save_checkpoint(snapshot_path(self.exp_dir, epoch), model_state)
        self.history[epoch] = flat
        for criterion in self.criteria:
            best = self.best_epoch(criterion)
            self._link_best(criterion)
            logging.info("epoch %d: %s = %.6g%s (best %.6g at epoch %d)", epoch, criterion.key,
                         flat[criterion.key], " [new best]" if best == epoch else "",
                         self.history[best][criterion.key], best)
        self._write_summary()
        self._remove_unkept_snapshots()

    def _link_best(self, criterion):
        """Point the criterion's best link at the best epoch whose snapshot exists.

        A snapshot can be missing when a run went on past the checkpoint this run resumed
        from and deleted it; that is logged.
        """
        ranked = rank_epochs(self.history, criterion)
        present = self._ranked_snapshots(criterion)
        if present[0] != ranked[0]:
            logging.warning("%s: the snapshot of epoch %d (best) is gone, deleted by a run that "
                            "went past the point this one resumed from; linking epoch %d instead",
                            criterion.key, ranked[0], present[0])
        link_checkpoint(snapshot_path(self.exp_dir, present[0]), best_link_path(self.exp_dir, criterion))

    def best_epoch(self, criterion):
        ranked = rank_epochs(self.history, criterion)
        return ranked[0] if ranked else None

    def _ranked_snapshots(self, criterion):
        """rank_epochs restricted to the epochs whose snapshot file exists."""
        return [epoch for epoch in rank_epochs(self.history, criterion)
                if os.path.isfile(snapshot_path(self.exp_dir, epoch))]

    def kept_epochs(self):
        """The epochs whose snapshots are kept: each criterion's n best existing ones and the latest."""
        kept = {max(self.history)} if self.history else set()
        for criterion in self.criteria:
            kept.update(self._ranked_snapshots(criterion)[:self.keep_nbest])
        return kept

    def should_stop(self):
        """True (and log the reason) once the first criterion went `patience` epochs unimproved."""
        if self.patience is None or not self.history:
            return False
        criterion = self.criteria[0]
        last = max(self.history)
        best = self.best_epoch(criterion)
        if last - best < self.patience:
            return False
        logging.info("early stopping after epoch %d: %s has not improved for %d epochs "
                     "(best %.6g at epoch %d, patience %d)", last, criterion.key, last - best,
                     self.history[best][criterion.key], best, self.patience)
        return True

    def state_dict(self):
        return {"history": {epoch: dict(stats) for epoch, stats in self.history.items()}}

    def load_state_dict(self, state):
        self.history = {int(epoch): dict(stats) for epoch, stats in state["history"].items()}

    def _write_summary(self):
        summary = {
            "criteria": [str(criterion) for criterion in self.criteria],
            "ranking": {str(criterion): rank_epochs(self.history, criterion)
                        for criterion in self.criteria},
            "history": {str(epoch): stats for epoch, stats in sorted(self.history.items())},
        }
        text = json.dumps(summary, indent=2)

        def write(tmp):
            with open(tmp, "w", encoding="utf-8") as stream:
                stream.write(text + "\n")

        write_atomically(os.path.join(self.exp_dir, SELECTION_FILE), write)

    def _remove_unkept_snapshots(self):
        """Delete `{E}epoch.pth` files not kept, including strays of a run resumed from earlier."""
        kept = self.kept_epochs()
        for name in sorted(os.listdir(self.exp_dir)):
            match = _SNAPSHOT_NAME.match(name)
            if match and int(match[1]) not in kept:
                os.remove(os.path.join(self.exp_dir, name))
                logging.info("removed snapshot %s: not among the %d best of any criterion",
                             name, self.keep_nbest)


def nbest_snapshots(exp_dir, criterion, n):
    """Paths of the n best existing epoch snapshots in exp_dir by `criterion`, best first.

    Reads selection.json. Fewer than n available gives those there are, with a warning.
    """
    criterion = parse_criterion(criterion)
    path = os.path.join(exp_dir, SELECTION_FILE)
    try:
        with open(path, encoding="utf-8") as stream:
            history = {int(epoch): stats for epoch, stats in json.load(stream)["history"].items()}
    except FileNotFoundError:
        raise DataError(f"{path} does not exist: training writes it after each epoch; "
                        "to average given files, use --checkpoints") from None
    except (ValueError, KeyError) as err:
        raise DataError(f"{path} is not a valid selection file ({err})") from None
    ranked = rank_epochs(history, criterion)
    if not ranked:
        reported = sorted({key for stats in history.values() for key in stats})
        raise ConfigError(f"criterion '{criterion}': no epoch in {path} reported {criterion.key}; "
                          f"reported stats: {', '.join(reported)}")
    available = [e for e in ranked if os.path.isfile(snapshot_path(exp_dir, e))][:n]
    if not available:
        raise DataError(f"no epoch snapshot of {exp_dir} is left for criterion '{criterion}'")
    if len(available) < n:
        logging.warning("only %d snapshot(s) of %d requested exist for '%s' in %s: epochs %s",
                        len(available), n, criterion, exp_dir, available)
    return [snapshot_path(exp_dir, epoch) for epoch in available]


def add_arguments(parser):
    """Add --best_model_criterion, --keep_nbest_models and --patience to an argparse parser."""
    parser.add_argument("--best_model_criterion", nargs="+", default=["valid loss min"],
                        metavar="'PHASE METRIC min|max'",
                        help="criteria for the best models, each tracked on its own")
    parser.add_argument("--keep_nbest_models", type=int, default=10,
                        help="epoch snapshots kept per criterion (for averaging)")
    parser.add_argument("--patience", type=int_or_none, default=None,
                        help="stop after this many epochs without improvement of the first "
                             "criterion (none: never)")
