"""CTC prefix beam search speed and agreement: our ctc_prefix_beam_search against pyctcdecode.

    tools/venv/bin/python test/bench/bench_prefix_beam.py [--utts 100] [--frames 200] [--beam 10]

Both decoders get the same seeded log-probs: posteriors shaped like a trained CTC model's
(each frame raises a target, blank half the time, by 8 above N(0, 1.5^2) logits), for
vocabularies of 30 and 300. Both search the same space: no LM, no score-based beam pruning
(pyctcdecode beam_prune_logp=-1e9), the same per-frame token pruning (token_min_logp: tokens
below it are skipped except the frame's best; -5 is pyctcdecode's default, "none" keeps all).
Unpruned pyctcdecode is slow at vocabulary 300, so that row uses --unpruned_utts utterances.
Per row: wall time of each (one thread), ratio ours / pyctcdecode, agreement rate of the best
hypotheses, and for disagreements which best has the higher exact probability (-ctc_loss).
Writes test/bench/results/prefix_beam.json.
"""
import argparse
import importlib.metadata
import json
import logging
import os
import platform
import time

import numpy as np
import torch
import torch.nn.functional as F
from pyctcdecode import build_ctcdecoder

from toolkit.decode.ctc_prefix_beam import ctc_prefix_beam_search

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "prefix_beam.json")
NO_PRUNING = -1e9
PYCTC_FLOOR = np.log(1e-15)  # pyctcdecode clips log-probs here; inputs stay above it


def peaky_log_probs(rng, num_frames, vocab, peak=8.0, noise=1.5):
    target = np.where(rng.random(num_frames) < 0.5, 0, rng.integers(1, vocab, num_frames))
    logits = rng.standard_normal((num_frames, vocab)) * noise
    logits[np.arange(num_frames), target] += peak
    log_probs = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    assert log_probs.min() > PYCTC_FLOOR
    return log_probs


def ctc_log_prob(log_probs, tokens):
    lp = torch.as_tensor(log_probs)
    if not tokens:
        return lp[:, 0].sum().item()
    return -F.ctc_loss(lp[:, None], torch.tensor([tokens]), torch.tensor([len(lp)]),
                       torch.tensor([len(tokens)]), reduction="sum").item()


def bench(vocab, token_min_logp, utts, frames, beam):
    rng = np.random.default_rng(vocab)
    inputs = [peaky_log_probs(rng, frames, vocab) for _ in range(utts)]
    labels = [""] + [chr(0x4E00 + i) for i in range(1, vocab)]
    decoder = build_ctcdecoder(labels)
    start = time.perf_counter()
    ours = [ctc_prefix_beam_search(lp, beam=beam, token_min_logp=token_min_logp)[0][0] for lp in inputs]
    ours_seconds = time.perf_counter() - start
    start = time.perf_counter()
    theirs = [decoder.decode_beams(lp, beam_width=beam, beam_prune_logp=NO_PRUNING, token_min_logp=token_min_logp,
                                   prune_history=False)[0][0] for lp in inputs]
    theirs_seconds = time.perf_counter() - start
    theirs = [[labels.index(c) for c in text] for text in theirs]
    differ = [(lp, a, b) for lp, a, b in zip(inputs, ours, theirs) if a != b]
    ours_better = sum(ctc_log_prob(lp, a) > ctc_log_prob(lp, b) for lp, a, b in differ)
    return {"vocab": vocab, "token_min_logp": "none" if token_min_logp == NO_PRUNING else token_min_logp,
            "utterances": utts, "frames": frames, "beam": beam,
            "ours_ms_per_utt": round(1000 * ours_seconds / utts, 2),
            "pyctcdecode_ms_per_utt": round(1000 * theirs_seconds / utts, 2),
            "ratio_ours_over_pyctcdecode": round(ours_seconds / theirs_seconds, 4),
            "best_agreement": round(1 - len(differ) / utts, 3),
            "disagreements_ours_more_probable": ours_better,
            "disagreements_pyctcdecode_more_probable": len(differ) - ours_better,
            "mean_best_length": round(float(np.mean([len(t) for t in ours])), 1)}


def print_table(rows):
    columns = ["vocab", "token_min_logp", "utterances", "ours_ms_per_utt", "pyctcdecode_ms_per_utt",
               "ratio_ours_over_pyctcdecode", "best_agreement", "disagreements_ours_more_probable",
               "disagreements_pyctcdecode_more_probable"]
    widths = [max(len(c), 8) for c in columns]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(str(row[c]).rjust(w) for c, w in zip(columns, widths)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--utts", type=int, default=100)
    parser.add_argument("--unpruned_utts", type=int, default=10, help="utterances of the unpruned vocab-300 row")
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--beam", type=int, default=10)
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.getLogger("pyctcdecode").setLevel(logging.ERROR)
    settings = [(30, -5.0, args.utts), (30, NO_PRUNING, args.utts), (300, -5.0, args.utts),
                (300, NO_PRUNING, args.unpruned_utts)]
    rows = [bench(vocab, prune, utts, args.frames, args.beam) for vocab, prune, utts in settings]
    print_table(rows)
    result = {"rows": rows, "threads": 1, "input": "peaky posteriors: target +8 over N(0, 1.5^2) logits",
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "numpy": np.__version__, "pyctcdecode": importlib.metadata.version("pyctcdecode"),
              "load_average_1min": os.getloadavg()[0]}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
