"""Separation metrics against mir_eval / fast_bss_eval, and the score_sep CLI end to end on wav files."""
import json
import warnings

import fast_bss_eval
import mir_eval.separation
import numpy as np
import pytest
import soundfile as sf

from toolkit.audio.resample import resample
from toolkit.bin.score_sep import main as score_sep
from toolkit.data.audio_io import read_audio
from toolkit.metrics.sep_scores import bss_eval_sources, pairwise_si_snr, score_mixture, si_snr
from toolkit.utils.espeak import synthesize

RATE = 8000
TOLERANCE_DB = 1e-6  # measured agreement with both oracles is about 1e-12 dB


@pytest.fixture(scope="module")
def speech():
    """Three espeak utterances at 8 kHz, cut to 0.6 s: float64 [3, 4800]."""
    waves = []
    for text, voice in (("the quick brown fox", "en-us"), ("jumps over the lazy dog", "en-us+f3"),
                        ("seven red boats", "en-us+m2")):
        audio, rate = synthesize(text, voice)
        waves.append(resample(audio.astype(np.float32) / 32768, rate, RATE)[1000:5800])
    return np.stack(waves).astype(np.float64)


def degrade(ref, seed, leak=0.2, snr_db=15.0):
    """Estimates of ref [S, T]: each leaks the other sources, is filtered and gets noise; a fixed shuffle."""
    rng = np.random.default_rng(seed)
    num = len(ref)
    mixing = np.eye(num) + leak * rng.uniform(0.5, 1.0, (num, num)) * (1 - np.eye(num))
    est = np.stack([np.convolve(row, [1.0, -0.3, 0.1])[:ref.shape[1]] for row in mixing @ ref])
    noise = rng.standard_normal(est.shape)
    noise *= np.sqrt((est ** 2).sum(-1, keepdims=True) / (noise ** 2).sum(-1, keepdims=True) / 10 ** (snr_db / 10))
    return (est + noise)[np.roll(np.arange(num), 1)]


def mir_eval_sources(ref, est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # bss_eval_sources is deprecated in mir_eval 0.8
        return mir_eval.separation.bss_eval_sources(ref, est)


def test_si_snr_equals_fast_bss_eval(speech):
    est = degrade(speech, seed=0) + 0.02  # an offset: zero-mean matters
    theirs = fast_bss_eval.si_sdr(speech[:, None], est[:, None], zero_mean=True)[:, 0]
    np.testing.assert_allclose(si_snr(est, speech), theirs, atol=1e-9)
    pairwise = -fast_bss_eval.si_sdr_loss(est, speech, zero_mean=True, pairwise=True).T  # theirs is [ref, est]
    np.testing.assert_allclose(pairwise_si_snr(est, speech), pairwise, atol=1e-9)


def test_bss_eval_equals_mir_eval_and_fast_bss_eval(speech):
    ref = speech[:2]
    est = degrade(ref, seed=1)
    ours = bss_eval_sources(ref, est)
    theirs = mir_eval_sources(ref, est)
    fast = fast_bss_eval.bss_eval_sources(ref, est)
    for mine, peer, other in zip(ours[:3], theirs[:3], fast[:3]):
        np.testing.assert_allclose(mine, peer, atol=TOLERANCE_DB)
        np.testing.assert_allclose(mine, other, atol=TOLERANCE_DB)
    assert ours[3].tolist() == theirs[3].tolist() == [1, 0]
    assert (fast[3] == ours[3]).all()  # fast_bss_eval's perm maps reference -> estimate too here (S=2)


def test_bss_eval_three_sources_equals_fast_bss_eval(speech):
    est = degrade(speech, seed=2, leak=0.4, snr_db=5.0)
    ours = bss_eval_sources(speech, est)
    fast = fast_bss_eval.bss_eval_sources(speech, est)
    for mine, other in zip(ours[:3], fast[:3]):
        np.testing.assert_allclose(mine, other, atol=TOLERANCE_DB)
    assert ours[3].tolist() == [1, 2, 0]  # est = ref rolled by one: estimate 1 holds reference 0


def test_score_mixture_definitions(speech):
    ref = speech[:2]
    mix = ref.sum(0)
    est = degrade(ref, seed=3)
    scores = score_mixture(mix, ref, est)
    perm = scores["si_snr_perm"]
    assert perm.tolist() == [1, 0] and scores["sdr_perm"].tolist() == [1, 0]
    theirs = fast_bss_eval.si_sdr(ref[:, None], est[perm][:, None], zero_mean=True)[:, 0]
    np.testing.assert_allclose(scores["si_snr"], theirs, atol=1e-9)
    baseline = fast_bss_eval.si_sdr(ref[:, None], np.stack([mix, mix])[:, None], zero_mean=True)[:, 0]
    np.testing.assert_allclose(scores["si_snri"], theirs - baseline, atol=1e-9)
    sdr, sir, sar, _ = mir_eval_sources(ref, est)
    sdr_mix = mir_eval_sources(ref, np.stack([mix, mix]))[0]  # the mixture as every source's estimate
    np.testing.assert_allclose(scores["sdr"], sdr, atol=TOLERANCE_DB)
    np.testing.assert_allclose(scores["sdri"], sdr - sdr_mix, atol=TOLERANCE_DB)
    np.testing.assert_allclose(scores["sir"], sir, atol=TOLERANCE_DB)
    np.testing.assert_allclose(scores["sar"], sar, atol=TOLERANCE_DB)
    with pytest.raises(ValueError, match="reference source"):
        score_mixture(mix, np.stack([ref[0], 0 * ref[1]]), est)


def write_wav(path, samples, rate=RATE):
    sf.write(str(path), samples, rate, subtype="PCM_16")
    return str(path)


def write_scp(path, entries):
    path.write_text("".join(f"{utt} {spec}\n" for utt, spec in entries.items()))
    return str(path)


@pytest.fixture
def corpus(tmp_path, speech):
    """Two mixtures of two espeak speakers as wav files and scps; estimates = noisy references, swapped."""
    rng = np.random.default_rng(4)
    tables = {name: {} for name in ("mix", "s1", "s2", "e1", "e2")}
    for index, (a, b, gain) in enumerate(((0, 1, 0.5), (2, 0, 1.5))):
        s1, s2 = 0.4 * speech[a], 0.4 * gain * speech[b]
        utt = f"utt{index}"
        signals = {"mix": s1 + s2, "s1": s1, "s2": s2,
                   "e1": s2 + 0.003 * rng.standard_normal(s2.shape),  # swapped order
                   "e2": s1 + 0.003 * rng.standard_normal(s1.shape)}
        for name, samples in signals.items():
            tables[name][utt] = write_wav(tmp_path / f"{utt}_{name}.wav", samples)
    scps = {name: write_scp(tmp_path / f"{name}.scp", table) for name, table in tables.items()}
    return tmp_path, scps, tables


def cli(scps, out_dir, *extra):
    return score_sep(["--mix_scp", scps["mix"], "--ref_scps", scps["s1"], scps["s2"],
                      "--est_scps", scps["e1"], scps["e2"], "--out_dir", str(out_dir), *extra])


def test_cli_end_to_end(corpus):
    root, scps, tables = corpus
    results = root / "RESULTS.md"
    cli(scps, root / "score", "--results_md", str(results), "--results_name", "oracle_noisy")
    score = json.loads((root / "score" / "score.json").read_text())
    assert score["num_utts"] == 2 and score["num_sources"] == 2 and score["trimmed_utts"] == 0
    expected = {key: [] for key in ("si_snr", "si_snri", "sdr", "sdri")}
    for utt in ("utt0", "utt1"):
        wav = {name: read_audio(table[utt], dtype="float64")[0] for name, table in tables.items()}
        ref, est, mix = np.stack([wav["s1"], wav["s2"]]), np.stack([wav["e2"], wav["e1"]]), wav["mix"]
        matched = fast_bss_eval.si_sdr(ref[:, None], est[:, None], zero_mean=True)[:, 0]
        of_mix = fast_bss_eval.si_sdr(ref[:, None], np.stack([mix, mix])[:, None], zero_mean=True)[:, 0]
        sdr, _, _, _ = fast_bss_eval.bss_eval_sources(ref, est)
        sdr_mix, _, _, _ = fast_bss_eval.bss_eval_sources(ref, np.stack([mix, mix]))
        expected["si_snr"].append(matched.mean())
        expected["si_snri"].append((matched - of_mix).mean())  # the definition: mixture as the estimate
        expected["sdr"].append(sdr.mean())
        expected["sdri"].append((sdr - sdr_mix).mean())
    for key, values in expected.items():
        assert score[key] == pytest.approx(np.mean(values), abs=1e-6), key
    assert 15 < score["si_snr"] < 30 and score["si_snri"] > 15
    rows = (root / "score" / "per_utt.tsv").read_text().splitlines()
    assert rows[0].split("\t") == ["utt", "si_snr", "si_snri", "sdr", "sdri", "sir", "sar", "si_snr_perm", "sdr_perm"]
    assert [row.split("\t")[0] for row in rows[1:]] == ["utt0", "utt1"]
    assert all(row.split("\t")[-2:] == ["1,0", "1,0"] for row in rows[1:])
    assert float(rows[1].split("\t")[1]) == pytest.approx(expected["si_snr"][0], abs=1e-4)
    table = results.read_text()
    assert "| name | SI-SNR | SI-SNRi | SDR | SDRi | SIR | SAR | PESQ | STOI | #utts |" in table
    assert f"| oracle_noisy | {score['si_snr']:.2f} | {score['si_snri']:.2f} | {score['sdr']:.2f} |" in table
    assert table.rstrip().endswith("| - | - | 2 |")


def test_by_pair_groups_utterances_by_source_speakers(corpus, capsys):
    root, scps, _ = corpus
    speakers = root / "utt2src_spk"
    speakers.write_text("utt0 spkB spkA\nutt1 spkA spkB\n")
    cli(scps, root / "same", "--utt2src_spk", str(speakers))
    rows = [row.split("\t") for row in (root / "same" / "by_pair.tsv").read_text().splitlines()]
    assert rows[0] == ["speakers", "num_utts", "si_snr", "si_snri", "sdr", "sdri", "sir", "sar"]
    score = json.loads((root / "same" / "score.json").read_text())
    assert rows[1][:2] == ["spkA+spkB", "2"] and len(rows) == 2  # source order does not split a pair
    assert float(rows[1][3]) == pytest.approx(score["si_snri"], abs=1e-4)

    speakers.write_text("utt0 spkA spkB\nutt1 spkC spkA\n")
    cli(scps, root / "pairs", "--utt2src_spk", str(speakers))
    per_utt = {row.split("\t")[0]: row.split("\t") for row in (root / "pairs" / "per_utt.tsv").read_text().splitlines()}
    rows = [row.split("\t") for row in (root / "pairs" / "by_pair.tsv").read_text().splitlines()[1:]]
    expected = sorted([("spkA+spkB", per_utt["utt0"]), ("spkA+spkC", per_utt["utt1"])], key=lambda p: float(p[1][2]))
    assert [row[0] for row in rows] == [pair for pair, _ in expected]  # lowest SI-SNRi first
    for row, (_, utt_row) in zip(rows, expected):
        assert row[1] == "1" and row[2:] == utt_row[1:7]

    speakers.write_text("utt0 spkA spkB\n")
    with pytest.raises(SystemExit):
        cli(scps, root / "missing", "--utt2src_spk", str(speakers))
    err = capsys.readouterr().err
    assert f"{speakers} lacks 1 scored utterance(s), e.g. utt1" in err and "fix_data_dir.sh" in err
    assert not (root / "missing").exists()  # checked before any scoring


def test_pesq_and_stoi(corpus):
    pesq = pytest.importorskip("pesq")
    pystoi = pytest.importorskip("pystoi")
    root, scps, tables = corpus
    cli(scps, root / "score", "--pesq", "--stoi")
    score = json.loads((root / "score" / "score.json").read_text())
    values = {"pesq": [], "stoi": []}
    for utt in ("utt0", "utt1"):
        wav = {name: read_audio(table[utt], dtype="float64")[0] for name, table in tables.items()}
        for ref, est in ((wav["s1"], wav["e2"]), (wav["s2"], wav["e1"])):
            values["pesq"].append(pesq.pesq(RATE, ref, est, "nb"))
            values["stoi"].append(pystoi.stoi(ref, est, RATE))
    assert score["pesq"] == pytest.approx(np.mean(values["pesq"]), abs=1e-6)
    assert score["stoi"] == pytest.approx(np.mean(values["stoi"]), abs=1e-6)
    assert score["stoi"] > 0.9


def test_requested_metric_not_installed(corpus, monkeypatch, capsys):
    root, scps, _ = corpus
    monkeypatch.setitem(__import__("sys").modules, "pystoi", None)  # makes `import pystoi` fail
    with pytest.raises(SystemExit):
        cli(scps, root / "score", "--stoi")
    assert "--stoi needs the package pystoi: pip install pystoi" in capsys.readouterr().err


def test_missing_utterance_is_named(corpus, capsys):
    root, scps, tables = corpus
    write_scp(root / "e2.scp", {"utt0": tables["e2"]["utt0"]})
    with pytest.raises(SystemExit):
        cli(scps, root / "score")
    err = capsys.readouterr().err
    assert f"{scps['e2']} lacks utt1" in err and scps["mix"] in err


def test_rate_mismatch_is_an_error(corpus, capsys):
    root, scps, tables = corpus
    estimate = read_audio(tables["e1"]["utt1"])[0]
    write_wav(tables["e1"]["utt1"], resample(estimate, RATE, 16000), rate=16000)
    with pytest.raises(SystemExit):
        cli(scps, root / "score")
    err = capsys.readouterr().err
    assert "utt utt1" in err and "16000 Hz" in err and "8000 Hz" in err and "does not resample" in err


def test_length_rule(corpus, capsys):
    root, scps, tables = corpus
    estimate = read_audio(tables["e2"]["utt0"])[0]
    write_wav(tables["e2"]["utt0"], estimate[:-3])
    with pytest.raises(SystemExit):
        cli(scps, root / "score")
    assert "has 4797 samples, the mixture 4800 (a difference above --length_tolerance 0)" in capsys.readouterr().err
    cli(scps, root / "score", "--length_tolerance", "4")
    assert json.loads((root / "score" / "score.json").read_text())["trimmed_utts"] == 1
