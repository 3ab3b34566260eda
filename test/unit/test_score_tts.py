"""TTS scores: DTW against a plain reference and dtw-python, mel-cepstra against pysptk, MCD / log-F0 RMSE /
V/UV error on real and harmonic signals, and the score_tts CLI end to end with and without an ASR model."""
import json
import math

import numpy as np
import pytest

from toolkit.audio.resample import resample
from toolkit.bin import score_asr
from toolkit.bin.score_tts import get_args, load_asr, read_scps
from toolkit.bin.score_tts import main as score_tts
from toolkit.data.audio_io import read_audio, write_audio
from toolkit.data.datadir import write_data_dir
from toolkit.metrics.dtw import dtw
from toolkit.metrics.tts_scores import (
    Analysis,
    compare,
    mcep_params,
    score_pair,
    sp_to_mcep,
    world_analysis,
    world_features,
)
from toolkit.utils.errors import ConfigError, DataError
from toolkit.utils.espeak import synthesize

TEXTS = {"utt1": "the cat sat on the mat", "utt2": "seven red boats sailed home"}


# ----- DTW -----
def reference_dtw(cost):
    """Cell-by-cell DTW, steps (1,0), (0,1), (1,1); backtrace ties: diagonal, then (i-1, j), then (i, j-1)."""
    rows, cols = cost.shape
    total = np.full((rows, cols), np.inf)
    for i in range(rows):
        for j in range(cols):
            before = [total[i - 1, j - 1] if i and j else np.inf, total[i - 1, j] if i else np.inf,
                      total[i, j - 1] if j else np.inf]
            total[i, j] = cost[i, j] + (0.0 if i == j == 0 else min(before))
    i, j, path = rows - 1, cols - 1, [(rows - 1, cols - 1)]
    while i or j:
        options = [(i - 1, j - 1), (i - 1, j), (i, j - 1)]
        i, j = min((p for p in options if p[0] >= 0 and p[1] >= 0), key=lambda p: total[p])
        path.append((i, j))
    return total[-1, -1], np.array(path[::-1])


SHAPES = [(1, 1), (1, 6), (5, 1), (9, 9), (23, 40), (61, 17)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["uniform", "integer ties"])
def test_dtw_equals_reference_dtw(shape, kind):
    rng = np.random.default_rng(sum(shape))
    cost = rng.random(shape) if kind == "uniform" else rng.integers(0, 3, shape).astype(float)
    total, path = dtw(cost)
    ref_total, ref_path = reference_dtw(cost)
    assert total == ref_total  # the same additions in the same order
    np.testing.assert_array_equal(path, ref_path)
    steps = np.diff(path, axis=0)
    assert set(map(tuple, steps)) <= {(0, 1), (1, 0), (1, 1)}


@pytest.mark.parametrize("shape", SHAPES)
def test_dtw_equals_dtw_python(shape):
    dtw_python = pytest.importorskip("dtw")
    cost = np.random.default_rng(7 + sum(shape)).random(shape)
    theirs = dtw_python.dtw(cost, step_pattern="symmetric1")
    total, path = dtw(cost)
    assert total == pytest.approx(theirs.distance, rel=1e-12)
    np.testing.assert_array_equal(path, np.stack([theirs.index1, theirs.index2], 1))


# ----- mel-cepstrum -----
def espeak(text, voice="en-us", rate=None):
    """float64 samples of espeak speech, resampled to `rate` when given."""
    audio, native = synthesize(text, voice)
    samples = audio.astype(np.float64) / 32768
    return (samples, native) if rate is None else (resample(samples, native, rate).astype(np.float64), rate)


@pytest.fixture(scope="module")
def speech():
    return espeak(TEXTS["utt1"])


@pytest.mark.filterwarnings("ignore:pkg_resources is deprecated")  # pysptk 1.0.1 imports it
def test_mel_cepstrum_equals_pysptk_sp2mc(speech):
    pysptk = pytest.importorskip("pysptk")
    sp = world_analysis(*speech)[1]
    for order, alpha in ((34, 0.45), (24, 0.42), (10, -0.2)):
        np.testing.assert_allclose(sp_to_mcep(sp, order, alpha), pysptk.sp2mc(sp, order, alpha), rtol=0, atol=1e-9)


def test_mel_cepstrum_with_alpha_zero_is_the_truncated_cepstrum(speech):
    sp = world_analysis(*speech)[1]
    cepstrum = np.fft.irfft(np.log(sp), axis=1)  # of the log power: 2x the amplitude's real cepstrum
    mcep = sp_to_mcep(sp, 24, 0.0)
    np.testing.assert_allclose(mcep[:, 0], cepstrum[:, 0] / 2, atol=1e-12)
    np.testing.assert_allclose(mcep[:, 1:], cepstrum[:, 1:25], atol=1e-12)


# ----- scores -----
def test_mcd_of_a_signal_with_itself_is_zero(speech):
    scores = score_pair(speech[0], speech[0], speech[1])
    assert scores["mcd"] == 0.0 and scores["f0_rmse"] == 0.0 and scores["vuv_error"] == 0.0
    assert scores["voiced_frames"] > 0.5 * scores["frames"]


def test_mcd_grows_with_added_noise(speech):
    samples, rate = speech
    noise = np.random.default_rng(0).standard_normal(len(samples))
    noise *= np.sqrt(np.mean(samples ** 2) / np.mean(noise ** 2))
    ref = world_features(samples, rate)
    mcds = [compare(ref, world_features(samples + noise * 10 ** (-snr / 20), rate))["mcd"] for snr in (40, 25, 10, 0)]
    assert 0 < mcds[0] < mcds[1] < mcds[2] < mcds[3]


def harmonic(f0, rate=16000, seconds=1.0):
    """A sum of 10 harmonics of f0 (amplitudes 1/k), peak 0.5."""
    t = np.arange(int(rate * seconds)) / rate
    wave = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 11))
    return 0.5 * wave / np.abs(wave).max()


@pytest.mark.parametrize("f0_method", ["harvest", "dio"])
def test_log_f0_rmse_of_tones_a_semitone_apart_is_a_semitone(f0_method):
    semitone = math.log(2) / 12  # 100 cents in natural-log units
    scores = score_pair(harmonic(150.0), harmonic(150.0 * 2 ** (1 / 12)), 16000, Analysis(f0_method=f0_method))
    assert scores["voiced_frames"] >= 0.95 * scores["frames"]
    assert scores["f0_rmse"] == pytest.approx(semitone, abs=semitone / 50)  # within 2 cents
    assert scores["f0_rmse"] * 1200 / math.log(2) == pytest.approx(100, abs=2)


def test_vuv_error_counts_the_frames_of_a_silenced_voiced_segment():
    """A steady tone (voiced throughout) against itself with 0.3 s silenced: on the DTW path every frame the
    synthesised side has unvoiced meets a voiced one, once (meeting it again would add a silent-vs-tone cost)."""
    tone = harmonic(150.0)
    silenced = tone.copy()
    silenced[int(0.4 * 16000):int(0.7 * 16000)] = 0.0
    assert np.all(world_features(tone, 16000)[1] > 0)
    unvoiced = int(np.sum(world_features(silenced, 16000)[1] == 0))
    assert abs(unvoiced - 60) <= 5  # 0.3 s of 5 ms frames, give or take the frames straddling its edges
    scores = score_pair(tone, silenced, 16000)
    assert round(scores["vuv_error"] * scores["frames"]) == unvoiced
    assert scores["voiced_frames"] == scores["frames"] - unvoiced
    assert scores["mcd"] > 0


# ----- CLI -----
@pytest.fixture(scope="module")
def tts_dir(tmp_path_factory):
    """ref.scp (en-us voice), hyp.scp (en-us+f3, slower, written at 16 kHz) and text of two sentences."""
    root = tmp_path_factory.mktemp("tts")
    scps = {"ref": {}, "hyp": {}}
    for utt, text in TEXTS.items():
        ref, rate = synthesize(text, "en-us")
        write_audio(str(root / f"{utt}_ref.wav"), ref, rate)
        hyp, hyp_rate = synthesize(text, "en-us+f3", rate=150)
        write_audio(str(root / f"{utt}_hyp.wav"), resample(hyp.astype(np.float32) / 32768, hyp_rate, 16000), 16000)
        scps["ref"][utt], scps["hyp"][utt] = str(root / f"{utt}_ref.wav"), str(root / f"{utt}_hyp.wav")
    for name, table in (*scps.items(), ("text", TEXTS)):
        (root / name).write_text("".join(f"{utt} {value}\n" for utt, value in table.items()))
    return root


def read_utt_scores(path):
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    return {line.split("\t")[0]: dict(zip(header[1:], line.split("\t")[1:])) for line in lines[1:]}


def test_cli_without_asr_matches_the_library(tts_dir, tmp_path):
    out = tmp_path / "score"
    (tmp_path / "rtf.json").write_text(json.dumps({"num_utts": 2, "rtf": 0.125}))
    score_tts(["--ref_scp", str(tts_dir / "ref"), "--hyp_scp", str(tts_dir / "hyp"), "--out_dir", str(out),
               "--nj", "2", "--f0_method", "dio", "--results_md", str(tmp_path / "RESULTS.md"),
               "--name", "espeak f3", "--rtf_json", str(tmp_path / "rtf.json")])
    score = json.loads((out / "score.json").read_text())
    assert "asr_cer" not in score and score["num_utts"] == 2 and score["f0_utts"] == 2 and score["rtf"] == 0.125
    per_utt = read_utt_scores(out / "utt_scores.txt")
    expected = {}
    for utt in TEXTS:
        ref, rate = read_audio(str(tts_dir / f"{utt}_ref.wav"), dtype="float64")
        hyp, hyp_rate = read_audio(str(tts_dir / f"{utt}_hyp.wav"), dtype="float64")
        hyp = resample(hyp, hyp_rate, rate).astype(np.float64)
        expected[utt] = score_pair(ref, hyp, rate, Analysis(f0_method="dio"))
        assert float(per_utt[utt]["mcd"]) == pytest.approx(expected[utt]["mcd"], abs=1e-4)
        assert int(per_utt[utt]["frames"]) == expected[utt]["frames"]
    for key in ("mcd", "f0_rmse", "vuv_error"):
        assert score[key] == pytest.approx(np.mean([expected[u][key] for u in TEXTS]), rel=1e-12)
    # another voice at another speed: a large spectral distance and a higher pitch (f3 is a female variant)
    assert score["mcd"] > 4.0 and score["f0_rmse"] > 0.1
    row = (tmp_path / "RESULTS.md").read_text().splitlines()[-1]
    assert row.startswith("| espeak f3 | ") and row.endswith(" | - | 2 | 0.125 |")


def test_cli_names_a_missing_synthesised_utterance(tts_dir, tmp_path, capsys):
    hyp = tmp_path / "hyp"
    hyp.write_text((tts_dir / "hyp").read_text().splitlines()[0] + "\n")
    with pytest.raises(DataError, match="utt2"):
        read_scps(str(tts_dir / "ref"), str(hyp))
    with pytest.raises(SystemExit):
        score_tts(["--ref_scp", str(tts_dir / "ref"), "--hyp_scp", str(hyp), "--out_dir", str(tmp_path / "o")])
    assert "no synthesised audio for 1 utterance(s)" in capsys.readouterr().err


def test_mcep_params_by_rate():
    assert mcep_params(16000) == (24, 0.42) and mcep_params(22050, alpha=0.5) == (34, 0.5)
    assert mcep_params(11025, 20, 0.36) == (20, 0.36)
    with pytest.raises(ConfigError, match="11025 Hz"):
        mcep_params(11025, order=20)


@pytest.fixture(scope="module")
def asr_exp(tmp_path_factory):
    """A tiny ASR experiment (char CTC/attention, one training step) made from an 'asr1 recipe dir' whose
    config.yaml holds paths relative to it, as asr.sh writes them. Returns (recipe dir, exp dir)."""
    import toolkit.tasks.asr  # noqa: F401  (registers the task)
    from toolkit.bin import compute_cmvn_stats, make_feats, tokenize_text, train, train_tokenizer

    recipe = tmp_path_factory.mktemp("asr1")
    wavs = {}
    for utt, text in TEXTS.items():
        samples, _ = espeak(text, rate=16000)
        write_audio(str(recipe / f"{utt}.wav"), samples, 16000)
        wavs[utt] = str(recipe / f"{utt}.wav")
    write_data_dir(str(recipe / "data" / "train"), wavs, {u: "spk" for u in TEXTS}, text=TEXTS)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(recipe)
        dump = "dump/fbank/train"
        make_feats.main(["--data_dir", "data/train", "--out_dir", dump, "--feat_type", "fbank", "--nj", "1"])
        compute_cmvn_stats.main(["--feats_scp", f"{dump}/feats.scp", "--out", f"{dump}/cmvn.ark"])
        train_tokenizer.main(["--token_type", "char", "--text", "data/train/text", "--out_dir", "data/token_list"])
        tokenize_text.main(["--token_dir", "data/token_list", "--text", f"{dump}/text", "--out", f"{dump}/token",
                            "--out_ids", f"{dump}/token_int"])
        train.main(["--task", "asr", "--token_list", "data/token_list/tokens.txt", "--cmvn", f"{dump}/cmvn.ark",
                    "--train_data_dir", dump, "--valid_data_dir", dump, "--output_dir", "exp/asr_tiny",
                    "--encoder_conf", "{output_size: 16, attention_heads: 2, linear_units: 32, num_blocks: 1}",
                    "--decoder_conf", "{attention_heads: 2, linear_units: 32, num_blocks: 1}",
                    "--batch_type", "static", "--batch_size", "2", "--max_epoch", "1", "--tensorboard", "false"])
    return recipe, recipe / "exp" / "asr_tiny"


@pytest.fixture(scope="module")
def asr_exp_frontend(asr_exp):
    """The same tiny model trained on the audio with a frontend (features computed inside the model)."""
    from toolkit.bin import train

    recipe, _ = asr_exp
    raw = recipe / "dump" / "raw" / "train"
    raw.mkdir(parents=True)
    for name in ("wav.scp", "utt2spk", "text", "token_int"):
        (raw / name).write_text((recipe / "dump" / "fbank" / "train" / name).read_text())
    (raw / "utt2num_samples").write_text("".join(f"{utt} {len(read_audio(str(recipe / f'{utt}.wav'))[0])}\n"
                                                 for utt in TEXTS))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(recipe)
        train.main(["--task", "asr", "--token_list", "data/token_list/tokens.txt",
                    "--cmvn", "dump/fbank/train/cmvn.ark", "--frontend_conf", "{feat_type: fbank}",
                    "--train_data_dir", str(raw.relative_to(recipe)), "--valid_data_dir", str(raw.relative_to(recipe)),
                    "--output_dir", "exp/asr_tiny_raw",
                    "--encoder_conf", "{output_size: 16, attention_heads: 2, linear_units: 32, num_blocks: 1}",
                    "--decoder_conf", "{attention_heads: 2, linear_units: 32, num_blocks: 1}",
                    "--batch_type", "static", "--batch_size", "2", "--max_epoch", "1", "--tensorboard", "false"])
    return recipe / "exp" / "asr_tiny_raw"


@pytest.mark.parametrize(("model", "mode", "hyp_scp"), [
    ("asr_exp", "ctc_greedy", "hyp"), ("asr_exp", "attention", "ref"), ("asr_exp_frontend", "ctc_greedy", "ref")])
def test_cli_with_asr_cer_equals_score_asr_on_its_transcripts(tts_dir, tmp_path, monkeypatch, request, model, mode,
                                                              hyp_scp):
    """hyp: 16 kHz like the ASR model; ref (scored against itself): 22.05 kHz, resampled for the ASR. The model
    decodes dumped-style features computed here, or audio with its own frontend."""
    exp = request.getfixturevalue(model)
    exp = exp[1] if isinstance(exp, tuple) else exp
    monkeypatch.chdir(tmp_path)  # not the ASR recipe dir: config.yaml's relative paths must still resolve
    out = tmp_path / "score"
    score_tts(["--ref_scp", str(tts_dir / "ref"), "--hyp_scp", str(tts_dir / hyp_scp), "--out_dir", str(out),
               "--text", str(tts_dir / "text"), "--asr_model_dir", str(exp), "--asr_model_file", "1epoch.pth",
               "--asr_mode", mode, "--asr_beam", "2", "--f0_method", "dio"])
    score = json.loads((out / "score.json").read_text())
    assert set(score) == {"mcd", "f0_rmse", "vuv_error", "asr_cer", "num_utts", "f0_utts"}
    assert math.isfinite(score["asr_cer"]) and score["asr_cer"] >= 0
    hyps = dict(line.partition(" ")[::2] for line in (out / "asr_text").read_text().splitlines())
    assert set(hyps) == set(TEXTS)
    score_asr.main(["--ref", str(tts_dir / "text"), "--hyp", str(out / "asr_text"), "--out_dir", str(tmp_path / "asr")])
    assert score["asr_cer"] == json.loads((tmp_path / "asr" / "score.json").read_text())["cer"]
    per_utt = read_utt_scores(out / "utt_scores.txt")
    assert all(float(per_utt[u]["asr_cer"]) >= 0 for u in TEXTS)


def test_asr_feature_config_missing_is_a_clear_error(tts_dir, asr_exp, tmp_path):
    recipe, exp = asr_exp
    (recipe / "dump" / "fbank" / "train" / "feat_conf.yaml").rename(recipe / "feat_conf.yaml")
    try:
        args = ["--ref_scp", str(tts_dir / "ref"), "--hyp_scp", str(tts_dir / "hyp"), "--out_dir", str(tmp_path),
                "--text", str(tts_dir / "text"), "--asr_model_dir", str(exp), "--asr_checkpoint", "1epoch.pth",
                "--asr_mode", "ctc_greedy", "--f0_method", "dio"]
        with pytest.raises(ConfigError, match="--asr_feat_conf"):
            load_asr(get_args(args))
        score_tts(args + ["--asr_feat_conf", str(recipe / "feat_conf.yaml")])
        assert "asr_cer" in json.loads((tmp_path / "score.json").read_text())
    finally:
        (recipe / "feat_conf.yaml").rename(recipe / "dump" / "fbank" / "train" / "feat_conf.yaml")
