"""Training reports: weighted epoch averages, log lines, history, plots, tensorboard.

Stats are averaged with the batch weights the model returns; epoch averages are
summed over ranks before division, so every rank reports the same numbers.
"""
import logging
import os

import torch

from toolkit.train.distributed import all_reduce_sum


class Accumulator:
    """Weighted sums of named stats."""

    def __init__(self):
        self.sums, self.weights = {}, {}

    def add(self, stats, weight=1.0):
        for key, value in stats.items():
            if value is None:
                continue
            self.sums[key] = self.sums.get(key, 0.0) + float(value) * weight
            self.weights[key] = self.weights.get(key, 0.0) + weight

    def means(self, dist_info=None):
        """{key: weighted mean}; with dist_info the sums cover every rank (same key order needed)."""
        keys = sorted(self.sums)
        if dist_info is not None and dist_info.enabled:
            packed = torch.tensor([[self.sums[k], self.weights[k]] for k in keys], dtype=torch.float64)
            all_reduce_sum(packed, dist_info)
            return {k: float(s / w) for k, (s, w) in zip(keys, packed.tolist()) if w > 0}
        return {k: self.sums[k] / self.weights[k] for k in keys if self.weights[k] > 0}


class Reporter:
    """Per-epoch history ({epoch: {phase: {metric: value}}}), log lines and plots."""

    def __init__(self, output_dir, is_main=True, tensorboard=True):
        self.output_dir = output_dir
        self.is_main = is_main
        self.history = {}
        self.writer = None
        if is_main and tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                logging.info("tensorboard is not installed (pip install tensorboard): curves only as PNG")
            else:
                self.writer = SummaryWriter(os.path.join(output_dir, "tensorboard"))

    def log_interval(self, epoch, step, stats):
        """One train.log line with the interval's averages, lr, speed and padding."""
        text = " ".join(f"{k}={v:.4g}" for k, v in stats.items())
        logging.info("epoch %d step %d: %s", epoch, step, text)
        if self.writer is not None:
            for key, value in stats.items():
                self.writer.add_scalar(f"train_step/{key}", value, step)

    def end_epoch(self, epoch, phase_stats):
        """Record {phase: {metric: value}} for `epoch`, log it, write plots."""
        self.history[epoch] = phase_stats
        for phase, stats in phase_stats.items():
            logging.info("epoch %d %s: %s", epoch, phase, " ".join(f"{k}={v:.4g}" for k, v in stats.items()))
            if self.writer is not None:
                for key, value in stats.items():
                    self.writer.add_scalar(f"{phase}/{key}", value, epoch)
        if self.is_main:
            self.plot()

    def value(self, epoch, phase, metric):
        return self.history.get(epoch, {}).get(phase, {}).get(metric)

    def plot(self):
        """images/<metric>.png: each metric over epochs, one line per phase."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        image_dir = os.path.join(self.output_dir, "images")
        os.makedirs(image_dir, exist_ok=True)
        epochs = sorted(self.history)
        metrics = sorted({m for e in epochs for stats in self.history[e].values() for m in stats})
        for metric in metrics:
            fig, ax = plt.subplots(figsize=(5, 3.5))
            for phase in sorted({p for e in epochs for p in self.history[e]}):
                points = [(e, self.value(e, phase, metric)) for e in epochs]
                points = [(e, v) for e, v in points if v is not None]
                if points:
                    ax.plot(*zip(*points), marker="o", label=phase)
            ax.set_xlabel("epoch")
            ax.set_ylabel(metric)
            ax.grid(alpha=0.3)
            ax.legend()
            fig.tight_layout()
            fig.savefig(os.path.join(image_dir, f"{metric.replace('/', '_')}.png"))
            plt.close(fig)

    def state_dict(self):
        return {"history": self.history}

    def load_state_dict(self, state):
        self.history = {int(e): v for e, v in state["history"].items()}
