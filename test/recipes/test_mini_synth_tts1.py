"""egs/mini_synth/tts1 at ci size: every stage runs and leaves usable files."""
import json

import kaldiio
import numpy as np
import soundfile

from toolkit.data.tables import read_table


def test_mini_synth_tts1_ci_all_stages(recipe, monkeypatch):
    workdir, run = recipe("mini_synth", "tts1")
    proc = run("--corpus_size", "ci")
    monkeypatch.chdir(workdir)  # scp files hold paths relative to the recipe dir
    dump = workdir / "dump"
    for dset in ("train_filtered", "dev_filtered"):  # durations cover every frame, one value per phoneme
        frames = read_table(dump / dset / "utt2num_frames")
        tokens = read_table(dump / dset / "token_int")
        durations = read_table(dump / dset / "durations")
        assert set(durations) == set(frames)
        for utt, value in durations.items():
            counts = np.array(value.split(), dtype=int)
            assert counts.sum() == int(frames[utt]) and len(counts) == len(tokens[utt].split())
            assert counts.min() >= 1
        for name in ("pitch", "energy"):
            values = read_table(dump / dset / name)
            assert all(len(values[u].split()) == len(tokens[u].split()) for u in durations)
    assert json.loads((dump / "train_filtered" / "prosody_stats.json").read_text())["pitch"]["std"] > 0

    exp = workdir / "exp" / "tts_train_fastspeech2_ci"
    texts = read_table(dump / "test" / "text")
    for voc in ("hifigan", "griffin_lim"):
        out = exp / f"synth_{voc}" / "test"
        wavs = read_table(out / "wav.scp")
        assert set(wavs) == set(texts)
        feats = read_table(out / "feats.scp")
        for utt, path in wavs.items():  # 16 kHz audio, one hop of samples per predicted frame
            info = soundfile.info(path)
            assert info.samplerate == 16000 and info.frames == 256 * len(kaldiio.load_mat(feats[utt]))
        score = json.loads((out / "score.json").read_text())
        assert score["num_utts"] == len(texts)
        assert all(isinstance(score[k], float) for k in ("mcd", "f0_rmse", "vuv_error"))
        assert "asr_cer" not in score  # no ASR model in this tree
    assert len(list((exp / "images").glob("mel_test_*.png"))) == 3
    results = (exp / "RESULTS.md").read_text()
    assert "| test hifigan |" in results and "| test griffin_lim |" in results
    assert "Stage 10" in proc.stdout and "the ASR CER is not scored" in proc.stdout
