"""WSJ0-2mix (Hershey et al., ICASSP 2016) generated from WSJ0 with MERL's published mix lists.

Inputs (nothing is downloaded):
  WSJ0 (LDC93S6A), its discs merged under one folder holding wsj0/ (the MATLAB script's
    `wsj0root`), converted to wav: wsj0/si_tr_s/01t/01to030v.wav. Where a list names X.wv1,
    X.wav is used if it exists, else X.wv1 itself: a wav kept under the .wv1 name is read as
    is, an original NIST SPHERE file (shorten-compressed) through `sph2pipe -f wav`, which
    must then be on PATH.
  mix_2_spk_{tr,cv,tt}.txt from create-speaker-mixtures.zip (LISTS_URL), `PATH1 SNR1 PATH2 SNR2`
    a line, paths relative to the WSJ0 folder (wsj0/si_tr_s/01t/01to030v.wv1).

Generation, as create_wav_2speakers.m does it:
  1. each source is downsampled to 8 kHz and its active speech level measured there (ITU-T P.56
     method B, see active_level); the 8 kHz and the 16 kHz outputs both use this level;
  2. source i at the output rate is scaled by 10^(SNR_i/20) / sqrt(level_i);
  3. 'min' truncates both to the shorter, 'max' zero-pads the shorter;
  4. one gain brings the largest |sample| of mix, s1 and s2 to 0.9;
  5. int16: s_i = round(32768 x) (ties to even, clipped) and mix = s1 + s2 exactly.
Mixture ids are the wsj0-2mix file names, `<name1>_<SNR1>_<name2>_<SNR2>` with the SNRs printed
as MATLAB's num2str prints them (num2str below).

Where the MATLAB output differs (slightly, in levels and samples; never in ids):
  - resampling: a Kaiser-windowed sinc (beta 5, 10 zero crossings a side, exactly scipy's
    resample_poly) where MATLAB's resample designs its filter with firls;
  - levels: ITU-T P.56 method B as in VOICEBOX activlev's 2012 revision (active_level; not
    toolkit.corpus.mixtures.active_level_db). Later revisions append 0.35 s of zeros, which counts
    the hangover after an utterance that ends in speech (a level up to ~0.4 dB lower on our test
    signals); which revision MERL ran is not known, and activlev is not reproduced bit for bit;
  - MATLAB rounds the float mixture on its own (up to 1 LSB from s1 + s2) and rounds ties away from 0.

Outputs: WAV_DIR/wav8k/min/tr/{mix,s1,s2}/ID.wav (the wsj0-2mix layout) and the data dirs
DST/{tr,cv,tt}_8k_min (name: set, rate in kHz, mode).
The steps it shares with Libri2Mix (resampling, lengths, int16 sums, chunked jobs) are in mixing.py.
"""
import functools
import logging
import math
import os
import shlex
import shutil

import numpy as np

from toolkit.corpus.real.common import read_lines
from toolkit.corpus.real.mixing import (check_fs_mode, check_missing, downsample, fit_lengths, int16_sum,
                                        make_sets, rate_dir, write_wavs)
from toolkit.corpus.synthesis import to_int16
from toolkit.data.audio_io import is_pipe, read_audio
from toolkit.data.sep_lists import write_sep_dir
from toolkit.utils.errors import ConfigError, DataError

SETS = {"tr": 20000, "cv": 5000, "tt": 3000}  # mixtures per list in the release
LISTS_URL = "http://www.merl.com/demos/deep-clustering/create-speaker-mixtures.zip"
LEVEL_FS = 8000        # rate at which the active levels are measured (as the MATLAB script)
PEAK = 0.9             # largest |sample| of mix and sources after the common gain

# ITU-T P.56 method B with VOICEBOX activlev's constants.
P56_TIME_CONSTANT = 0.03  # s, each of the two envelope smoothing stages
P56_HANGOVER = 0.2        # s a sample stays active after the envelope falls below a threshold
P56_MARGIN_DB = 15.9      # the level is where active power and threshold are this far apart
P56_BINS = 20             # thresholds 3 dB apart below the envelope's peak (60 dB)
HIGHPASS_HZ = 200
# s-plane zeros and poles of activlev's 5th-order Chebyshev-II high-pass prototype (cut-off 1 rad/s).
HIGHPASS_ZEROS = (0, 0.37843443673309j, -0.37843443673309j, 0.23388534441447j, -0.23388534441447j)
HIGHPASS_POLES = (-0.66793268833792, -0.20640255179496 + 0.73942185906851j, -0.20640255179496 - 0.73942185906851j,
                  -0.54036889596392 + 0.45698784092898j, -0.54036889596392 - 0.45698784092898j)

SPHERE_MAGIC = b"NIST_1A"
SPHERE_HELP = ("WSJ0's .wv1 files are NIST SPHERE with shorten compression, which soundfile cannot decode: "
               "put sph2pipe on PATH (Kaldi builds it in tools/sph2pipe_v2.5) or convert the tree first, e.g. "
               "find wsj0 -name '*.wv1' | while read f; do sph2pipe -f wav \"$f\" \"${f%.wv1}.wav\"; done")


# --- active speech level, ITU-T P.56 method B ---

def _lfilter(b, a, x):
    import torch
    import torchaudio

    def as_tensor(v):
        return torch.as_tensor(np.asarray(v, dtype=np.float64))
    return torchaudio.functional.lfilter(as_tensor(x), as_tensor(a), as_tensor(b), clamp=False).numpy()


def _trailing_max(x, width):
    """y[i] = max(x[i - width + 1 .. i]) (from x[0] near the start), in O(len) by van Herk's block method."""
    n = len(x)
    blocks = np.concatenate([x, np.full(-n % width, -np.inf)]).reshape(-1, width)
    prefix = np.maximum.accumulate(blocks, axis=1).ravel()[:n]  # max from the block's start to i
    suffix = np.maximum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()  # max from i to the block's end
    y = prefix.copy()
    if n >= width:
        y[width - 1:] = np.maximum(prefix[width - 1:], suffix[:n - width + 1])
    return y


@functools.lru_cache(maxsize=None)
def highpass(fs):
    """(b, a) of activlev's 200 Hz high-pass at rate fs (bilinear transform), unit gain at fs/2."""
    warp = math.tan(math.pi * HIGHPASS_HZ / fs)
    b = np.poly(2 / (1 - np.asarray(HIGHPASS_ZEROS) * warp) - 1).real
    a = np.poly(2 / (1 - np.asarray(HIGHPASS_POLES) * warp) - 1).real
    alternate = (-1.0) ** np.arange(len(a))
    return b * (a @ alternate) / (b @ alternate), a


def active_level(x, fs):
    """(active speech level as a power, activity factor) of `x` by ITU-T P.56 method B; (0, 0) for silence.

    As VOICEBOX activlev does below 14 kHz: 200 Hz high-pass; envelope = |x| smoothed twice with a
    30 ms time constant; a sample counts as active at threshold c while the envelope power was >= c
    within the last 0.2 s; thresholds are powers of two (3 dB apart) below the envelope peak; the
    level is the active power (sum of squares / active samples) where it lies 15.9 dB above the
    threshold, interpolated linearly in dB between thresholds. Power 1.0 is full scale (|x| = 1).
    """
    if fs >= 14000:
        raise ValueError(f"active_level at {fs} Hz: activlev adds a 5.5 kHz low-pass from 14 kHz, "
                         f"not implemented here; measure at 8 kHz")
    y = _lfilter(*highpass(fs), x)
    ssq, n = float(y @ y), len(y)
    if ssq == 0:
        return 0.0, 0.0
    g = math.exp(-1.0 / (P56_TIME_CONSTANT * fs))
    envelope = _lfilter([(1 - g) ** 2, 0.0, 0.0], [1.0, -2 * g, g * g], np.abs(y))
    mantissa, exponent = np.frexp(envelope ** 2)  # 2^(e-1) <= power < 2^e
    exponent = np.where(mantissa > 0, exponent, -np.inf)
    held = _trailing_max(exponent, math.ceil(P56_HANGOVER * fs) + 1)  # the hangover
    top = held.max() + 1
    # active samples at threshold 2^(top - j - 1), j = 1..P56_BINS: those whose held exponent is >= top - j
    bins = np.minimum(top - held, P56_BINS).astype(int)
    active = np.cumsum(np.bincount(bins, minlength=P56_BINS + 1)[1:])
    active_db = 10 * np.log10(ssq / active)
    threshold_db = 10 * np.log10(2) * (top - np.arange(1, P56_BINS + 1) - 1)
    margin = active_db - threshold_db - P56_MARGIN_DB
    crossing = np.flatnonzero((margin[:-1] < 0) & (margin[1:] >= 0))
    if crossing.size:
        j = crossing[0]
        frac = 1 / (1 - margin[j + 1] / margin[j])
    elif margin[-1] <= 0:
        j, frac = P56_BINS - 2, 1.0
    else:
        j, frac = 0, 0.0
    level = 10 ** ((active_db[j] + frac * (active_db[j + 1] - active_db[j])) / 10)
    return level, ssq / (n * level)


# --- mix lists and the WSJ0 tree ---

def num2str(value):
    """`value` as MATLAB's num2str prints a scalar: an integer in full, else with d + 4 significant
    digits (%g), d = max(1, digits before the point): 1.9857, 0.061105, -2.401."""
    if value == int(value):
        return str(int(value))
    digits = max(1, math.floor(math.log10(abs(value))) + 1)
    return f"{value:.{digits + 4}g}"


def mixture_id(path1, snr1, path2, snr2):
    """The wsj0-2mix file name (without .wav) of a list line."""
    def name(path):
        return os.path.splitext(os.path.basename(path))[0]
    return f"{name(path1)}_{num2str(snr1)}_{name(path2)}_{num2str(snr2)}"


def speaker_of(path):
    """The WSJ0 speaker of a list path: the first three characters of its utterance id (01aa010b -> 01a)."""
    return os.path.splitext(os.path.basename(path))[0][:3]


def read_mix_list(path):
    """[(line number, mixture id, path1, snr1, path2, snr2)] of a mix_2_spk_*.txt; DataError at LIST:LINE."""
    if not os.path.isfile(path):
        raise DataError(f"{path}: no such file; --lists_dir must hold mix_2_spk_{{tr,cv,tt}}.txt "
                        f"from create-speaker-mixtures.zip ({LISTS_URL})")
    rows, seen = [], {}
    for lineno, line in read_lines(path):
        fields = line.split()
        try:
            if len(fields) != 4:
                raise ValueError
            snr1, snr2 = float(fields[1]), float(fields[3])
            if not (math.isfinite(snr1) and math.isfinite(snr2)):
                raise ValueError
        except ValueError:
            raise DataError(f"{path}:{lineno}: expected 'PATH1 SNR1 PATH2 SNR2' (SNRs in dB), got {line!r}") from None
        mix = mixture_id(fields[0], snr1, fields[2], snr2)
        if mix in seen:
            raise DataError(f"{path}:{lineno}: mixture {mix} is already made at line {seen[mix]}")
        seen[mix] = lineno
        rows.append((lineno, mix, fields[0], snr1, fields[2], snr2))
    if not rows:
        raise DataError(f"{path}: the list is empty")
    return rows


def find_wsj0_root(src):
    """The folder holding wsj0/: `src` itself, or its parent when `src` is the wsj0 folder."""
    for root in (src, os.path.dirname(os.path.abspath(src))):
        if os.path.isdir(os.path.join(root, "wsj0")):
            return os.path.abspath(root)
    raise DataError(f"WSJ0 not found: neither {os.path.join(src, 'wsj0')} nor {src} (as the wsj0 folder) exists; "
                    f"give the folder holding wsj0/ (WSJ0, LDC93S6A, discs merged, converted to wav)")


def _is_sphere(path):
    with open(path, "rb") as f:
        return f.read(len(SPHERE_MAGIC)) == SPHERE_MAGIC


def audio_spec(root, path):
    """How to read a list path: ROOT/X.wav if it exists, else ROOT/PATH (SPHERE through sph2pipe when
    available); None when neither exists."""
    full = os.path.join(root, path)
    for candidate in dict.fromkeys((os.path.splitext(full)[0] + ".wav", full)):
        if os.path.isfile(candidate):
            if _is_sphere(candidate) and shutil.which("sph2pipe"):
                return f"sph2pipe -f wav {shlex.quote(candidate)} |"
            return candidate
    return None


def read_source(spec):
    """(float64 mono samples, rate) of a source; SPHERE without sph2pipe gets the conversion explained."""
    try:
        x, rate = read_audio(spec, dtype="float64", always_2d=True)
    except DataError as err:
        if not is_pipe(spec) and _is_sphere(spec):
            raise DataError(f"{err}. {SPHERE_HELP}") from None
        raise
    if x.shape[1] != 1:
        raise DataError(f"{spec}: {x.shape[1]} channels; WSJ0 is mono")
    if not len(x):
        raise DataError(f"{spec}: no samples")
    return x[:, 0], rate


# --- mixing ---

def mix_pair(sources, snrs, fs, mode):
    """(mix, s1, s2) int16 at `fs` from [(samples, rate)] x 2 and their SNRs in dB, as create_wav_2speakers.m."""
    scaled = []
    for (x, rate), snr in zip(sources, snrs):
        level, _ = active_level(downsample(x, rate, LEVEL_FS), LEVEL_FS)
        if level == 0:
            raise DataError("a source is silent: it has no active speech level")
        scaled.append(downsample(x, rate, fs) * (10 ** (snr / 20) / math.sqrt(level)))
    scaled = fit_lengths(scaled, mode)
    gain = PEAK / max(np.abs(scaled[0] + scaled[1]).max(), np.abs(scaled[0]).max(), np.abs(scaled[1]).max())
    parts = [to_int16(s * gain) for s in scaled]
    return (int16_sum(parts)[0], *parts)


def _mix_chunk(job):
    """Worker: make and write one chunk {"fs", "mode", "items": [(id, specs, snrs, out paths)]} -> [(id, samples)]."""
    fs, done = job["fs"], []
    for mix_id, specs, snrs, out_paths in job["items"]:
        sources = [read_source(spec) for spec in specs]
        for spec, (_, rate) in zip(specs, sources):
            if rate % LEVEL_FS or rate % fs:
                raise DataError(f"{spec}: {rate} Hz; WSJ0 is 16 kHz and the mixtures need a multiple of {fs} Hz")
        try:
            signals = mix_pair(sources, snrs, fs, job["mode"])
        except DataError as err:
            raise DataError(f"mixture {mix_id} ({' + '.join(specs)}): {err}") from None
        write_wavs(zip(out_paths, signals), fs)
        done.append((mix_id, len(signals[0])))
    return done


def prepare(src, dst, lists_dir, wav_dir, fs=8000, mode="min", sets=tuple(SETS), nj=1):
    """Generate WSJ0-2mix at `fs` in `mode`: wavs under WAV_DIR, data dirs DST/<set>_<kHz>k_<mode>.

    src: the folder holding wsj0/; lists_dir: the folder of mix_2_spk_{tr,cv,tt}.txt.
    Returns {data dir name: mixtures}.
    """
    check_fs_mode("wsj0_2mix", fs, mode)
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        raise ConfigError(f"unknown wsj0-2mix set(s) {' '.join(unknown)}; the sets are {' '.join(SETS)}")
    root = find_wsj0_root(src)
    out_dir = rate_dir(wav_dir, fs, mode)
    plans, missing, speakers = {}, [], {}
    for name in sets:
        list_path = os.path.join(lists_dir, f"mix_2_spk_{name}.txt")
        items = []
        for lineno, mix, path1, snr1, path2, snr2 in read_mix_list(list_path):
            specs = [audio_spec(root, p) for p in (path1, path2)]
            missing += [f"{list_path}:{lineno}: {p}" for p, spec in zip((path1, path2), specs) if spec is None]
            outs = tuple(os.path.join(out_dir, name, kind, f"{mix}.wav") for kind in ("mix", "s1", "s2"))
            items.append((mix, specs, (snr1, snr2), outs))
            speakers[mix] = " ".join(speaker_of(p) for p in (path1, path2))
        plans[name] = items
    check_missing(missing, f"WSJ0 file(s) named by the mix lists are not under {root} (looked for X.wav, "
                           f"then the listed name)")
    done = make_sets("wsj0_2mix", _mix_chunk, plans, fs, mode, out_dir, nj)
    counts = {}
    for name, items in plans.items():
        lengths = dict(done[name])
        paths = {mix: outs for mix, _, _, outs in items}
        dir_name = f"{name}_{fs // 1000}k_{mode}"
        write_sep_dir(os.path.join(dst, dir_name), {m: p[0] for m, p in paths.items()},
                      [{m: p[i] for m, p in paths.items()} for i in (1, 2)], lengths,
                      {"utt2src_spk": {m: speakers[m] for m in paths}})
        counts[dir_name] = len(lengths)
        if len(lengths) != SETS[name]:
            logging.warning("wsj0_2mix: %s has %d mixtures, the release has %d: is the list complete?",
                            dir_name, len(lengths), SETS[name])
    return counts
