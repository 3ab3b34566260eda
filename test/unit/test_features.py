"""Feature extraction, dumping and CMVN, checked against torchaudio, kaldiio and numpy."""
import os

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

from toolkit.bin import compute_cmvn_stats, make_feats
from toolkit.data.audio_io import write_audio
from toolkit.data.datadir import DataDir, write_data_dir
from toolkit.data.tables import read_table
from toolkit.features import LogMel, apply_cmvn, build_extractor, dump_features
from toolkit.utils.config import load_config
from toolkit.utils.errors import ConfigError, DataError

RATE = 16000
LENGTHS = {"a1": 8000, "a2": 17600, "b1": 12345}  # samples; speakers a and b
FBANK = {"num_mel_bins": 40}


def signal(n, seed):
    """A chirp with harmonics plus noise, in [-1, 1]."""
    t = np.arange(n) / RATE
    rng = np.random.default_rng(seed)
    x = 0.3 * np.sin(2 * np.pi * (150 + 400 * t) * t) + 0.1 * np.sin(2 * np.pi * 900 * t)
    return x + 0.03 * rng.standard_normal(n)


def int16_wave(path):
    """The file's samples as the int16 values Kaldi works on."""
    return torch.from_numpy(sf.read(path, dtype="int16")[0].astype(np.float32))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A data dir of three int16 wavs, and a feature config yaml."""
    root = tmp_path_factory.mktemp("features")
    wav = {}
    for seed, (utt, n) in enumerate(LENGTHS.items()):
        wav[utt] = str(root / f"{utt}.wav")
        write_audio(wav[utt], signal(n, seed), RATE)
    write_data_dir(str(root / "data"), wav, {u: u[0] for u in wav}, text={u: "hi" for u in wav})
    (root / "fbank.yaml").write_text("num_mel_bins: 40\n")
    return root


@pytest.fixture(scope="module")
def dump(data):
    """make_feats end to end: two jobs through the job runner."""
    out = data / "dump"
    make_feats.main(["--data_dir", str(data / "data"), "--out_dir", str(out), "--feat_type", "fbank",
                     "--feat_conf", str(data / "fbank.yaml"), "--nj", "2"])
    return out


def test_fbank_dump_equals_torchaudio(data, dump):
    assert (dump / "data" / "feats.1.ark").is_file() and (dump / "data" / "feats.2.ark").is_file()
    feats = kaldiio.load_scp(str(dump / "feats.scp"))
    assert list(feats) == sorted(LENGTHS)
    for utt, n in LENGTHS.items():
        expected = kaldi.fbank(int16_wave(data / f"{utt}.wav").unsqueeze(0), **FBANK).numpy()
        np.testing.assert_array_equal(feats[utt], expected)
        assert feats[utt].shape == (1 + (n - 400) // 160, 40)  # 25 ms window, 10 ms shift, snip_edges
    frames = read_table(str(dump / "utt2num_frames"))
    assert frames == {utt: str(1 + (n - 400) // 160) for utt, n in LENGTHS.items()}


def test_two_jobs_equal_one_pass(data, dump, tmp_path):
    """nj=2 gives what a single job (nj=1: one pass over every utterance) gives."""
    extractor = build_extractor(load_config(str(dump / "feat_conf.yaml")))
    frames = dump_features(DataDir(str(data / "data")), sorted(LENGTHS), extractor, str(tmp_path / "f.ark"),
                           str(tmp_path / "f.scp"))
    one, two = kaldiio.load_scp(str(tmp_path / "f.scp")), kaldiio.load_scp(str(dump / "feats.scp"))
    assert list(one) == list(two)
    for utt in one:
        np.testing.assert_array_equal(one[utt], two[utt])
    assert {u: str(n) for u, n in frames.items()} == read_table(str(dump / "utt2num_frames"))


def test_dump_dir_is_data_dir(data, dump):
    for name in ("wav.scp", "text", "utt2spk", "spk2utt"):
        assert (dump / name).read_text() == (data / "data" / name).read_text()
    conf = load_config(str(dump / "feat_conf.yaml"))
    assert conf["feat_type"] == "fbank" and conf["num_mel_bins"] == 40 and conf["dither"] == 0.0


def compression_tolerance(mat):
    """Bound on Kaldi kSpeechFeature round-trip error, per column.

    Each column is coded in 64 / 128 / 63 steps between its quantised 0/25/75/100
    percentiles; those lie on a 16-bit grid of the global range (step g). The
    error is half the widest step plus grid rounding.
    """
    g = (mat.max() - mat.min()) / 65535
    return (mat.max(axis=0) - mat.min(axis=0) + 2 * g) / 126 + 2 * g


@pytest.mark.parametrize("feat_type", ["fbank", "mfcc"])
def test_compressed_and_raw_match_torchaudio(data, tmp_path, feat_type):
    extractor = build_extractor({"feat_type": feat_type, **FBANK})
    raw = {"fbank": kaldi.fbank, "mfcc": kaldi.mfcc}[feat_type]
    utts = sorted(LENGTHS)
    dump_features(DataDir(str(data / "data")), utts, extractor, str(tmp_path / "r.ark"), str(tmp_path / "r.scp"))
    dump_features(DataDir(str(data / "data")), utts, extractor, str(tmp_path / "c.ark"), str(tmp_path / "c.scp"),
                  compression_method=1)
    plain, packed = kaldiio.load_scp(str(tmp_path / "r.scp")), kaldiio.load_scp(str(tmp_path / "c.scp"))
    assert os.path.getsize(tmp_path / "c.ark") < os.path.getsize(tmp_path / "r.ark") / 3
    for utt in utts:
        expected = raw(int16_wave(data / f"{utt}.wav").unsqueeze(0), **FBANK).numpy()
        np.testing.assert_array_equal(plain[utt], expected)
        error = np.abs(packed[utt] - expected)
        assert (error <= compression_tolerance(expected)).all()
        assert error.max() > 0  # it was really compressed


def test_segments(tmp_path):
    reco = signal(2 * RATE, 7)
    write_audio(str(tmp_path / "r.wav"), reco, RATE)
    segments = {"s1": ("r", 0.0, 0.6), "s2": ("r", 0.5, 1.25), "s3": ("r", 1.25, -1)}
    write_data_dir(str(tmp_path / "d"), {"r": str(tmp_path / "r.wav")}, {u: "x" for u in segments},
                   segments=segments)
    data = DataDir(str(tmp_path / "d"))
    frames = dump_features(data, data.utts, build_extractor({"feat_type": "fbank", **FBANK}),
                           str(tmp_path / "f.ark"), str(tmp_path / "f.scp"))
    feats = kaldiio.load_scp(str(tmp_path / "f.scp"))
    whole = int16_wave(tmp_path / "r.wav")
    for utt, (_, start, end) in segments.items():
        piece = whole[int(start * RATE):None if end < 0 else int(end * RATE)]
        np.testing.assert_array_equal(feats[utt], kaldi.fbank(piece.unsqueeze(0), **FBANK).numpy())
        assert frames[utt] == 1 + (len(piece) - 400) // 160


def test_cmvn_stats_global_and_per_speaker(dump):
    feats = kaldiio.load_scp(str(dump / "feats.scp"))
    compute_cmvn_stats.main(["--feats_scp", str(dump / "feats.scp"), "--out", str(dump / "cmvn.ark")])
    stats = kaldiio.load_mat(str(dump / "cmvn.ark"))
    every = np.concatenate([feats[u] for u in feats]).astype(np.float64)
    assert stats.dtype == np.float64 and stats.shape == (2, 41)
    np.testing.assert_allclose(stats[0, :-1], every.sum(0), rtol=1e-10)
    np.testing.assert_allclose(stats[1, :-1], np.square(every).sum(0), rtol=1e-10)
    assert stats[0, -1] == len(every) and stats[1, -1] == 0

    compute_cmvn_stats.main(["--feats_scp", str(dump / "feats.scp"), "--out", str(dump / "cmvn_spk.ark"),
                             "--spk2utt", str(dump / "spk2utt")])
    per_spk = kaldiio.load_scp(str(dump / "cmvn_spk.scp"))
    assert sorted(per_spk) == ["a", "b"]
    speaker_a = np.concatenate([feats["a1"], feats["a2"]]).astype(np.float64)
    np.testing.assert_allclose(per_spk["a"][0, :-1], speaker_a.sum(0), rtol=1e-10)
    np.testing.assert_allclose(per_spk["a"] + per_spk["b"], stats, rtol=1e-10)

    normed = apply_cmvn(every.astype(np.float32), stats)
    assert normed.dtype == np.float32
    np.testing.assert_allclose(normed.mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(normed.var(0), 1, atol=1e-4)
    as_tensor = apply_cmvn(torch.from_numpy(every.astype(np.float32)), stats, norm_vars=False)
    np.testing.assert_allclose(as_tensor.mean(0).numpy(), 0, atol=1e-4)
    np.testing.assert_allclose(as_tensor.var(0, unbiased=False).numpy(), every.var(0), rtol=1e-4)


def test_logmel_shape_and_values():
    conf = {"sample_rate": RATE, "n_fft": 512, "hop_length": 128, "win_length": 400, "n_mels": 64,
            "fmin": 50.0, "fmax": 7000.0}
    wave = signal(5000, 3).astype(np.float32)
    feats = build_extractor({"feat_type": "logmel", **conf})(wave, RATE)
    assert feats.shape == (1 + 5000 // 128, 64)
    # Independent STFT in numpy; the filterbank is torchaudio's Slaney one for fmin..fmax.
    padded = np.pad(wave.astype(np.float64), 256, mode="reflect")
    window = np.zeros(512)
    window[56:456] = np.hanning(401)[:400]  # periodic Hann of 400, centred in 512
    frames = np.stack([padded[i * 128:i * 128 + 512] * window for i in range(feats.shape[0])])
    fb = torchaudio.functional.melscale_fbanks(257, 50.0, 7000.0, 64, RATE, norm="slaney", mel_scale="slaney")
    expected = np.log(np.maximum(np.abs(np.fft.rfft(frames)) @ fb.double().numpy(), 1e-5))
    np.testing.assert_allclose(feats, expected, atol=2e-4)
    batch = LogMel(**conf)(torch.from_numpy(np.stack([wave, wave])))
    assert batch.shape == (2, 1 + 5000 // 128, 64)


def test_config_errors():
    with pytest.raises(ConfigError, match="conf/fbank.yaml: unknown fbank option.*num_mel_bin"):
        build_extractor({"feat_type": "fbank", "num_mel_bin": 40}, "conf/fbank.yaml")
    with pytest.raises(ConfigError, match="feat_type must be one of"):
        build_extractor({"feat_type": "spectrogram"})


def test_bad_audio_errors_name_the_utterance(tmp_path):
    write_audio(str(tmp_path / "short.wav"), signal(300, 1), RATE)
    write_audio(str(tmp_path / "narrow.wav"), signal(8000, 2), 8000)
    write_audio(str(tmp_path / "stereo.wav"), np.stack([signal(800, 3), signal(800, 4)], 1), RATE)
    wav = {u: str(tmp_path / f"{u}.wav") for u in ("short", "narrow", "stereo")}
    write_data_dir(str(tmp_path / "d"), wav, {u: u for u in [*wav, "ghost"]})
    data, extractor = DataDir(str(tmp_path / "d")), build_extractor({"feat_type": "fbank"})
    for utt, message in [("short", "too short: 300 samples, one frame needs 400"),
                         ("narrow", "sample rate is 8000 Hz but the feature config expects 16000 Hz"),
                         ("stereo", "audio has 2 channels"),
                         ("ghost", "'ghost' is missing from .*/d/wav.scp")]:
        with pytest.raises(DataError, match=f"utterance '{utt}': {message}"):
            dump_features(data, [utt], extractor, str(tmp_path / "f.ark"), str(tmp_path / "f.scp"))
    picked = build_extractor({"feat_type": "fbank", "channel": 1})(*sf.read(wav["stereo"], dtype="float32"))
    right = torch.from_numpy(sf.read(wav["stereo"], dtype="int16")[0][:, 1].astype(np.float32))
    np.testing.assert_array_equal(picked, kaldi.fbank(right.unsqueeze(0)).numpy())


def test_unreadable_utterance_fails_the_run(data, tmp_path, capsys):
    (tmp_path / "broken.wav").write_text("not audio\n")
    wav = {"a1": str(data / "a1.wav"), "broken": str(tmp_path / "broken.wav")}
    write_data_dir(str(tmp_path / "d"), wav, {u: "s" for u in wav})
    with pytest.raises(SystemExit) as err:  # job 1 (a1) succeeds, job 2 (broken) fails
        make_feats.main(["--data_dir", str(tmp_path / "d"), "--out_dir", str(tmp_path / "dump"),
                         "--feat_type", "fbank", "--nj", "2"])
    assert err.value.code == 1
    assert "ERROR: feature extraction failed: utterance 'broken': cannot read audio" in capsys.readouterr().err
    assert not (tmp_path / "dump" / "feats.scp").exists()
