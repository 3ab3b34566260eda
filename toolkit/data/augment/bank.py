"""Lazily loaded, cached mono clips listed in a Kaldi scp (noises, room impulse responses)."""
from collections import OrderedDict

import numpy as np

from toolkit.audio.resample import resample as resample_audio
from toolkit.data.audio_io import read_audio
from toolkit.data.tables import read_table
from toolkit.utils.errors import DataError


class AudioBank:
    """Clips of `scp` (`key path` or `key cmd |` lines), read on first use, `cache_size` kept in memory.

    A clip must be mono and at the rate asked for; with `resample` a clip at
    another rate is resampled (torchaudio) instead of being an error.
    """

    def __init__(self, scp, resample=False, cache_size=8):
        self.scp = scp
        self.table = read_table(scp)
        if not self.table:
            raise DataError(f"{scp}: no entries")
        self.keys = sorted(self.table)
        self.resample = resample
        self.cache_size = cache_size
        self._cache = OrderedDict()

    def get(self, key, rate):
        """Float32 [time] samples of clip `key` at `rate` Hz."""
        if (key, rate) in self._cache:
            self._cache.move_to_end((key, rate))
            return self._cache[key, rate]
        clip = self._load(key, rate)
        self._cache[key, rate] = clip
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return clip

    def _load(self, key, rate):
        spec = self.table[key]
        samples, clip_rate = read_audio(spec)
        where = f"{self.scp}: {key} ({spec})"
        if samples.ndim != 1:
            raise DataError(f"{where}: {samples.shape[1]} channels; a clip must be mono "
                            f"(select a channel in the scp, e.g. `sox FILE -t wav - remix 1 |`)")
        if clip_rate != rate:
            if not self.resample:
                raise DataError(f"{where}: sample rate {clip_rate} Hz, the audio is {rate} Hz; "
                                f"resample the file or enable `resample: true`")
            samples = resample_audio(samples, clip_rate, rate)
        if not np.any(samples):
            raise DataError(f"{where}: the clip is silent (all zeros); remove it from the scp")
        return np.ascontiguousarray(samples, dtype=np.float32)
