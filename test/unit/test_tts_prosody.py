"""Per-token pitch and energy: WORLD F0 on known tones, frame grids, token averages, the CLI."""
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from toolkit.bin import extract_prosody
from toolkit.data.datadir import write_data_dir
from toolkit.data.dataset import DataDirDataset
from toolkit.data.tables import read_table, write_table
from toolkit.features.energy import frame_log_energy
from toolkit.features.logmel import LogMel
from toolkit.features.pitch import extract_f0, fit_frames, interpolate_log_f0
from toolkit.features.token_average import compute_stats, normalize, token_average
from toolkit.utils.errors import DataError

RATE, HOP = 16000, 256


def _tone(f0, seconds, rate=RATE):
    """A harmonic complex (8 harmonics, 1/h amplitudes) at f0 Hz."""
    t = np.arange(round(seconds * rate)) / rate
    return 0.2 * sum(np.sin(2 * np.pi * h * f0 * t) / h for h in range(1, 9))


def _utterance(f1, f2, rng):
    """0.2 s silence, 0.5 s at f1, 0.5 s at f2, 0.2 s silence (-80 dB noise floor)."""
    wave = np.concatenate([np.zeros(3200), _tone(f1, 0.5), _tone(f2, 0.5), np.zeros(3200)])
    return wave + 1e-4 * rng.normal(size=len(wave))


@pytest.mark.parametrize("method", ["dio", "harvest"])
def test_world_f0_of_known_tones_and_silence(method):
    wave = _utterance(150.0, 220.0, np.random.default_rng(0))
    frames = 1 + len(wave) // HOP
    f0 = extract_f0(wave, RATE, HOP, frames, method, 60.0, 500.0)
    centre = np.arange(frames) * HOP / RATE
    for start, end, truth in ((0.25, 0.65, 150.0), (0.75, 1.15, 220.0)):  # 50 ms inside each tone
        inside = f0[(centre > start) & (centre < end)]
        assert (inside > 0).all() and np.abs(inside / truth - 1).max() < 0.02
    silence = f0[(centre < 0.15) | (centre > 1.25)]
    assert len(silence) > 10 and (silence == 0).all()


@pytest.mark.parametrize("rate", [16000, 22050])
def test_pitch_and_energy_frames_match_logmel_on_odd_lengths(rate):
    import pyworld

    rng = np.random.default_rng(1)
    logmel = LogMel(sample_rate=rate, n_fft=1024, hop_length=HOP)
    for samples in (4097, 12345, 22051, 30001):
        wave = 0.3 * _tone(180.0, samples / rate, rate)[:samples] + 0.01 * rng.normal(size=samples)
        mel_frames = len(logmel(torch.from_numpy(wave.astype(np.float32))))
        assert len(frame_log_energy(wave, n_fft=1024, hop_length=HOP)) == mel_frames
        world, _ = pyworld.dio(wave, rate, frame_period=1000.0 * HOP / rate)
        assert abs(len(world) - mel_frames) <= 1
        assert len(extract_f0(wave, rate, HOP, mel_frames)) == mel_frames


def test_fit_frames_trims_or_repeats_the_last_frame_only_by_one():
    np.testing.assert_array_equal(fit_frames(np.array([1.0, 2.0, 3.0]), 2), [1.0, 2.0])
    np.testing.assert_array_equal(fit_frames(np.array([1.0, 2.0, 3.0]), 4), [1.0, 2.0, 3.0, 3.0])
    with pytest.raises(ValueError):
        fit_frames(np.array([1.0, 2.0, 3.0]), 5)


def test_energy_equals_a_numpy_stft_and_the_hann_sine_closed_form():
    n_fft, amplitude = 1024, 0.5
    t = np.arange(8001)
    wave = amplitude * np.sin(2 * np.pi * 64 * t / n_fft + 0.3)  # exactly on FFT bin 64
    padded = np.pad(wave, n_fft // 2, mode="reflect")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    starts = np.arange(0, len(padded) - n_fft + 1, HOP)
    spectra = np.fft.rfft(np.stack([padded[s:s + n_fft] * window for s in starts]), axis=1)
    expected = np.log(np.linalg.norm(np.abs(spectra), axis=1) + 1e-5)
    energy = frame_log_energy(wave, n_fft=n_fft, hop_length=HOP)
    np.testing.assert_allclose(energy, expected, atol=1e-5)
    # frames inside the signal: |X| = A N / 4 on the bin and A N / 8 on each neighbour
    inner = energy[n_fft // HOP:-(n_fft // HOP)]
    np.testing.assert_allclose(inner, np.log(amplitude * n_fft / 4 * np.sqrt(1.5)), atol=1e-4)


def test_log_f0_interpolation_and_token_averages_on_hand_made_arrays():
    log_f0, voiced = interpolate_log_f0(np.array([0.0, 100.0, 0.0, 0.0, 800.0, 0.0]))
    step = np.log(8.0) / 3
    np.testing.assert_allclose(log_f0, np.log(100.0) + np.array([0, 0, step, 2 * step, 3 * step, 3 * step]))
    np.testing.assert_array_equal(voiced, [False, True, False, False, True, False])
    with pytest.raises(DataError, match="no voiced frame"):
        interpolate_log_f0(np.zeros(4))

    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    np.testing.assert_allclose(token_average(values, [2, 1, 3]), [1.5, 3.0, 5.0])
    mask = np.array([True, False, False, False, True, True])
    # token 2 has no masked frame: the mean of all its frames
    np.testing.assert_allclose(token_average(values, [2, 1, 3], mask), [1.0, 3.0, 5.5])
    for bad in ([2, 1, 2], [3, 0, 3]):
        with pytest.raises(ValueError):
            token_average(values, bad)

    arrays = [np.array([1.0, 2.0]), np.array([3.0, 7.0, 2.0])]
    stats = compute_stats(arrays)
    joined = np.concatenate(arrays)
    assert stats["count"] == 5
    np.testing.assert_allclose([stats["mean"], stats["std"]], [joined.mean(), joined.std()])
    np.testing.assert_allclose(normalize(joined, stats), (joined - joined.mean()) / joined.std())
    with pytest.raises(DataError, match="equal"):
        compute_stats([np.ones(3)])


# ---- the CLI ----------------------------------------------------------------------------------

def _token_durations(frames):
    """'d1 ... d6': silence, f1 (2 tokens), f2 (2 tokens), silence, cut at the frames nearest the edges."""
    cuts = [round(s * RATE / HOP) for s in (0.2, 0.45, 0.7, 0.95, 1.2)]
    return " ".join(str(d) for d in np.diff([0, *cuts, frames]))


def _make_sets(root):
    """train: 4 wav files; dev: 2 utterances cut from one recording by a segments file."""
    rng = np.random.default_rng(2)
    truth, mel = {}, root / "mel.yaml"
    mel.write_text(f"feat_type: logmel\nsample_rate: {RATE}\nn_fft: 1024\nhop_length: {HOP}\nn_mels: 80\n")
    wav_scp, utt2spk, durations = {}, {}, {}
    for i in range(4):
        utt = f"spk1-train{i}"
        truth[utt] = rng.uniform(100, 300, 2)
        sf.write(root / f"{utt}.wav", _utterance(*truth[utt], rng), RATE)
        wav_scp[utt], utt2spk[utt] = str(root / f"{utt}.wav"), "spk1"
        durations[utt] = _token_durations(1 + len(sf.read(root / f"{utt}.wav")[0]) // HOP)
    write_data_dir(str(root / "train"), wav_scp, utt2spk, extra={"durations": durations})
    pair = [rng.uniform(100, 300, 2) for _ in range(2)]
    sf.write(root / "reco.wav", np.concatenate([_utterance(*f, rng) for f in pair]), RATE)
    segments, dev_durations = {}, {}
    for i, f in enumerate(pair):
        utt = f"spk2-dev{i}"
        truth[utt] = f
        segments[utt] = ("reco", 1.4 * i, 1.4 * (i + 1))
        dev_durations[utt] = _token_durations(1 + int(1.4 * RATE) // HOP)
    write_data_dir(str(root / "dev"), {"reco": str(root / "reco.wav")}, {u: "spk2" for u in segments},
                   segments=segments, extra={"durations": dev_durations})
    return truth, mel


def _run(root, mel, name, *extra):
    extract_prosody.main(["--wav_scp", str(root / name / "wav.scp"), "--durations", str(root / name / "durations"),
                          "--feat_conf", str(mel), "--out_dir", str(root / name), *extra])


def _check_pitch(root, name, truth, stats):
    dataset = DataDirDataset(str(root / name), {"pitch": ("pitch", "floats"), "energy": ("energy", "floats"),
                                                "durations": ("durations", "ints")})
    for utt, example in (dataset[u] for u in dataset.keys):
        assert len(example["pitch"]) == len(example["energy"]) == len(example["durations"]) == 6
        f0 = np.exp(example["pitch"] * stats["pitch"]["std"] + stats["pitch"]["mean"])
        expected = np.repeat(truth[utt], [3, 3])  # silent tokens get the nearest tone's interpolated value
        assert np.abs(f0 / expected - 1).max() < 0.02, (utt, f0, expected)
        energy = example["energy"] * stats["energy"]["std"] + stats["energy"]["mean"]
        assert energy[[0, 5]].max() < energy[1:5].min() - 5.0  # silence is far below the tones


def test_extract_prosody_cli_end_to_end(tmp_path, capsys):
    truth, mel = _make_sets(tmp_path)
    _run(tmp_path, mel, "train")
    stats = json.loads((tmp_path / "train" / "prosody_stats.json").read_text())
    assert stats["f0_conf"] == {"f0_method": "dio", "f0min": 60.0, "f0max": 500.0}
    assert stats["pitch"]["count"] == stats["energy"]["count"] == 4 * 6
    for name in ("pitch", "energy"):  # the training set is normalised by its own stats
        values = np.concatenate([np.array(v.split(), dtype=float)
                                 for v in read_table(tmp_path / "train" / name).values()])
        assert abs(values.mean()) < 1e-3 and abs(values.std() - 1) < 1e-3
    _check_pitch(tmp_path, "train", truth, stats)

    _run(tmp_path, mel, "dev", "--stats_file", str(tmp_path / "train" / "prosody_stats.json"), "--nj", "2")
    assert not (tmp_path / "dev" / "prosody_stats.json").exists()
    _check_pitch(tmp_path, "dev", truth, stats)
    parallel = (tmp_path / "dev" / "pitch").read_text()
    _run(tmp_path, mel, "dev", "--stats_file", str(tmp_path / "train" / "prosody_stats.json"))
    assert (tmp_path / "dev" / "pitch").read_text() == parallel

    with pytest.raises(SystemExit):  # other F0 settings than the stats'
        _run(tmp_path, mel, "dev", "--stats_file", str(tmp_path / "train" / "prosody_stats.json"),
             "--f0_method", "harvest")
    assert "f0_method" in capsys.readouterr().err


def test_extract_prosody_cli_errors_name_the_utterance(tmp_path, capsys):
    _, mel = _make_sets(tmp_path)
    durations = read_table(tmp_path / "train" / "durations")
    durations["spk1-train2"] += " 1"  # one frame too many
    write_table(tmp_path / "train" / "durations", durations)
    with pytest.raises(SystemExit):
        _run(tmp_path, mel, "train")
    err = capsys.readouterr().err
    assert "spk1-train2" in err and "mel frames" in err
    durations["spk1-train9"] = durations.pop("spk1-train2")
    write_table(tmp_path / "train" / "durations", durations)
    with pytest.raises(SystemExit):
        _run(tmp_path, mel, "train")
    assert "spk1-train9" in capsys.readouterr().err
