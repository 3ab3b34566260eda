"""Audio I/O through soundfile. A wav.scp value is a path or a `cmd |` pipe."""
import io
import subprocess

import numpy as np
import soundfile as sf

from toolkit.utils.errors import DataError


def is_pipe(spec):
    """True for a wav.scp value of the form `command ... |`."""
    return spec.rstrip().endswith("|")


def _open(spec):
    if not is_pipe(spec):
        return spec
    proc = subprocess.run(spec.rstrip()[:-1], shell=True, capture_output=True)
    if proc.returncode != 0:
        tail = proc.stderr.decode("utf-8", "replace").strip()[-500:]
        raise DataError(f"pipe command failed (exit {proc.returncode}): {spec!r}: {tail}")
    return io.BytesIO(proc.stdout)


def read_audio(spec, start=0.0, end=None, dtype="float32", always_2d=False):
    """Read audio from a path or pipe; `start`/`end` in seconds select a segment.

    Returns (samples, sample_rate); samples are [time] for mono, [time, channel]
    otherwise (or always with always_2d).
    """
    try:
        with sf.SoundFile(_open(spec)) as f:
            rate = f.samplerate
            first = int(round(start * rate))
            last = f.frames if end is None or end < 0 else int(round(end * rate))
            if first > 0:
                f.seek(first)
            data = f.read(max(0, last - first), dtype=dtype, always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise DataError(f"cannot read audio {spec!r}: {err}") from None
    if data.shape[1] == 1 and not always_2d:
        data = data[:, 0]
    return data, rate


def audio_info(spec):
    """(num_samples, sample_rate, channels) of a path (header only) or pipe (decoded)."""
    try:
        info = sf.info(_open(spec))
    except (sf.LibsndfileError, RuntimeError, OSError) as err:
        raise DataError(f"cannot read audio {spec!r}: {err}") from None
    return info.frames, info.samplerate, info.channels


def write_audio(path, samples, sample_rate, subtype="PCM_16"):
    """Write float samples in [-1, 1] (or int16) to a wav file."""
    samples = np.asarray(samples)
    sf.write(path, samples, int(sample_rate), subtype=subtype)
