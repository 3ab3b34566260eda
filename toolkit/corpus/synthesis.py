"""Synthesis of utterance chunks, each in a fresh worker process.

espeak-ng keeps state across calls, so the audio of an utterance depends on
what its process synthesised before. A chunk (a fixed list of utterances from
the plan, never from the number of jobs) is therefore synthesised in order in a
process of its own, forked from a clean fork server that never synthesises.
Same plan, same bytes, whatever --nj is.
"""
import multiprocessing
import os

import numpy as np

from toolkit.corpus.rng import int_seed, py_rng
from toolkit.corpus.sentences import make_sentence
from toolkit.data.audio_io import write_audio
from toolkit.utils.errors import DataError

MIN_SECONDS, MAX_SECONDS = 1.0, 8.0
MAX_TEXT_DRAWS = 20   # texts tried per utterance before giving up
PEAK_LIMIT = 0.99     # resampled utterances above this peak are scaled down to it
_resamplers = {}


def to_int16(x):
    """Float samples in [-1, 1] -> int16 (round to nearest, clipped to the int16 range)."""
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32768.0), -32768, 32767).astype(np.int16)


def resample_speech(audio, orig_fs, fs):
    """int16 audio at orig_fs -> (float32 audio at fs, was_limited); peaks above PEAK_LIMIT are scaled down."""
    import torch
    import torchaudio

    x = torch.from_numpy(audio.astype(np.float32) / 32768.0)
    if orig_fs != fs:
        if (orig_fs, fs) not in _resamplers:
            _resamplers[orig_fs, fs] = torchaudio.transforms.Resample(orig_fs, fs)
        with torch.no_grad():
            x = _resamplers[orig_fs, fs](x)
    y = x.numpy()
    peak = float(np.abs(y).max()) if len(y) else 0.0
    if peak > PEAK_LIMIT:
        return y * (PEAK_LIMIT / peak), True
    return y, False


def synthesize_chunk(chunk):
    """Synthesise, resample and write a chunk; run in a worker process.

    chunk: {"fs", "min_words", "max_words", "espeak_data" (an espeak-ng-data dir or
    None), "utts": [{"utt", "voice", "pitch", "pitch_range", "rate", "text_key",
    "path"}, ...]}. The text of an utterance is sentence number k of its `text_key` stream, k being the first draw whose
    audio lasts MIN_SECONDS..MAX_SECONDS. Returns one dict per utterance:
    utt, text, num_samples, draws (texts tried), peak_limited.
    """
    import torch

    from toolkit.utils.espeak import synthesize

    torch.set_num_threads(1)
    fs, results = chunk["fs"], []
    for u in chunk["utts"]:
        tried = []
        for draw in range(MAX_TEXT_DRAWS):
            text = make_sentence(py_rng(*u["text_key"], draw), chunk["min_words"], chunk["max_words"])
            audio, native_fs = synthesize(
                text, voice=u["voice"], rate=u["rate"], pitch=u["pitch"], pitch_range=u["pitch_range"],
                seed=int_seed(*u["text_key"], draw), data_path=chunk["espeak_data"])
            samples, limited = resample_speech(audio, native_fs, fs)
            seconds = len(samples) / fs
            if MIN_SECONDS <= seconds <= MAX_SECONDS:
                break
            tried.append(f"{seconds:.2f} s")
        else:
            raise DataError(f"utterance {u['utt']} ({u['voice']}, rate {u['rate']}): no text of "
                            f"{MAX_TEXT_DRAWS} drawn lasts {MIN_SECONDS}..{MAX_SECONDS} s ({', '.join(tried)}); "
                            f"narrow the sentence length range")
        os.makedirs(os.path.dirname(u["path"]), exist_ok=True)
        write_audio(u["path"], to_int16(samples), fs)
        results.append({"utt": u["utt"], "text": text, "num_samples": len(samples), "draws": draw + 1,
                        "peak_limited": limited})
    return results


def run_in_fresh_processes(func, jobs, nj):
    """[func(job) for job in jobs], each call in its own process forked from a clean fork server."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["toolkit.corpus.synthesis", "torch", "torchaudio"])
    with context.Pool(max(1, nj), maxtasksperchild=1) as pool:
        return pool.map(func, jobs, chunksize=1)
