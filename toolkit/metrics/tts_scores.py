"""Objective TTS scores of a synthesised utterance against its recording: MCD, log-F0 RMSE, V/UV error.

Analysis (WORLD, pyworld): F0 by harvest (default, as ESPnet's evaluation scripts) or
dio + stonemask, between f0_floor and f0_ceil Hz, one frame every frame_period ms; the
spectral envelope by CheapTrick (FFT size from pyworld for f0_floor). Unvoiced frames
have F0 0.

Mel-cepstrum (what SPTK's sp2mc computes): the cepstrum of the log power envelope,
c = irfft(log sp), folded to its causal (minimum-phase) half of the log amplitude
(c[0] and c[N/2] halved; c[1..N/2-1] kept), then warped onto the mel-like frequency axis of
a first-order all-pass filter with constant alpha by SPTK's freqt recursion, truncated to
`order`. freqt is linear in its input, so it is applied as a matrix built once per
(input length, order, alpha) by running the recursion on the unit vectors. With alpha 0
the result is the plain cepstrum truncated to `order`.

Default (order, alpha) per sample rate: ESPnet's presets (22.05 kHz 34/0.45, 24 kHz
34/0.46, 44.1 kHz 39/0.53, 48 kHz 39/0.55) except order 24 at 16 kHz (ESPnet: 23) and
24/0.31 at 8 kHz (SPTK's 8 kHz alpha); other rates need both given.

Comparison: DTW (toolkit.metrics.dtw) on the Euclidean distance of c1..c_order (c0,
the frame energy, excluded), then over the aligned frame pairs:
- MCD (dB) = mean of (10 / ln 10) * sqrt(2 * sum_{d=1..order} (c_d - c'_d)^2);
- log-F0 RMSE = sqrt(mean((ln F0 - ln F0')^2)) over pairs voiced in both, in natural-log
  units (ESPnet's); times 1200 / ln 2 it is in cents. None when no pair is voiced in both;
- V/UV error = fraction of pairs whose voiced/unvoiced flags differ.
Silence is not trimmed (as ESPnet): leading and trailing silence is aligned by the DTW. The
DTW warps freely, so a stretch of speech the synthesis dropped (or silenced) can be aligned
with a pause elsewhere and weigh less in the scores than its duration.
"""
import functools
import math
from typing import NamedTuple

import numpy as np
from scipy.spatial.distance import cdist

from toolkit.features.pitch import pyworld_module, world_f0
from toolkit.metrics.dtw import dtw
from toolkit.utils.errors import ConfigError


MCEP_PARAMS = {8000: (24, 0.31), 16000: (24, 0.42), 22050: (34, 0.45), 24000: (34, 0.46),
               44100: (39, 0.53), 48000: (39, 0.55)}
MCD_SCALE = 10.0 / math.log(10.0) * math.sqrt(2.0)


class Analysis(NamedTuple):
    """WORLD analysis options; order/alpha None take MCEP_PARAMS of the sample rate."""

    f0_method: str = "harvest"
    f0_floor: float = 40.0
    f0_ceil: float = 800.0
    frame_period: float = 5.0
    order: int = None
    alpha: float = None


DEFAULT_ANALYSIS = Analysis()


def mcep_params(rate, order=None, alpha=None):
    """(order, alpha): the given values, else the MCEP_PARAMS of `rate`; ConfigError when neither exists."""
    default = MCEP_PARAMS.get(int(rate))
    if default is None and (order is None or alpha is None):
        raise ConfigError(f"no default mel-cepstrum order/alpha for {rate} Hz (known rates: "
                          f"{', '.join(map(str, MCEP_PARAMS))}); give both --mcep_order and --mcep_alpha")
    return (default[0] if order is None else order), (default[1] if alpha is None else alpha)


@functools.lru_cache(maxsize=8)
def freqt_matrix(length, order, alpha):
    """[order + 1, length] matrix of SPTK's freqt: cepstrum c(0..length-1) -> warped cepstrum c~(0..order)."""
    beta = 1.0 - alpha * alpha
    g = np.zeros((order + 1, length))  # column k: the recursion's state for input unit vector e_k
    for i in range(length - 1, -1, -1):
        d = g.copy()
        g[0] = alpha * d[0]
        g[0, i] += 1.0
        if order >= 1:
            g[1] = beta * d[0] + alpha * d[1]
        for m in range(2, order + 1):
            g[m] = d[m - 1] + alpha * (d[m] - g[m - 1])
    g.flags.writeable = False
    return g


def sp_to_mcep(sp, order, alpha):
    """Mel-cepstra [frames, order + 1] of power spectral envelopes sp [frames, fft_size // 2 + 1]."""
    cepstrum = np.fft.irfft(np.log(sp), axis=1)[:, : sp.shape[1]]
    cepstrum[:, 0] /= 2.0
    cepstrum[:, -1] /= 2.0
    return cepstrum @ freqt_matrix(sp.shape[1], order, alpha).T


def world_analysis(samples, rate, analysis=DEFAULT_ANALYSIS):
    """(F0 [frames], 0 where unvoiced; power spectral envelope [frames, fft_size // 2 + 1]) of mono samples."""
    x = np.ascontiguousarray(samples, dtype=np.float64)
    f0, times = world_f0(x, rate, analysis.f0_method, analysis.f0_floor, analysis.f0_ceil, analysis.frame_period)
    pyworld = pyworld_module()
    sp = pyworld.cheaptrick(x, f0, times, rate, f0_floor=analysis.f0_floor,
                            fft_size=pyworld.get_cheaptrick_fft_size(rate, analysis.f0_floor))
    return f0, sp


def world_features(samples, rate, analysis=DEFAULT_ANALYSIS):
    """(mel-cepstra [frames, order + 1], F0 [frames], 0 where unvoiced) of mono float samples."""
    order, alpha = mcep_params(rate, analysis.order, analysis.alpha)
    f0, sp = world_analysis(samples, rate, analysis)
    return sp_to_mcep(sp, order, alpha), f0


def compare(ref, hyp):
    """Scores of hyp (mcep, f0) against ref (mcep, f0): {mcd, f0_rmse, vuv_error, frames, voiced_frames}."""
    (ref_mcep, ref_f0), (hyp_mcep, hyp_f0) = ref, hyp
    distance = cdist(ref_mcep[:, 1:], hyp_mcep[:, 1:])
    _, path = dtw(distance)
    r, h = path[:, 0], path[:, 1]
    ref_voiced, hyp_voiced = ref_f0[r] > 0, hyp_f0[h] > 0
    both = ref_voiced & hyp_voiced
    f0_rmse = None
    if both.any():
        f0_rmse = float(np.sqrt(np.mean((np.log(ref_f0[r][both]) - np.log(hyp_f0[h][both])) ** 2)))
    return {"mcd": float(MCD_SCALE * distance[r, h].mean()), "f0_rmse": f0_rmse,
            "vuv_error": float(np.mean(ref_voiced != hyp_voiced)), "frames": len(path),
            "voiced_frames": int(both.sum())}


def score_pair(ref, hyp, rate, analysis=DEFAULT_ANALYSIS):
    """compare() of the WORLD features of two mono signals at the same `rate`."""
    return compare(world_features(ref, rate, analysis), world_features(hyp, rate, analysis))
