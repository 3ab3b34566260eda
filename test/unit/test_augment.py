"""Training-time augmentation: SpecAugment, speed, gain, noise at an SNR, reverb, the config chain."""
import numpy as np
import pytest
import scipy.signal
import torch
import yaml

from toolkit.data.audio_io import read_audio, write_audio
from toolkit.data.augment import (AddNoise, Gain, Reverb, SpecAugment, SpeedPerturb, augment_generator,
                                  augment_rng, build_chain, build_specaug)
from toolkit.utils.errors import ConfigError, DataError
from toolkit.utils.espeak import synthesize

RATE = 22050  # espeak-ng's rate


@pytest.fixture(scope="module")
def speech():
    audio, rate = synthesize("the quick brown fox jumps over the lazy dog", "en-us")
    assert rate == RATE
    return audio.astype(np.float32) / 32768


def write_scp(folder, clips, rate=RATE):
    """Write each {key: samples} clip as a float wav under `folder` and a wav.scp listing them."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for key, samples in sorted(clips.items()):
        path = folder / f"{key}.wav"
        write_audio(path, samples, rate, subtype="FLOAT")
        lines.append(f"{key} {path}\n")
    (folder / "wav.scp").write_text("".join(lines))
    return str(folder / "wav.scp")


@pytest.fixture(scope="module")
def noise_scp(tmp_path_factory):
    """A short white noise (looped over the speech) and a long brown-ish noise (cropped)."""
    rng = np.random.default_rng(1)
    white = 0.1 * rng.standard_normal(RATE // 2)
    brown = np.cumsum(rng.standard_normal(5 * RATE))
    brown = 0.3 * (brown - brown.mean()) / np.abs(brown - brown.mean()).max()
    return write_scp(tmp_path_factory.mktemp("noise"), {"brown": brown, "white": white})


DIRECT = 120  # samples of pre-delay before the direct path


def make_rir(seed):
    """Silence, a direct-path impulse, then an exponentially decaying noise tail (RT60 0.3 s, DRR ~-7 dB)."""
    rng = np.random.default_rng(seed)
    taps = int(0.4 * RATE)
    tail = 0.1 * rng.standard_normal(taps) * np.exp(-6.9 * np.arange(taps) / (0.3 * RATE))
    rir = np.concatenate([np.zeros(DIRECT), [1.0], tail[1:]])
    rir[DIRECT + 1:DIRECT + 40] = 0  # a gap after the direct sound, as for a source a metre away
    return rir


@pytest.fixture(scope="module")
def rir_scp(tmp_path_factory):
    return write_scp(tmp_path_factory.mktemp("rir"), {"room1": make_rir(1), "room2": make_rir(2)})


def power(x):
    return np.mean(np.square(x, dtype=np.float64))


# SpecAugment

def masked_runs(flags):
    """(start, width) of the runs of True in a 1-d bool array."""
    edges = np.diff(np.concatenate([[0], flags.astype(int), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts, ends - starts))


def padded_batch():
    lengths = torch.tensor([200, 137, 60])
    feats = 1 + torch.rand(3, 200, 80, generator=torch.Generator().manual_seed(0))  # no zeros
    for b, length in enumerate(lengths):
        feats[b, length:] = -123.0  # padding sentinel
    return feats, lengths


def masked_rows_and_cols(out, length):
    """Time-masked frames and frequency-masked bins of one utterance (fill 0): rows / columns all 0."""
    zero = (out[:length] == 0).numpy()
    rows, cols = zero.all(axis=1), zero.all(axis=0)
    assert np.array_equal(zero, rows[:, None] | cols[None, :])  # nothing else is touched
    return rows, cols


@pytest.mark.parametrize("num", [1, 2])
def test_mask_counts_and_widths_within_bounds_padding_untouched(num):
    feats, lengths = padded_batch()
    aug = SpecAugment(freq_mask={"num": num, "width": 27}, time_mask={"num": num, "width_ratio": 0.05})
    freq_widths, time_widths = set(), set()
    for seed in range(60):
        out = aug(feats, lengths, generator=torch.Generator().manual_seed(seed))
        assert out.shape == feats.shape
        for b, length in enumerate(lengths.tolist()):
            assert torch.equal(out[b, length:], feats[b, length:])
            rows, cols = masked_rows_and_cols(out[b], length)
            for flags, max_width, seen in ((cols, 27, freq_widths), (rows, int(0.05 * length), time_widths)):
                runs = masked_runs(flags)
                assert len(runs) <= num and flags.sum() <= num * max_width
                if num == 1:
                    seen.update((b, w) for _, w in runs)
                    assert all(w <= max_width for _, w in runs)
    if num == 1:  # every width from 1 to the maximum occurs (0 leaves no run)
        assert {w for _, w in freq_widths} == set(range(1, 28))
        assert {w for b, w in time_widths if b == 0} == set(range(1, 11))  # 0.05 * 200
        assert {w for b, w in time_widths if b == 2} == set(range(1, 4))  # 0.05 * 60


def test_absolute_time_width_and_mean_fill():
    feats, lengths = padded_batch()
    aug = SpecAugment(time_mask={"num": 1, "width": 15}, fill="mean")
    widths = set()
    for seed in range(40):
        out = aug(feats, lengths, generator=torch.Generator().manual_seed(seed))
        for b, length in enumerate(lengths.tolist()):
            changed = (out[b] != feats[b]).any(dim=1).numpy()
            assert not changed[length:].any()
            runs = masked_runs(changed)
            assert len(runs) <= 1
            for start, width in runs:
                widths.add(width)
                assert torch.allclose(out[b, start:start + width], feats[b, :length].mean())
    assert max(widths) == 15


def test_time_warp_keeps_shape_order_and_ends_within_lengths():
    lengths = torch.tensor([100, 70, 9])
    ramp = torch.arange(100, dtype=torch.float32)[None, :, None].expand(3, 100, 4).clone()
    for b, length in enumerate(lengths):
        ramp[b, length:] = 1000.0
    aug = SpecAugment(time_warp=5)
    moved = 0
    for seed in range(20):
        out = aug(ramp, lengths, generator=torch.Generator().manual_seed(seed))
        assert out.shape == ramp.shape
        for b, length in enumerate(lengths.tolist()):
            valid = out[b, :length, 0]
            assert torch.equal(out[b, length:], ramp[b, length:])
            assert valid[0] == 0 and valid[-1] == length - 1  # ends stay, nothing from the padding
            assert torch.all(valid[1:] >= valid[:-1])  # a monotone re-timing
            assert torch.all((out[b, :length] == valid[:, None]))  # every bin moved alike
            moved += int(not torch.equal(valid, ramp[b, :length, 0]))
        assert torch.equal(out[2], ramp[2])  # 9 frames <= 2 * 5: too short to warp
    assert moved > 20
    single = aug(ramp[0], generator=torch.Generator().manual_seed(3))
    assert single.shape == (100, 4)


def test_specaug_same_generator_seed_same_output():
    feats, lengths = padded_batch()
    aug = build_specaug(yaml.safe_load(
        "{time_warp: 5, freq_mask: {num: 2, width: 27}, time_mask: {num: 2, width_ratio: 0.05}}"))
    runs = [aug(feats, lengths, generator=augment_generator(7, epoch, 0)) for epoch in (1, 1, 2)]
    assert torch.equal(runs[0], runs[1])
    assert not torch.equal(runs[0], runs[2])


# waveform ops

@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_changes_length_by_inverse_factor_and_frequency_by_factor(factor):
    rate = 16000
    sine = 0.5 * np.sin(2 * np.pi * 440 * np.arange(2 * rate) / rate)
    op = SpeedPerturb([factor])
    params = op.draw(np.random.default_rng(0), sine, rate)
    assert params == {"factor": factor}
    out = op(sine, rate, np.random.default_rng(0))
    assert len(out) == int(np.ceil(len(sine) / factor))
    n = 16 * len(out)
    spectrum = np.abs(np.fft.rfft(out * np.hanning(len(out)), n))
    assert np.argmax(spectrum) * rate / n == pytest.approx(440 * factor, abs=0.5)


def test_speed_factor_one_is_identity_and_factors_drawn_from_list(speech):
    op = SpeedPerturb([0.9, 1.0, 1.1])
    rng = np.random.default_rng(0)
    drawn = {op.draw(rng, speech, RATE)["factor"] for _ in range(30)}
    assert drawn == {0.9, 1.0, 1.1}
    assert np.array_equal(op.apply(speech, RATE, factor=1.0), speech)
    stereo = op.apply(np.stack([speech, 0.5 * speech], axis=1), RATE, factor=1.1)
    assert np.allclose(stereo[:, 0], op.apply(speech, RATE, factor=1.1), atol=1e-6)
    assert stereo.shape == (int(np.ceil(len(speech) / 1.1)), 2)


def test_gain_within_range_and_as_drawn(speech):
    op, rng = Gain([-6, 6]), np.random.default_rng(0)
    measured = []
    for _ in range(50):
        params = op.draw(rng, speech, RATE)
        db = 10 * np.log10(power(op.apply(speech, RATE, **params)) / power(speech))
        assert db == pytest.approx(params["db"], abs=1e-3)
        measured.append(db)
    assert -6 <= min(measured) < -4 and 4 < max(measured) <= 6


def test_noise_snr_measured_back_equals_drawn_and_clip_looped_or_cropped(speech, noise_scp):
    op = AddNoise(noise_scp, snr=[5, 20])
    clips = {key: read_audio(spec)[0] for key, spec in (line.split() for line in open(noise_scp))}
    rng, seen = np.random.default_rng(0), set()
    for _ in range(12):
        params = op.draw(rng, speech, RATE)
        out = op.apply(speech, RATE, **params)
        added = out.astype(np.float64) - speech
        assert 5 <= params["snr_db"] <= 20
        assert 10 * np.log10(power(speech) / power(added)) == pytest.approx(params["snr_db"], abs=0.1)
        clip = clips[params["noise"]]
        expected = np.take(clip, params["offset"] + np.arange(len(speech)), mode="wrap")
        scale = np.dot(added, expected) / np.dot(expected, expected)
        assert np.max(np.abs(added - scale * expected)) < 1e-5
        seen.add(params["noise"])
        if len(clip) > len(speech):
            assert params["offset"] + len(speech) <= len(clip)  # cropped, not wrapped
    assert seen == {"brown", "white"}
    stereo = op(np.stack([speech, 0.5 * speech], axis=1), RATE, np.random.default_rng(1))
    assert stereo.shape == (len(speech), 2)
    assert np.allclose(stereo[:, 0] - speech, stereo[:, 1] - 0.5 * speech, atol=1e-6)  # same noise


def test_reverb_aligned_level_preserved_and_equal_to_scipy_convolution(speech, rir_scp):
    op, rng = Reverb(rir_scp), np.random.default_rng(0)
    for _ in range(4):
        params = op.draw(rng, speech, RATE)
        wet = op.apply(speech, RATE, **params)
        assert wet.shape == speech.shape
        xcorr = scipy.signal.correlate(wet, speech, method="fft")
        lags = scipy.signal.correlation_lags(len(wet), len(speech))
        assert lags[np.argmax(xcorr)] == 0
        assert power(wet) == pytest.approx(power(speech), rel=1e-4)
        rir = read_audio(rir_scp.replace("wav.scp", f"{params['rir']}.wav"))[0]
        peer = scipy.signal.fftconvolve(speech.astype(np.float64), rir)[DIRECT:DIRECT + len(speech)]
        peer *= np.sqrt(power(speech) / power(peer))
        assert np.max(np.abs(wet - peer)) < 1e-4
        assert np.max(np.abs(wet - speech)) > 0.05  # it did reverberate
    stereo = op.apply(np.stack([speech, 0.5 * speech], axis=1), RATE, **params)
    assert np.allclose(stereo, np.stack([wet, 0.5 * wet], axis=1), atol=1e-6)  # each channel, one level


@pytest.mark.parametrize("op_class, key", [(AddNoise, "noise_scp"), (Reverb, "rir_scp")])
def test_sample_rate_mismatch_names_the_file_unless_resample(op_class, key, speech, tmp_path):
    scp = write_scp(tmp_path, {"clip16k": make_rir(3)}, rate=16000)
    extra = {"snr": [10, 10]} if op_class is AddNoise else {}
    with pytest.raises(DataError, match=r"clip16k\.wav.*16000 Hz.*22050 Hz"):
        op_class(**{key: scp}, **extra)(speech, RATE, np.random.default_rng(0))
    out = op_class(**{key: scp}, resample=True, **extra)(speech, RATE, np.random.default_rng(0))
    assert out.shape == speech.shape


def test_multichannel_clip_is_an_error_naming_the_file(speech, tmp_path):
    scp = write_scp(tmp_path, {"stereo": np.stack([make_rir(4), make_rir(5)], axis=1)})
    with pytest.raises(DataError, match=r"stereo\.wav.*2 channels.*mono"):
        Reverb(scp)(speech, RATE, np.random.default_rng(0))


# the chain from the yaml config

CONFIG = """
augment:
  - {type: speed, prob: 0.5, factors: [0.9, 1.0, 1.1]}
  - {type: noise, prob: 0.5, noise_scp: NOISE, snr: [5, 20]}
  - {type: reverb, prob: 0.3, rir_scp: RIR}
  - {type: gain, prob: 0.0, db: [-6, 6]}
"""


def chain_from(noise_scp, rir_scp):
    return build_chain(yaml.safe_load(CONFIG.replace("NOISE", noise_scp).replace("RIR", rir_scp))["augment"])


def test_chain_same_seed_same_output_each_op_at_its_probability(speech, noise_scp, rir_scp):
    chain = chain_from(noise_scp, rir_scp)
    first, trace = chain.trace(speech, RATE, augment_rng(3, 1, "utt1"))
    again, trace_again = chain_from(noise_scp, rir_scp).trace(speech, RATE, augment_rng(3, 1, "utt1"))
    assert np.array_equal(first, again) and trace == trace_again
    counts = {"speed": 0, "noise": 0, "reverb": 0, "gain": 0}
    outputs = set()
    for epoch in range(60):
        out, applied = chain.trace(speech, RATE, augment_rng(3, epoch, "utt1"))
        assert [name for name, _ in applied] == [n for n in counts if n in dict(applied)]  # listed order
        for name, _ in applied:
            counts[name] += 1
        outputs.add(out.tobytes())
    assert counts["gain"] == 0
    assert 18 <= counts["speed"] <= 42 and 18 <= counts["noise"] <= 42 and 8 <= counts["reverb"] <= 30
    assert len(outputs) > 30


def test_chain_prob_one_always_applied_and_default_prob_is_one(speech):
    chain = build_chain([{"type": "gain", "db": [3, 3]}, {"type": "gain", "prob": 1, "db": [-1, -1]}])
    for seed in range(5):
        out, applied = chain.trace(speech, RATE, augment_rng(seed))
        assert [p["db"] for _, p in applied] == [3.0, -1.0]
        assert 10 * np.log10(power(out) / power(speech)) == pytest.approx(2, abs=1e-3)
    assert build_chain(None).trace(speech, RATE, augment_rng(0)) == (speech, [])


@pytest.mark.parametrize("conf, message", [
    ([{"type": "gain", "db": [0, 1], "dbs": 3}], r"augment\[0\] \(gain\): unknown key\(s\) 'dbs'"),
    ([{"type": "speed", "factors": [1]}, {"type": "echo"}], r"augment\[1\]: unknown type 'echo'"),
    ([{"type": "noise", "snr": [5, 20]}], r"augment\[0\] \(noise\): missing key\(s\) 'noise_scp'"),
    ([{"type": "gain", "prob": 1.5, "db": [0, 1]}], r"prob 1.5 is not in \[0, 1\]"),
    ([{"type": "gain", "db": [6, -6]}], r"gain: db: expected \[low, high\]"),
    ([{"type": "speed", "factors": 0.9}], r"speed: factors must be a non-empty list"),
])
def test_chain_config_errors_name_the_entry_and_key(conf, message):
    with pytest.raises(ConfigError, match=message):
        build_chain(conf)


@pytest.mark.parametrize("conf, message", [
    ({"time_warp": 5, "freq_masks": {}}, r"specaug: unknown key\(s\) 'freq_masks'"),
    ({"time_mask": {"num": 2, "width": 5, "width_ratio": 0.05}}, r"exactly one of 'width'"),
    ({"freq_mask": {"num": 2, "widht": 5}}, r"specaug: freq_mask: unknown key\(s\) 'widht'"),
    ({"fill": "noise"}, r"fill 'noise'"),
])
def test_specaug_config_errors_name_the_key(conf, message):
    with pytest.raises(ConfigError, match=message):
        build_specaug(conf)
