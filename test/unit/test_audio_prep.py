"""Audio preparation on real synthetic wav files: resample, downmix, levels, trim, slicing and both CLIs."""
import re

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
import torch
import torchaudio.functional as F

from toolkit.audio.levels import loudness_lufs, peak_db, rms_db
from toolkit.audio.prepare import PrepareOptions, prepare
from toolkit.audio.resample import downmix, resample
from toolkit.audio.silence import frame_energy_db, trim_bounds
from toolkit.audio.slicing import plan_segments
from toolkit.bin import prepare_audio, slice_audio
from toolkit.data.datadir import DataDir, read_segments, write_data_dir
from toolkit.data.tables import read_table
from toolkit.data.validate import validate_data_dir


def tone(seconds, fs, freq=440.0, amp=0.5):
    t = np.arange(round(seconds * fs)) / fs
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def quiet(seconds, fs, level_db=-80.0, seed=0):
    """Background noise at `level_db` dBFS RMS (a real recording is never digital silence)."""
    noise = np.random.default_rng(seed).standard_normal(round(seconds * fs))
    return (noise * 10 ** (level_db / 20)).astype(np.float32)


def bursts(fs, pattern):
    """Concatenate ('tone', seconds) / ('gap', seconds) parts; returns the signal and the tone intervals."""
    parts, voiced, pos = [], [], 0.0
    for kind, seconds in pattern:
        if kind == "tone":
            parts.append(tone(seconds, fs, freq=300 + 40 * len(parts)))
            voiced.append((pos, pos + seconds))
        else:
            parts.append(quiet(seconds, fs, seed=len(parts)))
        pos += seconds
    return np.concatenate(parts), voiced


def dominant_freq(x, fs):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.fft.rfftfreq(len(x), 1 / fs)[np.argmax(spectrum)]


# --- resample, downmix, levels -------------------------------------------------------------------

def test_resample_length_frequency_and_agrees_with_scipy():
    x = tone(1.0, 44100, freq=1000.0)
    y = resample(x, 44100, 16000)
    assert y.shape == (16000,)
    assert abs(dominant_freq(y, 16000) - 1000.0) <= 1.0
    ref = scipy.signal.resample_poly(x.astype(np.float64), 160, 441)
    middle = slice(1000, 15000)  # edges differ by filter design
    err = y[middle] - ref[middle]
    assert 10 * np.log10(np.sum(ref[middle] ** 2) / np.sum(err ** 2)) > 40
    stereo = np.stack([x, 0.5 * x], axis=1)
    assert resample(stereo, 44100, 16000).shape == (16000, 2)
    assert resample(x, 16000, 16000) is x


def test_downmix_modes():
    left, right = tone(0.1, 16000, 440, 0.4), tone(0.1, 16000, 660, 0.2)
    stereo = np.stack([left, right], axis=1)
    np.testing.assert_allclose(downmix(stereo, "mean"), (left + right) / 2, atol=1e-7)
    np.testing.assert_array_equal(downmix(stereo, "left"), left)
    np.testing.assert_array_equal(downmix(stereo, "right"), right)
    assert downmix(stereo, "none") is stereo
    assert downmix(left, "mean") is left
    np.testing.assert_array_equal(downmix(left[:, None], "right"), left)


def test_lufs_is_torchaudio_loudness_and_near_the_bs1770_anchor():
    x = tone(3.0, 48000, freq=997.0, amp=1.0)
    expected = float(F.loudness(torch.from_numpy(x)[None].double(), 48000))
    assert loudness_lufs(x, 48000) == pytest.approx(expected, abs=1e-9)
    # BS.1770: a 0 dBFS 997 Hz sine reads -3.01 LKFS; torchaudio's approximate K-weighting reads 0.27 LU lower.
    assert loudness_lufs(x, 48000) == pytest.approx(-3.01, abs=0.3)
    assert loudness_lufs(x[:4000], 48000) is None  # under one 0.4 s gating block
    assert rms_db(x) == pytest.approx(-3.0103, abs=1e-3)


@pytest.mark.parametrize("method,target", [("rms", -20.0), ("lufs", -23.0), ("lufs", -30.0)])
def test_normalisation_hits_target(method, target):
    fs = 16000
    x, _ = bursts(fs, [("gap", 0.3), ("tone", 1.0), ("gap", 0.2), ("tone", 1.5)])
    y, result = prepare(x * 0.1, fs, PrepareOptions(fs=fs, normalize=method, target_level=target))
    assert not result.clip_limited and result.steps == ["gain"]
    measured = rms_db(y) if method == "rms" else float(F.loudness(torch.from_numpy(y)[None].double(), fs))
    assert measured == pytest.approx(target, abs=0.1 if method == "rms" else 0.2)


def test_gain_is_limited_so_nothing_clips():
    fs = 16000
    x = quiet(1.0, fs, level_db=-40.0)
    x[8000] = 0.5  # a click: high crest factor, so -10 dBFS RMS would clip
    y, result = prepare(x, fs, PrepareOptions(fs=fs, normalize="rms", target_level=-10.0, peak_limit_db=-1.0))
    assert result.clip_limited
    assert peak_db(y) == pytest.approx(-1.0, abs=1e-3)
    assert result.gain_db == pytest.approx(-1.0 - peak_db(x), abs=1e-3)
    hot = tone(1.0, fs, amp=1.2)  # float input above full scale, no normalisation asked
    y, result = prepare(hot, fs, PrepareOptions(fs=fs))
    assert result.clip_limited and peak_db(y) <= 1e-6


def test_frame_energy_matches_a_direct_computation():
    x = np.random.default_rng(1).standard_normal((1005, 2)).astype(np.float32) * [0.1, 0.3]
    direct = [10 * np.log10(np.mean(x[i:i + 100].astype(np.float64) ** 2)) for i in range(0, 1005, 100)]
    np.testing.assert_allclose(frame_energy_db(x.astype(np.float32), 100), direct, atol=1e-5)
    assert frame_energy_db(np.zeros(0, np.float32), 100).shape == (0,)


def test_trim_removes_leading_and_trailing_silence_within_a_frame():
    fs, hop = 16000, 0.01
    x, voiced = bursts(fs, [("gap", 0.53), ("tone", 1.0), ("gap", 0.3), ("tone", 0.5), ("gap", 0.71)])
    first, last = trim_bounds(x, fs, threshold_db=-40, min_silence=0.1, keep=0.0, hop=hop)
    assert abs(first / fs - voiced[0][0]) <= hop
    assert abs(last / fs - voiced[-1][1]) <= hop
    first_k, last_k = trim_bounds(x, fs, threshold_db=-40, min_silence=0.1, keep=0.05, hop=hop)
    assert (first - first_k, last_k - last) == (800, 800)
    assert trim_bounds(x, fs, min_silence=1.0) == (0, len(x))  # silences shorter than min_silence stay
    silent = np.zeros(fs, np.float32)
    assert trim_bounds(silent, fs) == (0, fs)
    y, result = prepare(x, fs, PrepareOptions(fs=fs, trim=True, trim_keep=0.0))
    assert result.steps == ["trim"] and len(y) == last - first
    assert result.trim_start == pytest.approx(first / fs)
    assert result.trim_end == pytest.approx((len(x) - last) / fs)


# --- slicing -------------------------------------------------------------------------------------

def check_plan(x, fs, segments, voiced, max_len, threshold_db=-40.0, hop=0.01):
    """Every segment fits, every voiced interval is inside the segments, and silence cuts lie in silence."""
    loudest = rms_db(tone(1.0, fs))  # every burst is a 0.5-amplitude tone
    for seg in segments:
        assert 0 <= seg.start < seg.end <= len(x) / fs + 1e-9
        assert seg.end - seg.start <= max_len + 1e-9
        if "silence" in seg.reason.split()[:2]:  # 'silence ...' and 'long silence ...'
            cut = round(seg.end * fs)
            assert rms_db(x[cut - round(hop * fs):cut + round(hop * fs)]) < loudest + threshold_db, seg
    covered = np.zeros(len(x), bool)
    for seg in segments:
        covered[round(seg.start * fs):round(seg.end * fs)] = True
    for start, end in voiced:
        assert covered[round(start * fs):round(end * fs)].all(), (start, end, segments)


def test_slicing_cuts_in_silences_and_covers_all_sound():
    fs, max_len = 16000, 6.0
    x, voiced = bursts(fs, [("gap", 0.8), ("tone", 2.0), ("gap", 0.4), ("tone", 2.5), ("gap", 0.6),
                            ("tone", 1.5), ("gap", 0.35), ("tone", 3.0), ("gap", 3.0), ("tone", 1.2),
                            ("gap", 1.0)])
    segments, dropped = plan_segments(x, fs, max_len, min_len=1.0, min_silence=0.3, max_silence=2.0,
                                      keep_silence=0.1)
    assert dropped == []
    check_plan(x, fs, segments, voiced, max_len)
    assert [s.reason.split()[0] for s in segments] == ["silence", "long", "end"]
    # leading/trailing and the long silence are trimmed to keep_silence
    assert segments[0].start == pytest.approx(0.7) and segments[-1].end == pytest.approx(voiced[-1][1] + 0.1)
    assert segments[-1].start == pytest.approx(voiced[-1][0] - 0.1)
    # the cut prefers the longer silence in the second half of the window (0.6 s over 0.4 s)
    assert segments[0].end == pytest.approx(voiced[1][1] + 0.1)


def test_slicing_without_silence_forces_cuts_at_the_quietest_frame():
    fs, max_len = 16000, 8.0
    x = tone(20.0, fs)
    x[round(7.0 * fs):round(7.05 * fs)] *= 0.01  # a dip too short to be a silence
    segments, dropped = plan_segments(x, fs, max_len, min_len=1.0, min_silence=0.3)
    check_plan(x, fs, segments, [(0.0, 20.0)], max_len)
    assert segments[0].reason.startswith("forced") and 7.0 <= segments[0].end <= 7.05
    assert all(a.end == b.start for a, b in zip(segments, segments[1:]))  # forced cuts drop nothing
    assert dropped == []


def test_slicing_reports_what_it_drops():
    fs = 16000
    x, _ = bursts(fs, [("tone", 3.0), ("gap", 2.5), ("tone", 0.3), ("gap", 2.5), ("tone", 2.0)])
    segments, dropped = plan_segments(x, fs, 10.0, min_len=1.0, max_silence=2.0)
    assert len(segments) == 2 and len(dropped) == 1
    assert dropped[0].reason.startswith("shorter than min_len")
    assert (dropped[0].start, dropped[0].end) == pytest.approx((5.4, 5.9))  # the 0.3 s tone and 0.1 s each side
    segments, dropped = plan_segments(np.zeros(fs, np.float32), fs, 10.0)
    assert segments == [] and dropped[0].reason.startswith("silent")


# --- CLIs on real data dirs ----------------------------------------------------------------------

def consistent(path, fs=None, channels=1):
    """The data dir validates (sorted keys, matching key sets, lengths) and its utterance tables share keys."""
    report = validate_data_dir(str(path), fs=fs, channels=channels)
    assert report.errors == [], report.errors
    keys = set(read_table(path / "utt2spk"))
    names = ["utt2num_samples"] + (["segments"] if (path / "segments").exists() else ["wav.scp"])
    for name in names:
        lines = (path / name).read_text().splitlines()
        assert [ln.split()[0] for ln in lines] == sorted(keys), name


@pytest.fixture
def long_dir(tmp_path):
    """Two recordings: stereo 44.1 kHz and mono 16 kHz PCM_16, each tone bursts and silences."""
    wav = tmp_path / "wav"
    wav.mkdir()
    a, voiced_a = bursts(44100, [("gap", 0.5), ("tone", 4.0), ("gap", 0.5), ("tone", 5.0), ("gap", 0.4),
                                 ("tone", 3.0), ("gap", 0.5)])
    sf.write(wav / "reca.wav", np.stack([a, 0.5 * a], axis=1), 44100, subtype="PCM_16")
    b, voiced_b = bursts(16000, [("tone", 2.0), ("gap", 0.5), ("tone", 2.0), ("gap", 0.3)])
    sf.write(wav / "recb.wav", b, 16000, subtype="PCM_16")
    data = tmp_path / "long"
    write_data_dir(data, {"reca": str(wav / "reca.wav"), "recb": str(wav / "recb.wav")},
                   {"reca": "spk1", "recb": "spk2"}, text={"reca": "la la", "recb": "do re"},
                   extra={"utt2category": {"reca": "song", "recb": "scale"}})
    return data, {"reca": voiced_a, "recb": voiced_b}


def test_slice_audio_writes_segments_into_the_recordings(long_dir, tmp_path, capsys):
    data, voiced = long_dir
    out = tmp_path / "sliced"
    with pytest.raises(SystemExit):
        slice_audio.main(["--in_dir", str(data), "--out_dir", str(out), "--max_len", "8"])
    assert "text: transcripts are per utterance" in capsys.readouterr().err
    slice_audio.main(["--in_dir", str(data), "--out_dir", str(out), "--max_len", "8", "--no_text"])
    consistent(out, channels=None)
    assert not (out / "text").exists()
    segments = read_segments(out / "segments")
    assert len(segments) == 4
    for seg_id, (reco, start, end) in segments.items():
        assert re.fullmatch(rf"{reco}-(\d{{7}})-(\d{{7}})", seg_id)
        assert seg_id == f"{reco}-{round(start * 100):07d}-{round(end * 100):07d}"
        assert end - start <= 8.0
    for reco, intervals in voiced.items():
        for start, end in intervals:
            assert any(r == reco and s <= start and end <= e for r, s, e in segments.values())
    assert read_table(out / "utt2category") == {u: {"reca": "song", "recb": "scale"}[r]
                                                 for u, (r, _, _) in segments.items()}
    report = (out / "slice_report.tsv").read_text().splitlines()
    assert report[0].split("\t")[:2] == ["segment", "source"] and len(report) == 1 + len(segments)


def test_slice_audio_writes_wavs(long_dir, tmp_path):
    data, _ = long_dir
    out, audio = tmp_path / "sliced", tmp_path / "segwav"
    slice_audio.main(["--in_dir", str(data), "--out_dir", str(out), "--max_len", "8", "--no_text",
                      "--write_wavs", "true", "--audio_dir", str(audio)])
    consistent(out, channels=None)
    assert sorted(p.stem for p in audio.iterdir()) == sorted(read_table(out / "utt2spk"))


def test_prepare_audio_makes_a_new_consistent_data_dir(tmp_path):
    wav = tmp_path / "wav"
    wav.mkdir()
    rec, _ = bursts(44100, [("gap", 0.4), ("tone", 1.0), ("gap", 0.6), ("tone", 1.2), ("gap", 0.4)])
    sf.write(wav / "rec.wav", np.stack([rec, 0.25 * rec], axis=1), 44100, subtype="PCM_16")
    sf.write(wav / "ready.wav", tone(1.0, 16000, amp=0.1), 16000, subtype="PCM_16")
    data = tmp_path / "raw"
    write_data_dir(data, {"rec": str(wav / "rec.wav"), "ready": str(wav / "ready.wav")},
                   {"rec-1": "s1", "rec-2": "s1", "ready": "s2"},
                   text={"rec-1": "one", "rec-2": "two", "ready": "three"},
                   segments={"rec-1": ("rec", 0.0, 1.8), "rec-2": ("rec", 1.8, -1), "ready": ("ready", 0.0, -1)})
    (data / "feats.scp").write_text("ready x.ark:1\nrec-1 x.ark:2\nrec-2 x.ark:3\n")
    outs = {}
    for nj in (1, 2):
        out = tmp_path / f"raw_16k_nj{nj}"
        prepare_audio.main(["--in_dir", str(data), "--out_dir", str(out), "--audio_dir", str(tmp_path / f"w{nj}"),
                            "--normalize", "rms", "--target_level", "-20", "--trim", "true", "--nj", str(nj)])
        consistent(out, fs=16000)
        outs[nj] = out
    out = outs[1]
    assert not (out / "segments").exists() and not (out / "feats.scp").exists()
    assert (out / "text").read_text() == (data / "text").read_text()
    for utt, path in read_table(out / "wav.scp").items():
        audio, fs = sf.read(path)
        assert fs == 16000 and audio.ndim == 1 and rms_db(audio) == pytest.approx(-20.0, abs=0.1)
    rows = [line.split("\t") for line in (out / "prepare_report.tsv").read_text().splitlines()]
    header, rows = rows[0], {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert header[:4] == ["utt", "orig_fs", "orig_dur", "new_dur"] and sorted(rows) == ["ready", "rec-1", "rec-2"]
    assert rows["rec-1"]["steps"] == "downmix,resample,trim,gain" and float(rows["rec-1"]["trim_start"]) > 0.3
    assert rows["ready"]["steps"] == "gain"
    for nj in (1, 2):  # same audio and report whatever the number of jobs
        assert (outs[nj] / "prepare_report.tsv").read_text() == (out / "prepare_report.tsv").read_text()
    for utt, path in read_table(outs[2] / "wav.scp").items():
        np.testing.assert_array_equal(sf.read(path)[0], sf.read(read_table(out / "wav.scp")[utt])[0])


def test_prepare_audio_keeps_files_that_need_no_change(tmp_path):
    wav = tmp_path / "wav"
    wav.mkdir()
    sf.write(wav / "a.wav", tone(0.5, 16000), 16000, subtype="PCM_16")
    sf.write(wav / "b.wav", tone(0.5, 16000), 16000, subtype="FLOAT")
    data = tmp_path / "raw"
    write_data_dir(data, {"a": str(wav / "a.wav"), "b": str(wav / "b.wav")}, {"a": "s", "b": "s"})
    out = tmp_path / "out"
    prepare_audio.main(["--in_dir", str(data), "--out_dir", str(out), "--audio_dir", str(tmp_path / "new")])
    consistent(out, fs=16000)
    scp = read_table(out / "wav.scp")
    assert scp["a"] == str(wav / "a.wav")  # reused in place
    assert scp["b"] == str(tmp_path / "new" / "b.wav") and sf.info(scp["b"]).subtype == "PCM_16"
    assert DataDir(str(out)).table("utt2num_samples") == {"a": "8000", "b": "8000"}
