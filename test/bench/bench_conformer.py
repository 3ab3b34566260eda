"""Conformer training-step speed on CPU: our encoder layers against torchaudio.models.Conformer.

    tools/venv/bin/python test/bench/bench_conformer.py [--repeats 5] [--steps 3] [--threads 1,2]

torchaudio's Conformer has no subsampling front-end and no positional encoding, so
both get the same [batch, T', d_model] tensor (as after x4 subsampling of 80-dim
fbank) with the same lengths, and only the layer stacks are timed: ours is
RelPositionalEncoding + ConformerLayer x N (relative-position attention, padding
masked in the conv module), torchaudio's is its ConformerLayer x N (plain attention).
Both have macaron FFNs, the same d_model, heads, FFN size, layers, kernel and dropout.
A step is forward + backward of the summed output over the valid frames, in training
mode. Sizes: a small 144-dim conformer (the mini_synth width at 12 layers) and ESPnet's
LibriSpeech-100 conformer. Each case
is timed `--repeats` times, alternating ours and torchaudio's, best of the repeats
(others' load on the machine only slows a run down). The subsampling front-end is
timed alone too, for a picture of the whole encoder. Writes test/bench/results/conformer.json.
"""
import argparse
import functools
import json
import os
import platform
import time

import torch
import torchaudio

from toolkit.layers.conformer import ConformerLayer
from toolkit.layers.masks import valid_mask
from toolkit.layers.positional import PositionalEncoding, RelPositionalEncoding
from toolkit.layers.subsampling import Conv2dSubsampling

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "conformer.json")
# name: (d_model, heads, ffn, layers, kernel, batch, frames after x4 subsampling)
SIZES = {
    "small": (144, 4, 576, 12, 15, 16, 200),
    "librispeech_100": (256, 4, 1024, 12, 31, 8, 400),
}
DROPOUT = 0.1


class OurLayers(torch.nn.Module):
    """Our encoder between the subsampling and the final norm."""

    def __init__(self, d_model, heads, ffn, layers, kernel, rel_pos=True):
        super().__init__()
        self.pos_enc = (RelPositionalEncoding if rel_pos else PositionalEncoding)(d_model, DROPOUT)
        self.layers = torch.nn.ModuleList(
            ConformerLayer(d_model, heads, ffn, DROPOUT, DROPOUT, rel_pos=rel_pos, cnn_module_kernel=kernel)
            for _ in range(layers))

    def forward(self, x, lengths):
        x, pos_emb = self.pos_enc(x)
        mask = valid_mask(lengths, x.shape[1]).unsqueeze(1)
        for layer in self.layers:
            x = layer(x, pos_emb, mask)
        return x


def count(model):
    return sum(p.numel() for p in model.parameters())


def step_time(step, steps):
    step()  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - start) / steps


def bench_size(name, threads, repeats, steps):
    d_model, heads, ffn, layers, kernel, batch, frames = SIZES[name]
    torch.manual_seed(0)
    models = {
        "ours_rel_pos": OurLayers(d_model, heads, ffn, layers, kernel, rel_pos=True),
        "ours_abs_pos": OurLayers(d_model, heads, ffn, layers, kernel, rel_pos=False),
        "torchaudio": torchaudio.models.Conformer(d_model, heads, ffn, layers, kernel, dropout=DROPOUT),
    }
    front = Conv2dSubsampling(80, d_model, "conv2d").train()
    x = torch.randn(batch, frames, d_model)
    lengths = torch.linspace(frames, frames * 0.6, batch).long()  # a sorted, padded batch
    valid = valid_mask(lengths, frames).unsqueeze(-1)
    feats = torch.randn(batch, frames * 4 + 3, 80)

    def layer_step(model):
        out = model.train()(x, lengths)
        out = out[0] if isinstance(out, tuple) else out  # torchaudio's returns (output, lengths)
        (out * valid).sum().backward()

    steps_by_key = {key: functools.partial(layer_step, model) for key, model in models.items()}
    steps_by_key["subsampling"] = lambda: front(feats, lengths * 4 + 3)[0].sum().backward()
    torch.set_num_threads(threads)
    best = dict.fromkeys(steps_by_key, float("inf"))
    for _ in range(repeats):
        for key, step in steps_by_key.items():
            best[key] = min(best[key], step_time(step, steps))
    row = {"size": name, "threads": threads, "d_model": d_model, "heads": heads, "ffn": ffn, "layers": layers,
           "kernel": kernel, "batch": batch, "frames": frames, "params_subsampling": count(front)}
    row.update({f"params_{key}": count(model) for key, model in models.items()})
    row.update({f"step_s_{key}": value for key, value in best.items()})
    row["ratio_rel_pos"] = best["ours_rel_pos"] / best["torchaudio"]
    row["ratio_abs_pos"] = best["ours_abs_pos"] / best["torchaudio"]
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per repeat")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--sizes", default=",".join(SIZES))
    args = parser.parse_args()
    rows = [bench_size(name, int(threads), args.repeats, args.steps)
            for name in args.sizes.split(",") for threads in args.threads.split(",")]
    print(f"{'size':16s} {'thr':>3s} {'params ours':>11s} {'torchaudio':>10s} {'ours rel s':>10s} "
          f"{'ours abs s':>10s} {'torchaudio s':>12s} {'rel/ta':>6s} {'abs/ta':>6s} {'subsampl. s':>11s}")
    for r in rows:
        print(f"{r['size']:16s} {r['threads']:3d} {r['params_ours_rel_pos']:11,d} {r['params_torchaudio']:10,d} "
              f"{r['step_s_ours_rel_pos']:10.3f} {r['step_s_ours_abs_pos']:10.3f} {r['step_s_torchaudio']:12.3f} "
              f"{r['ratio_rel_pos']:6.2f} {r['ratio_abs_pos']:6.2f} {r['step_s_subsampling']:11.3f}")
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as f:
        json.dump({"torch": torch.__version__, "torchaudio": torchaudio.__version__, "machine": platform.machine(),
                   "cpu_count": os.cpu_count(), "dropout": DROPOUT, "rows": rows}, f, indent=2)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
