"""Speed perturbation of a data dir (Kaldi's perturb_data_dir_speed.sh), writing new audio.

Speed factor f plays the audio f times faster, like sox `speed f`: the samples are
resampled from round(rate * f) Hz to rate Hz (torchaudio), so durations divide by f
and pitch multiplies by f. Utterance, speaker and recording ids get the prefix
`sp{f}-`; segments times, utt2num_samples, utt2dur and reco2dur are scaled.
Perturbed wav.scp and spkN.scp audio is written as wav files; factor 1.0 reads
the original audio in place. Files describing the unperturbed audio (feats.scp,
utt2num_frames, durations, cmvn.scp) are dropped with a warning: recompute them.
"""
import logging
import multiprocessing
import os

import soundfile as sf
import torch
import torchaudio

from toolkit.data.audio_io import is_pipe, read_audio, write_audio
from toolkit.data.datadir import SPK_SCP
from toolkit.data.dir_ops import Tables, combine, read_dir, rename, warn_other, write_dir
from toolkit.utils.errors import DataError

DROPPED = ("feats.scp", "utt2num_frames", "durations", "cmvn.scp")
SCALED_SECONDS = ("utt2dur", "reco2dur")


def change_speed(samples, rate, factor):
    """Resample [time] or [time, channel] float samples as if played `factor` times faster."""
    wave = torch.as_tensor(samples.T.copy())
    return torchaudio.functional.resample(wave, round(rate * factor), rate).T.numpy()


def _wav_subtype(spec):
    """The source sample format when a wav file can hold it, else 16-bit PCM."""
    subtype = "PCM_16" if is_pipe(spec) else sf.info(spec).subtype
    return subtype if sf.check_format("WAV", subtype) else "PCM_16"


def _perturb_file(job):
    """(spec, out_path, factor) -> number of samples written."""
    spec, out_path, factor = job
    samples, rate = read_audio(spec, always_2d=True)
    out = change_speed(samples, rate, factor)
    write_audio(out_path, out, rate, subtype=_wav_subtype(spec))
    return len(out)


def _one_thread():
    torch.set_num_threads(1)


def _run(jobs, nj):
    """Run `_perturb_file` over jobs, in `nj` forked processes (one torch thread each) when nj > 1."""
    if nj <= 1 or len(jobs) <= 1:
        return [_perturb_file(job) for job in jobs]
    with multiprocessing.get_context("fork").Pool(min(nj, len(jobs)), initializer=_one_thread) as pool:
        return pool.map(_perturb_file, jobs, chunksize=max(1, len(jobs) // (4 * nj)))


def _number(name, key, value, kind):
    try:
        return kind(value)
    except ValueError:
        raise DataError(f"{name}: key {key!r}: expected a number, got {value!r}") from None


def _scale_segment(value, factor):
    reco, start, end = value.split()
    end = float(end) if float(end) == -1 else float(end) / factor
    return f"{reco} {float(start) / factor:.3f} {end:.3f}"


def perturb_tables(tables, factor, audio_dir, nj=1, prefix=None):
    """Speed-perturbed copy of `tables`, new audio under `audio_dir` (prefix default `sp{factor}-`)."""
    prefix = f"sp{factor}-" if prefix is None else prefix
    dropped = sorted(n for n in tables.files if n in DROPPED)
    if dropped:
        logging.warning("speed %s: dropping %s (they describe the unperturbed audio; recompute them)",
                        factor, " ".join(dropped))
    kept = Tables({n: t for n, t in tables.files.items() if n not in DROPPED}, list(tables.other))
    out = rename(kept, utt=lambda u: prefix + u, spk=lambda s: prefix + s)
    if factor == 1:
        return out
    files = out.files
    targets = []  # (file name, key, output path)
    for name in sorted(n for n in files if n == "wav.scp" or SPK_SCP.match(n)):
        folder = os.path.abspath(audio_dir if name == "wav.scp" else os.path.join(audio_dir, name[:-len(".scp")]))
        os.makedirs(folder, exist_ok=True)
        targets += [(name, key, os.path.join(folder, f"{key}.wav")) for key in files[name]]
    lengths = _run([(files[name][key], path, factor) for name, key, path in targets], nj)
    for name, key, path in targets:
        files[name][key] = path
    if out.segmented:
        files["segments"] = {k: _scale_segment(v, factor) for k, v in files["segments"].items()}
        if "utt2num_samples" in files:
            files["utt2num_samples"] = {k: str(round(_number("utt2num_samples", k, v, int) / factor))
                                        for k, v in files["utt2num_samples"].items()}
    elif "utt2num_samples" in files:
        written = {key: n for (name, key, _), n in zip(targets, lengths) if name == "wav.scp"}
        files["utt2num_samples"] = {k: str(written[k]) for k in files["utt2num_samples"]}
    for name in SCALED_SECONDS:
        if name in files:
            files[name] = {k: f"{_number(name, k, v, float) / factor:.3f}" for k, v in files[name].items()}
    return out


def perturb_dir(src, dest, factors, audio_dir=None, nj=1, keep_ids_at_1=False):
    """Write the speed-perturbed data dir `dest` for each factor, combined into one dir.

    With keep_ids_at_1, factor 1.0 keeps the original ids (the combined 3-way set);
    otherwise every factor, 1.0 included, prefixes `sp{factor}-` (Kaldi).
    """
    tables = read_dir(src)
    warn_other(tables, src, f"copied to {dest}")
    audio_dir = audio_dir or os.path.join(dest, "audio")
    parts = [(f"speed {f}", perturb_tables(tables, f, audio_dir, nj, prefix="" if keep_ids_at_1 and f == 1 else None))
             for f in factors]
    write_dir(parts[0][1] if len(parts) == 1 else combine(parts), dest)
