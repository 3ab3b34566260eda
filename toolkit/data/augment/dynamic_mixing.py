"""Dynamic mixing for separation training: every example is a fresh mixture of sources
drawn from the whole training set, instead of the fixed pairs of its lists.

Each example keeps its length n (the sampler batched it by that length). Its num_spks
sources are drawn uniformly among the training sources (every spkN.scp entry of every
mixture) long enough for n samples, from distinct speakers when the data dir has
`utt2src_spk` (`<mix> <speaker of source 1> .. <speaker of source N>`), else from
distinct entries. Each is cropped at a random offset, played faster by a factor drawn
from `speed_factors` (default [1.0]; e.g. [0.9, 1.0, 1.1] shifts pitch and formants),
and set to a random active level: relative levels uniform in [-max_level_db/2,
max_level_db/2] dB (two sources: +g/2 and -g/2 with g uniform in 0..max_level_db, as in
wsj0-2mix); one common gain then brings the largest peak of mixture and sources to
`peak`. The mixture is the exact sum of the scaled sources. With probability 1 - prob,
or when too few long sources of other speakers exist, an example is left as it is.
"""
import bisect
import math

import numpy as np

from toolkit.corpus.mixtures import active_level_db
from toolkit.data.audio_io import read_audio
from toolkit.data.augment.conf import check_keys
from toolkit.data.augment.waveform import SpeedPerturb
from toolkit.utils.errors import ConfigError, DataError

DEFAULTS = {"prob": 1.0, "max_level_db": 5.0, "peak": 0.9, "speed_factors": [1.0]}


def _needed(n, factor):
    """Samples to read so that `factor` times faster they still give n."""
    return n if factor == 1 else math.ceil(n * factor) + 1


class DynamicMixing:
    """`transform(example, rng) -> example` over the fields mix_field, ref_fields (a DataDirDataset transform)."""

    def __init__(self, data, num_spks, fs, mix_field, ref_fields, prob=1.0, max_level_db=5.0, peak=0.9,
                 speed_factors=(1.0,)):
        if not 0.0 <= prob <= 1.0 or max_level_db < 0 or not 0 < peak <= 1.0:
            raise ConfigError(f"dynamic_mixing: need 0 <= prob <= 1, max_level_db >= 0, 0 < peak <= 1; "
                              f"got prob={prob}, max_level_db={max_level_db}, peak={peak}")
        self.speed = SpeedPerturb(speed_factors)
        self.fs, self.mix_field, self.ref_fields = fs, mix_field, tuple(ref_fields)
        self.prob, self.max_level_db, self.peak = prob, max_level_db, peak
        lengths = data.table("utt2num_samples")
        scps = [data.table(f"spk{i + 1}.scp") for i in range(num_spks)]
        speakers = data.table("utt2src_spk") if data.has("utt2src_spk") else None
        pool = []  # (num_samples, spec, speaker)
        for utt in data.utts:
            if speakers is None:
                spks = [f"{utt}#{i}" for i in range(num_spks)]  # no speaker table: entries only differ
            elif utt not in speakers:
                raise DataError(f"{data.path}/utt2src_spk: utterance {utt!r} missing; "
                                f"run utils/fix_data_dir.sh {data.path}")
            else:
                spks = speakers[utt].split()
            if len(spks) != num_spks:
                raise DataError(f"{data.path}/utt2src_spk: utterance {utt!r} lists {len(spks)} speakers, "
                                f"expected {num_spks} (one per spkN.scp)")
            pool += [(int(lengths[utt]), scp[utt], spk) for scp, spk in zip(scps, spks)]
        pool.sort()
        self.pool, self.pool_lengths = pool, [p[0] for p in pool]
        if len({p[2] for p in pool}) < num_spks:
            raise DataError(f"{data.path}: dynamic mixing needs sources of at least {num_spks} speakers")

    def _draw(self, n, rng):
        """num_spks (spec, speed factor) whose sped-up audio has at least n samples, speakers distinct."""
        chosen, speakers = [], set()
        for _ in range(100 * len(self.ref_fields)):
            factor = self.speed.draw(rng, None, self.fs)["factor"]
            first = bisect.bisect_left(self.pool_lengths, _needed(n, factor))
            if first == len(self.pool):
                continue
            _, spec, spk = self.pool[int(rng.integers(first, len(self.pool)))]
            if spk not in speakers:
                chosen.append((spec, factor))
                speakers.add(spk)
                if len(chosen) == len(self.ref_fields):
                    return chosen
        return None  # too few long sources of other speakers: the example stays as it is

    def __call__(self, example, rng):
        if rng.random() >= self.prob:
            return example
        n = example[self.mix_field].shape[0]
        specs = self._draw(n, rng)
        if specs is None:
            return example
        sources = []
        for spec, factor in specs:
            audio, rate = read_audio(spec)
            need = _needed(n, factor)
            if rate != self.fs or audio.ndim != 1 or audio.shape[0] < need:
                raise DataError(f"dynamic mixing: {spec!r} must be mono at {self.fs} Hz with >= {need} samples "
                                f"(utt2num_samples); got {audio.shape} at {rate} Hz")
            # an offset on the resampler's period: the crop's samples are those of the whole source sped up
            period = round(self.fs * factor) // math.gcd(round(self.fs * factor), self.fs)
            offset = int(rng.integers(0, (audio.shape[0] - need) // period + 1)) * period
            sped = self.speed.apply(audio[offset:offset + need], self.fs, factor)
            sources.append(sped[:n].astype(np.float64))
        if len(sources) == 2:
            half = rng.uniform(0.0, self.max_level_db) / 2
            levels = [half, -half]
        else:
            levels = rng.uniform(-self.max_level_db / 2, self.max_level_db / 2, size=len(sources))
        sources = [s * 10 ** ((level - active_level_db(s, self.fs)) / 20) for s, level in zip(sources, levels)]
        mix = np.sum(sources, axis=0)
        gain = self.peak / max(np.abs(x).max() for x in (mix, *sources))
        out = dict(example)
        out[self.mix_field] = (mix * gain).astype(np.float32)
        for field, source in zip(self.ref_fields, sources):
            out[field] = (source * gain).astype(np.float32)
        return out


def build_dynamic_mixing(conf, data, num_spks, fs, mix_field, ref_fields):
    """DynamicMixing from the task's `dynamic_mixing` mapping (None or {}: off)."""
    if not conf:
        return None
    check_keys("dynamic_mixing", conf, tuple(DEFAULTS))
    if fs is None:
        raise ConfigError("dynamic_mixing needs --fs (the sample rate of the sources)")
    return DynamicMixing(data, num_spks, fs, mix_field, ref_fields, **{**DEFAULTS, **conf})
