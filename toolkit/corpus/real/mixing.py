"""What the separation corpora made from their sources (wsj0_2mix, libri2mix) share.

Signal steps: downsample (Kaiser-windowed sinc, as scipy's resample_poly), fit_lengths ('min' / 'max'),
int16_sum (an exact int16 mixture of int16 sources). Plumbing: the rate/mode check, the wav folder
layout, the error that lists missing source files, and running a corpus' plan in chunked worker jobs.
"""
import logging
import multiprocessing
import os

import numpy as np

from toolkit.data.audio_io import write_audio
from toolkit.utils.errors import ConfigError, DataError

RATES = (8000, 16000)
MODES = ("min", "max")
CHUNK = 100            # mixtures per worker task
MAX_LISTED = 20        # missing files named in an error before counting the rest

KAISER_BETA = 5.0      # resampling low-pass: Kaiser window (scipy resample_poly's default)
ZERO_CROSSINGS = 10    # sinc zero crossings on each side of the centre tap


# --- signal steps ---

def downsample(x, orig_fs, fs):
    """`x` at orig_fs -> fs (an integer factor lower): Kaiser-windowed sinc low-pass at fs/2, as scipy's
    resample_poly(x, 1, orig_fs // fs); ceil(len / factor) samples, centred like it."""
    factor = orig_fs // fs
    if factor < 1 or factor * fs != orig_fs:
        raise ConfigError(f"cannot resample {orig_fs} Hz to {fs} Hz: only downsampling by an integer factor")
    if factor == 1:
        return x
    half = ZERO_CROSSINGS * factor
    taps = np.sinc(np.arange(-half, half + 1) / factor) * np.kaiser(2 * half + 1, KAISER_BETA)
    return np.convolve(x, taps / taps.sum())[half::factor][: -(-len(x) // factor)]


def fit_lengths(signals, mode):
    """'min': truncate every signal to the shortest; 'max': zero-pad every signal to the longest."""
    if mode == "min":
        n = min(len(s) for s in signals)
        return [s[:n] for s in signals]
    n = max(len(s) for s in signals)
    return [np.pad(s, (0, n - len(s))) for s in signals]


def int16_sum(parts):
    """(int16 sum of int16 signals, clipped to the int16 range; how many samples were clipped)."""
    total = np.sum(np.stack(parts).astype(np.int32), axis=0)
    clipped = int(np.count_nonzero((total > 32767) | (total < -32768)))
    return np.clip(total, -32768, 32767).astype(np.int16), clipped


def write_wavs(pairs, fs):
    """Write each (path, samples) of `pairs` at `fs`, making its folder."""
    for path, signal in pairs:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_audio(path, signal, fs)


# --- planning and running ---

def check_fs_mode(corpus, fs, mode):
    """ConfigError unless `fs` is in RATES and `mode` in MODES."""
    if fs not in RATES or mode not in MODES:
        raise ConfigError(f"--fs {fs} --mode {mode}: {corpus} is made at {' or '.join(map(str, RATES))} Hz "
                          f"in mode {' or '.join(MODES)}")


def rate_dir(wav_dir, fs, mode):
    """WAV_DIR/wav<kHz>k/<mode>, absolute: where a corpus' sets go (the wsj0-mix and LibriMix layout)."""
    return os.path.join(os.path.abspath(wav_dir), f"wav{fs // 1000}k", mode)


def check_missing(missing, what):
    """DataError "<count> <what>:" naming the first MAX_LISTED `missing` lines and counting the rest; none if empty."""
    if missing:
        more = f"\n  ... and {len(missing) - MAX_LISTED} more" if len(missing) > MAX_LISTED else ""
        raise DataError(f"{len(missing)} {what}:\n  " + "\n  ".join(missing[:MAX_LISTED]) + more)


def one_thread():
    """Single-threaded torch: the filters here are sample-by-sample recursions that threads only slow down."""
    import torch

    torch.set_num_threads(1)


def run_chunks(func, jobs, nj):
    """[func(job) for job in jobs] with `nj` worker processes (in this process for nj 1), logging progress."""
    results = []
    if nj <= 1:
        pool, mapped = None, map(func, jobs)
    else:
        pool = multiprocessing.get_context("forkserver").Pool(nj, initializer=one_thread)
        mapped = pool.imap(func, jobs)
    try:
        for result in mapped:
            results.append(result)
            if len(results) % max(1, len(jobs) // 10) == 0 or len(results) == len(jobs):
                logging.info("%d/%d chunks done", len(results), len(jobs))
    finally:
        if pool is not None:
            pool.terminate()
    return results


def make_sets(corpus, mix_chunk, plans, fs, mode, out_dir, nj):
    """Run `mix_chunk` on {"fs", "mode", "set", "items"} jobs of up to CHUNK items of each set's plan
    ({set: [item]}) with `nj` processes; returns {set: the rows mix_chunk returned, in plan order}."""
    jobs = [{"fs": fs, "mode": mode, "set": name, "items": items[i:i + CHUNK]}
            for name, items in plans.items() for i in range(0, len(items), CHUNK)]
    logging.info("%s: making %d mixtures at %d Hz (%s) under %s with %d job(s)",
                 corpus, sum(len(j["items"]) for j in jobs), fs, mode, out_dir, nj)
    done = {name: [] for name in plans}
    for job, rows in zip(jobs, run_chunks(mix_chunk, jobs, nj)):
        done[job["set"]] += rows
    return done
