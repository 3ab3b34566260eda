"""egs/mini_synth/asr1 at ci size: every existing stage runs and leaves usable files; then a
--feats_type raw run (features computed inside the model) over the same data."""
import json
import math

import kaldiio
import numpy as np

from toolkit.data.tables import read_table
from toolkit.utils.config import load_config


def test_mini_synth_asr1_ci_all_stages(recipe, monkeypatch):
    workdir, run = recipe("mini_synth", "asr1")
    proc = run("--corpus_size", "ci")
    monkeypatch.chdir(workdir)  # scp files hold paths relative to the recipe dir
    for dset in ("train", "dev", "test"):
        feats = dict(kaldiio.load_scp(str(workdir / "dump" / "fbank" / dset / "feats.scp")))
        text = read_table(workdir / "dump" / "fbank" / dset / "text")
        token_int = read_table(workdir / "dump" / "fbank" / dset / "token_int")
        assert set(feats) == set(text) == set(token_int) and len(feats) >= 20
        num_frames = read_table(workdir / "dump" / "fbank" / dset / "utt2num_frames")
        for utt, mat in feats.items():
            assert mat.shape == (int(num_frames[utt]), 80)
            assert np.isfinite(mat).all()
    stats = kaldiio.load_mat(str(workdir / "dump" / "fbank" / "train" / "cmvn.ark"))
    assert stats.shape == (2, 81) and stats[0, -1] == sum(
        int(n) for n in read_table(workdir / "dump" / "fbank" / "train" / "utt2num_frames").values())
    tokens = (workdir / "data" / "token_list" / "unigram100" / "tokens.txt").read_text().split()
    assert tokens[0] == "<blank>" and tokens[1] == "<unk>" and tokens[-1] == "<sos/eos>"
    assert len(tokens) == len(set(tokens))
    assert "hours" in proc.stdout and "feat_dim" in proc.stdout

    # the LM stage trained through the shared trainer and beat a uniform guess over the vocabulary
    selection = json.loads((workdir / "exp" / "lm" / "selection.json").read_text())
    best = selection["ranking"]["valid loss min"][0]
    assert selection["history"][str(best)]["valid.loss"] < math.log(len(tokens)) - 1.0
    assert (workdir / "exp" / "lm" / "valid.loss.best.pth").exists()
    assert "best epoch" in proc.stdout

    # ASR training, averaging, decoding in 2 jobs and scoring produced their files
    asr = workdir / "exp" / "asr_train_asr_ci"
    assert (asr / "valid.acc.ave.pth").exists() and (asr / "images" / "acc.png").exists()
    decode = asr / "decode_asr_valid.acc.ave" / "test"
    hyps = read_table(decode / "text", allow_empty=True)
    assert set(hyps) == set(read_table(workdir / "dump" / "fbank" / "test" / "text"))
    score = json.loads((decode / "score.json").read_text())
    assert score["num_utts"] == len(hyps) and score["ref_words"] > 0 and score["rtf"] > 0
    assert "| test decode_asr_valid.acc.ave |" in (asr / "RESULTS.md").read_text()

    # a single stage reruns alone from files on disk
    rerun = run("--corpus_size", "ci", "--stage", "10", "--stop_stage", "10")
    assert "Stage 10" in rerun.stdout and "Stage 3" not in rerun.stdout

    # --feats_type raw on the same data (stages 3-9, one epoch, no LM): nothing dumped, the same CMVN stats
    # computed from the audio, the feature config carried into the experiment, decoding from the audio
    run("--corpus_size", "ci", "--stage", "3", "--stop_stage", "9", "--feats_type", "raw", "--use_lm", "false",
        "--asr_args", "--max_epoch 1", "--nbest_average", "1")
    raw, fbank = workdir / "dump" / "raw", workdir / "dump" / "fbank"
    assert not list(raw.glob("*/feats.scp")) and (raw / "test" / "utt2num_samples").exists()
    np.testing.assert_allclose(kaldiio.load_mat(str(raw / "train" / "cmvn.ark")),
                               kaldiio.load_mat(str(fbank / "train" / "cmvn.ark")), rtol=1e-12)
    feat_conf = load_config(fbank / "train" / "feat_conf.yaml")
    assert load_config(raw / "train" / "feat_conf.yaml") == feat_conf
    raw_asr = workdir / "exp" / "asr_train_asr_ci_raw"
    assert load_config(raw_asr / "config.yaml")["frontend_conf"] == feat_conf
    raw_hyps = read_table(raw_asr / "decode_asr_valid.acc.ave" / "test" / "text", allow_empty=True)
    assert set(raw_hyps) == set(hyps)
    assert (asr / "valid.acc.ave.pth").exists()  # the dumped-feature experiment is left alone
