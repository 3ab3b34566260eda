"""Speed perturbation: audio length and pitch, ids, segments and length files."""
import os
import subprocess
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from toolkit.data.datadir import DataDir, write_data_dir
from toolkit.data.audio_io import read_audio
from toolkit.data.speed_perturb import change_speed, perturb_dir
from toolkit.data.tables import read_table

ROOT = Path(__file__).resolve().parents[2]
RATE = 16000


def sine(freq, seconds, rate=RATE):
    return 0.5 * np.sin(2 * np.pi * freq * np.arange(round(seconds * rate)) / rate)


def peak_hz(samples, rate=RATE):
    """Dominant frequency, from a finely zero-padded spectrum."""
    n = 16 * len(samples)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples)), n))
    return np.argmax(spectrum) * rate / n


@pytest.mark.parametrize("factor, expected_len", [(0.9, 17778), (1.1, 14546)])
def test_change_speed_scales_length_and_pitch_like_polyphase_resampling(factor, expected_len):
    x = sine(440, 1.0)
    y = change_speed(x[:, None], RATE, factor)[:, 0]
    assert len(y) == expected_len  # ceil(16000 / factor): 1.111 s and 0.909 s
    assert peak_hz(y) == pytest.approx(440 * factor, abs=0.5)
    up, down = RATE, round(RATE * factor)
    g = np.gcd(up, down)
    peer = scipy.signal.resample_poly(x, up // g, down // g)
    inner = slice(200, -200)  # the two filters differ only at the edges
    assert np.max(np.abs(y[inner] - peer[:len(y)][inner])) < 2e-3


def make_dir(path, segmented=False):
    """Two speakers; plain: a 1 s sine per utterance (440 / 660 Hz); segmented: one 1 s recording
    per speaker, 440 Hz then 880 Hz, cut at 0.5 s. Extra files: utt2dur, utt2category, feats.scp, spk1.scp."""
    os.makedirs(path / "wav")
    freqs = {"a": 440, "b": 660}
    wav_scp, segments, utt2spk = {}, None, {}
    for spk, freq in freqs.items():
        if segmented:
            wav_scp[f"rec{spk}"] = str(path / "wav" / f"rec{spk}.wav")
            sf.write(wav_scp[f"rec{spk}"], np.concatenate([sine(440, 0.5), sine(880, 0.5)]), RATE)
            utt2spk.update({f"{spk}-1": spk, f"{spk}-2": spk})
        else:
            wav_scp[f"{spk}-1"] = str(path / "wav" / f"{spk}-1.wav")
            sf.write(wav_scp[f"{spk}-1"], sine(freq, 1.0), RATE)
            utt2spk[f"{spk}-1"] = spk
    if segmented:
        segments = {u: (f"rec{u[0]}", 0.0, 0.5) if u.endswith("1") else (f"rec{u[0]}", 0.5, -1) for u in utt2spk}
    lengths = {u: RATE // 2 if segmented else RATE for u in utt2spk}
    kaldiio.save_ark(str(path / "feats.ark"), {u: np.zeros((3, 2), np.float32) for u in utt2spk},
                     scp=str(path / "feats.scp"))
    extra = {"utt2num_samples": lengths, "utt2dur": {u: n / RATE for u, n in lengths.items()},
             "utt2category": {u: "clean" for u in utt2spk}}
    if not segmented:
        extra["spk1.scp"] = wav_scp
    write_data_dir(path, wav_scp, utt2spk, text={u: f"text {u}" for u in utt2spk}, segments=segments, extra=extra)
    return path


def test_perturb_plain_dir_writes_audio_and_scales_lengths(tmp_path, caplog):
    src = make_dir(tmp_path / "src")
    perturb_dir(str(src), str(tmp_path / "sp"), [0.9])
    d = DataDir(str(tmp_path / "sp"))
    assert d.utts == ["sp0.9-a-1", "sp0.9-b-1"]
    assert d.table("utt2spk") == {"sp0.9-a-1": "sp0.9-a", "sp0.9-b-1": "sp0.9-b"}
    assert d.table("text")["sp0.9-b-1"] == "text b-1"
    assert d.table("utt2category")["sp0.9-a-1"] == "clean"
    assert not d.has("feats.scp")
    assert "dropping feats.scp (they describe the unperturbed audio" in caplog.text
    for utt, freq in (("sp0.9-a-1", 440), ("sp0.9-b-1", 660)):
        path = d.table("wav.scp")[utt]
        assert path == str(tmp_path / "sp" / "audio" / f"{utt}.wav")
        samples, rate = read_audio(path)
        assert rate == RATE and len(samples) == int(d.table("utt2num_samples")[utt]) == 17778
        assert float(d.table("utt2dur")[utt]) == pytest.approx(1 / 0.9, abs=1e-3)
        assert peak_hz(samples) == pytest.approx(freq * 0.9, abs=0.5)
        reference, _ = read_audio(d.table("spk1.scp")[utt])
        assert d.table("spk1.scp")[utt] == str(tmp_path / "sp" / "audio" / "spk1" / f"{utt}.wav")
        np.testing.assert_array_equal(reference, samples)


def test_perturb_segments_scales_times_and_keeps_content(tmp_path):
    src = make_dir(tmp_path / "src", segmented=True)
    perturb_dir(str(src), str(tmp_path / "sp"), [1.1], audio_dir=str(tmp_path / "wavs"))
    d = DataDir(str(tmp_path / "sp"))
    assert sorted(d.table("wav.scp")) == ["sp1.1-reca", "sp1.1-recb"]
    assert d.table("wav.scp")["sp1.1-reca"] == str(tmp_path / "wavs" / "sp1.1-reca.wav")
    assert d.segments == {"sp1.1-a-1": ("sp1.1-reca", 0.0, 0.455), "sp1.1-a-2": ("sp1.1-reca", 0.455, -1.0),
                          "sp1.1-b-1": ("sp1.1-recb", 0.0, 0.455), "sp1.1-b-2": ("sp1.1-recb", 0.455, -1.0)}
    assert d.table("utt2num_samples")["sp1.1-a-1"] == str(round(8000 / 1.1))
    first, _ = read_audio(*d.audio_spec("sp1.1-a-1"))
    second, _ = read_audio(*d.audio_spec("sp1.1-a-2"))
    assert peak_hz(first[50:-50]) == pytest.approx(440 * 1.1, abs=1)
    assert peak_hz(second[50:-50]) == pytest.approx(880 * 1.1, abs=1)


def test_perturb_factors_combined_via_wrapper_in_parallel(tmp_path):
    src = make_dir(tmp_path / "src")
    proc = subprocess.run([str(ROOT / "utils" / "perturb_data_dir_speed.sh"), "--nj", "2", "--factors",
                           "0.9,1.0,1.1", str(src), str(tmp_path / "sp")], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "dropping feats.scp" in proc.stderr
    d = DataDir(str(tmp_path / "sp"))
    assert d.utts == ["a-1", "b-1", "sp0.9-a-1", "sp0.9-b-1", "sp1.1-a-1", "sp1.1-b-1"]
    assert sorted(d.table("spk2utt")) == ["a", "b", "sp0.9-a", "sp0.9-b", "sp1.1-a", "sp1.1-b"]
    assert d.table("wav.scp")["a-1"] == read_table(src / "wav.scp")["a-1"]
    assert read_table(tmp_path / "sp" / "utt2num_samples") == {
        "a-1": "16000", "b-1": "16000", "sp0.9-a-1": "17778", "sp0.9-b-1": "17778",
        "sp1.1-a-1": "14546", "sp1.1-b-1": "14546"}
    for utt in ("sp0.9-a-1", "sp1.1-b-1"):
        assert sf.info(d.table("wav.scp")[utt]).frames == int(d.table("utt2num_samples")[utt])
    assert sorted(os.listdir(tmp_path / "sp" / "audio")) == [
        "sp0.9-a-1.wav", "sp0.9-b-1.wav", "sp1.1-a-1.wav", "sp1.1-b-1.wav", "spk1"]
