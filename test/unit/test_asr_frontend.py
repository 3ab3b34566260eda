"""Features computed inside the ASR model (--frontend_conf) against the dumped path: the same
features as make_feats read back with kaldiio, the same CMVN stats, the same training run and
the same hypotheses when decoding audio (--data_dir, --wav_scp) instead of feats.scp."""
import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

import toolkit.tasks.asr  # noqa: F401  (registers the task)
from toolkit.bin import (asr_inference, compute_cmvn_stats, make_feats, synth_corpus, tokenize_text, train,
                         train_tokenizer)
from toolkit.data.collate import PadCollate
from toolkit.data.dataset import DataDirDataset
from toolkit.data.datadir import write_data_dir
from toolkit.data.tables import read_table
from toolkit.layers.frontend import Frontend
from toolkit.train.checkpoint import latest_checkpoint, load_checkpoint
from toolkit.utils.config import load_config
from toolkit.utils.errors import ConfigError, DataError

FEAT_CONFS = {
    "fbank": {"feat_type": "fbank", "num_mel_bins": 40, "frame_length": 25, "frame_shift": 10, "dither": 0.0},
    "mfcc": {"feat_type": "mfcc", "num_ceps": 13, "num_mel_bins": 23, "use_energy": True, "snip_edges": False},
}
SEGMENTED = "segmented"  # a data dir whose utterances are segments of the training recordings


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A tiny synthetic corpus and a segmented copy of three training recordings; fbank dumps (make_feats) of
    train and dev, an mfcc dump of the segments; char tokens (token_int in the dump dirs and the audio data
    dirs) and the CMVN stats of the dumped training set."""
    root = tmp_path_factory.mktemp("frontend")
    synth_corpus.main(["--out_dir", str(root / "corpus"), "--size", "tiny", "--tasks", "asr", "--nj", "1"])
    data = root / "corpus" / "data"
    wav_scp = read_table(data / "train" / "wav.scp")
    lengths = read_table(data / "train" / "utt2num_samples")
    segments, utt2spk = {}, {}
    for reco in list(wav_scp)[:3]:
        half = int(lengths[reco]) / 16000 / 2
        for part, (start, end) in enumerate(((0.0, half), (half - 0.2, -1.0))):
            segments[f"{reco}-{part}"] = (reco, start, end)
            utt2spk[f"{reco}-{part}"] = reco.split("-")[0]
    write_data_dir(str(data / SEGMENTED), {r: wav_scp[r] for r in list(wav_scp)[:3]}, utt2spk, segments=segments)
    for name, conf in FEAT_CONFS.items():
        (root / f"{name}.yaml").write_text(yaml.safe_dump(conf))
    for name in ("train", "dev"):
        make_feats.main(["--data_dir", str(data / name), "--out_dir", str(root / "dump" / name),
                         "--feat_conf", str(root / "fbank.yaml"), "--nj", "1"])
    make_feats.main(["--data_dir", str(data / SEGMENTED), "--out_dir", str(root / "dump_mfcc" / SEGMENTED),
                     "--feat_conf", str(root / "mfcc.yaml"), "--nj", "1"])
    train_tokenizer.main(["--token_type", "char", "--text", str(data / "train" / "text"),
                          "--out_dir", str(root / "tokens")])
    for name in ("train", "dev"):
        dump = root / "dump" / name
        tokenize_text.main(["--token_dir", str(root / "tokens"), "--text", str(dump / "text"),
                            "--out", str(dump / "token"), "--out_ids", str(dump / "token_int")])
        (data / name / "token_int").write_text((dump / "token_int").read_text())
    compute_cmvn_stats.main(["--feats_scp", str(root / "dump" / "train" / "feats.scp"),
                             "--out", str(root / "cmvn.ark")])
    return root


@pytest.mark.parametrize("dump, data", [("dump", "train"), ("dump_mfcc", SEGMENTED)])
def test_frontend_equals_dumped_features(corpus, dump, data):
    """One padded batch of the data dir's audio (segments cut as make_feats cuts them) through the frontend."""
    frontend = Frontend(load_config(corpus / dump / data / "feat_conf.yaml"))
    dataset = DataDirDataset(str(corpus / "corpus" / "data" / data), {"speech": ("wav.scp", "audio")})
    utts, batch = PadCollate()([dataset[utt] for utt in dataset.keys])
    feats, frames = frontend(batch["speech"], batch["speech_lengths"])
    assert feats.shape == (len(utts), frames.max(), frontend.output_size)
    dumped = dict(kaldiio.load_scp(str(corpus / dump / data / "feats.scp")))
    num_frames = read_table(corpus / dump / data / "utt2num_frames")
    assert sorted(dumped) == utts
    for utt, row, n, samples in zip(utts, feats, frames.tolist(), batch["speech_lengths"].tolist()):
        assert row[:n].shape == dumped[utt].shape
        assert np.abs(row[:n].numpy() - dumped[utt]).max() <= 1e-4
        assert not row[n:].any()  # zero padding, as collated dumped features
        assert frontend.num_frames(samples) == n == int(num_frames[utt])  # batch lengths from utt2num_samples


def test_frontend_checks_its_input():
    frontend = Frontend(FEAT_CONFS["fbank"])
    with pytest.raises(DataError, match="shorter than one frame"):
        frontend(torch.zeros(2, 1000), torch.tensor([1000, 300]))
    with pytest.raises(DataError, match="channel: K"):
        frontend(torch.zeros(1, 1000, 2), torch.tensor([1000]))
    left, right = torch.rand(1, 800, 2).unbind(-1)
    stereo = torch.stack([left, right], -1)
    pick = Frontend({**FEAT_CONFS["fbank"], "channel": 1})
    assert torch.equal(pick(stereo, torch.tensor([800]))[0], frontend(right, torch.tensor([800]))[0])
    with pytest.raises(DataError, match="asks for channel 1 but the audio has 1"):
        pick(right, torch.tensor([800]))
    with pytest.raises(ConfigError, match="feat_type must be one of fbank, mfcc"):
        Frontend({"feat_type": "logmel"})
    with pytest.raises(ConfigError, match="unknown fbank option"):
        Frontend({"feat_type": "fbank", "num_mels": 40})


def test_cmvn_stats_from_audio_equal_stats_from_dumped_features(corpus, tmp_path):
    wav_scp = str(corpus / "corpus" / "data" / "train" / "wav.scp")
    compute_cmvn_stats.main(["--wav_scp", wav_scp, "--feat_conf", str(corpus / "fbank.yaml"),
                             "--out", str(tmp_path / "one.ark"), "--out_feat_conf", str(tmp_path / "conf.yaml")])
    compute_cmvn_stats.main(["--wav_scp", wav_scp, "--feat_type", "fbank", "--feat_conf", str(corpus / "fbank.yaml"),
                             "--nj", "2", "--out", str(tmp_path / "two.ark")])
    reference = kaldiio.load_mat(str(corpus / "cmvn.ark"))
    frames = np.concatenate([m for _, m in kaldiio.load_scp_sequential(str(corpus / "dump" / "train" / "feats.scp"))])
    np.testing.assert_allclose(reference[:, :-1], [frames.sum(0, dtype=np.float64),
                                                  np.square(frames, dtype=np.float64).sum(0)], rtol=1e-9)
    assert reference[0, -1] == len(frames)
    assert np.array_equal(kaldiio.load_mat(str(tmp_path / "one.ark")), reference)
    np.testing.assert_allclose(kaldiio.load_mat(str(tmp_path / "two.ark")), reference, rtol=1e-12)
    assert load_config(tmp_path / "conf.yaml") == load_config(corpus / "dump" / "train" / "feat_conf.yaml")
    # segments: the stats of the segmented utterances' features
    seg = corpus / "corpus" / "data" / SEGMENTED
    compute_cmvn_stats.main(["--wav_scp", str(seg / "wav.scp"), "--segments", str(seg / "segments"),
                             "--feat_conf", str(corpus / "mfcc.yaml"), "--out", str(tmp_path / "seg.ark")])
    compute_cmvn_stats.main(["--feats_scp", str(corpus / "dump_mfcc" / SEGMENTED / "feats.scp"),
                             "--out", str(tmp_path / "seg_dumped.ark")])
    assert np.array_equal(kaldiio.load_mat(str(tmp_path / "seg.ark")),
                          kaldiio.load_mat(str(tmp_path / "seg_dumped.ark")))


def test_cmvn_stats_from_audio_name_a_bad_utterance(corpus, tmp_path, capsys):
    path = tmp_path / "rate8k.wav"
    sf.write(path, np.zeros(8000, dtype=np.float32), 8000)
    (tmp_path / "wav.scp").write_text(f"bad-utt {path}\n")
    with pytest.raises(SystemExit):  # cli_main prints the error and exits 1
        compute_cmvn_stats.main(["--wav_scp", str(tmp_path / "wav.scp"), "--feat_conf", str(corpus / "fbank.yaml"),
                                 "--out", str(tmp_path / "x.ark")])
    err = capsys.readouterr().err
    assert "utterance 'bad-utt'" in err and "8000 Hz" in err and "16000 Hz" in err


def _train(corpus, out, raw):
    """One epoch of a tiny ASR model on the dumped features, or (raw) on the audio with the same config."""
    dump = corpus / "dump"
    data = (corpus / "corpus" / "data") if raw else dump
    frontend = ["--frontend_conf", (dump / "train" / "feat_conf.yaml").read_text()] if raw else []
    train.main(["--task", "asr", "--token_list", str(corpus / "tokens" / "tokens.txt"),
                "--cmvn", str(corpus / "cmvn.ark"), *frontend, "--train_data_dir", str(data / "train"),
                "--valid_data_dir", str(data / "dev"), "--output_dir", str(out),
                "--encoder_conf", "{output_size: 16, attention_heads: 2, linear_units: 32, num_blocks: 1}",
                "--decoder_conf", "{attention_heads: 2, linear_units: 32, num_blocks: 1}",
                "--batch_type", "numel", "--batch_bins", "600", "--max_epoch", "1", "--tensorboard", "false",
                "--seed", "3"])
    return load_checkpoint(latest_checkpoint(str(out)), weights_only=False)


def test_training_and_decoding_on_audio_equal_the_dumped_path(corpus, tmp_path, capsys):
    """Same batches (frame budgets from utt2num_samples), same CMVN, same weights, same hypotheses."""
    dumped = _train(corpus, tmp_path / "fbank", raw=False)
    raw = _train(corpus, tmp_path / "raw", raw=True)
    assert dumped["step"] == raw["step"] > 1
    assert dumped["model"].keys() == raw["model"].keys()
    for key, value in dumped["model"].items():
        torch.testing.assert_close(raw["model"][key], value, rtol=1e-5, atol=1e-6)
    config = load_config(tmp_path / "raw" / "config.yaml")
    assert config["frontend_conf"] == load_config(corpus / "dump" / "train" / "feat_conf.yaml")

    checkpoint = latest_checkpoint(str(tmp_path / "raw")).rsplit("/", 1)[1]
    common = ["--checkpoint", checkpoint, "--mode", "attention", "--beam", "2"]
    dev = corpus / "corpus" / "data" / "dev"
    runs = {"dumped": ["--model_dir", str(tmp_path / "fbank"), "--data_dir", str(corpus / "dump" / "dev")],
            "audio_dir": ["--model_dir", str(tmp_path / "raw"), "--data_dir", str(dev)],
            "wav_scp": ["--model_dir", str(tmp_path / "raw"), "--wav_scp", str(dev / "wav.scp")]}
    hyps = {}
    for name, args in runs.items():
        asr_inference.main([*args, *common, "--out_dir", str(tmp_path / name)])
        hyps[name] = read_table(tmp_path / name / "token", allow_empty=True)
    assert set(hyps["dumped"]) == set(read_table(dev / "text"))
    assert hyps["audio_dir"] == hyps["dumped"] == hyps["wav_scp"]
    assert any(hyps["dumped"].values())
    audio = sum(int(n) for n in read_table(dev / "utt2num_samples").values()) / 16000
    assert load_config(tmp_path / "wav_scp" / "rtf.json")["audio_seconds"] == pytest.approx(audio)

    # a model trained on dumped features cannot take audio: the error names the fix
    capsys.readouterr()
    with pytest.raises(SystemExit):
        asr_inference.main(["--model_dir", str(tmp_path / "fbank"), "--wav_scp", str(dev / "wav.scp"), *common,
                            "--out_dir", str(tmp_path / "bad")])
    err = capsys.readouterr().err
    assert "has no frontend" in err and "--data_dir" in err


def test_task_rejects_cmvn_stats_of_another_dimension(corpus, tmp_path):
    from toolkit.bin.train import build_parser
    from toolkit.tasks import get_task
    from toolkit.text.token_list import write_token_list
    from toolkit.utils.config import parse_args

    write_token_list(str(tmp_path / "tokens.txt"), ["<blank>", "<unk>", "a", "<sos/eos>"])
    kaldiio.save_mat(str(tmp_path / "cmvn.ark"), np.ones((2, 81)))
    args = parse_args(build_parser("asr"), [
        "--task", "asr", "--token_list", str(tmp_path / "tokens.txt"), "--cmvn", str(tmp_path / "cmvn.ark"),
        "--frontend_conf", yaml.safe_dump(FEAT_CONFS["fbank"]), "--output_dir", str(tmp_path),
        "--train_data_dir", str(tmp_path), "--valid_data_dir", str(tmp_path)])
    with pytest.raises(ConfigError, match="stats of dimension 80.*40-dimensional"):
        get_task("asr").build_model(args)
