"""Per-token durations from CTC log-posteriors: contract, exactness, known alignments, the CLI."""
import itertools

import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch

from toolkit.align import METHODS, CTCAligner, ctc_durations, durations_from_log_probs, viterbi_durations
from toolkit.data.tables import read_table, write_table
from toolkit.features.logmel import LogMel
from toolkit.text.token_list import write_token_list
from toolkit.utils.errors import ConfigError, DataError

VOCAB = 8  # blank 0, tokens 1..7


def _log_softmax(logits):
    return torch.log_softmax(torch.as_tensor(logits, dtype=torch.float64), -1).numpy()


def _ids_without_repeats(rng, length):
    ids = [int(rng.integers(1, VOCAB))]
    while len(ids) < length:
        ids.append(int(rng.choice([i for i in range(1, VOCAB) if i != ids[-1]])))
    return np.array(ids)


def _emissions(ids, durations, rng, peaky, spike=0.0, noise=0.5):
    """Log-posteriors [T, V] of a known alignment: token k owns its segment of `durations` frames.

    Non-peaky: the owner wins every frame of its segment. Peaky (CTC-like): the blank wins
    every frame but one spike per segment (at fraction `spike` of it); the owner still leads
    the non-blank outputs on its blank frames.
    """
    owner = np.repeat(np.arange(len(ids)), durations)
    logits = rng.normal(0.0, noise, (len(owner), VOCAB))
    logits[np.arange(len(owner)), ids[owner]] += 4.0
    if peaky:
        logits[:, 0] += 10.0
        starts = np.concatenate(([0], np.cumsum(durations)[:-1]))
        spikes = starts + (spike * (np.asarray(durations) - 1)).astype(int)
        logits[spikes, 0] -= 20.0
    return _log_softmax(logits)


@pytest.mark.parametrize("peaky", [False, True])
@pytest.mark.parametrize("method", METHODS)
def test_durations_are_positive_and_sum_to_frames_on_random_emissions(method, peaky):
    rng = np.random.default_rng(1)
    for trial in range(30):
        num_tokens = int(rng.integers(1, 12))
        ids = _ids_without_repeats(rng, num_tokens) if method == "ctc" else rng.integers(1, VOCAB, num_tokens)
        frames = num_tokens + int(rng.integers(0, 3 * num_tokens + 1)) if trial % 5 else num_tokens
        logits = rng.normal(0.0, 3.0, (frames, VOCAB))
        if peaky:
            logits[:, 0] += 8.0
            logits[rng.random(frames) < 0.2, 0] -= 16.0
        durations = durations_from_log_probs(_log_softmax(logits), ids, method)
        assert len(durations) == num_tokens and durations.min() >= 1 and durations.sum() == frames
        if frames == num_tokens:
            assert (durations == 1).all()


def test_viterbi_finds_the_best_monotonic_path_by_exhaustive_search():
    rng = np.random.default_rng(2)
    for _ in range(20):
        frames, num_tokens = int(rng.integers(3, 9)), int(rng.integers(1, 4))
        if frames < num_tokens:
            continue
        log_probs = _log_softmax(rng.normal(0.0, 2.0, (frames, VOCAB)))
        ids = rng.integers(1, VOCAB, num_tokens)
        emit = log_probs[:, ids]

        def score(durations, emit=emit):
            return emit[np.arange(len(emit)), np.repeat(np.arange(len(durations)), durations)].sum()

        # every composition of `frames` into num_tokens positive parts
        best = max(score(np.diff([0, *cuts, frames]))
                   for cuts in itertools.combinations(range(1, frames), num_tokens - 1))
        assert score(viterbi_durations(log_probs, ids)) == pytest.approx(best, abs=1e-9)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("peaky", [False, True])
def test_known_segments_are_recovered(method, peaky):
    rng = np.random.default_rng(3)
    for _ in range(10):
        ids = _ids_without_repeats(rng, int(rng.integers(2, 10)))
        truth = rng.integers(1, 9, len(ids))
        durations = durations_from_log_probs(_emissions(ids, truth, rng, peaky), ids, method)
        np.testing.assert_array_equal(durations, truth)


def test_viterbi_places_boundaries_by_the_non_blank_posteriors_when_spikes_are_mid_segment():
    rng = np.random.default_rng(4)
    for _ in range(10):
        ids = _ids_without_repeats(rng, int(rng.integers(2, 10)))
        truth = rng.integers(3, 9, len(ids))
        log_probs = _emissions(ids, truth, rng, peaky=True, spike=0.5)
        assert (log_probs.argmax(-1) == 0).mean() > 0.6  # mostly blank frames: really peaky
        np.testing.assert_array_equal(viterbi_durations(log_probs, ids), truth)
        # the CTC rule cuts at the spikes instead: boundaries move to the middle of segments
        cuts = np.cumsum(ctc_durations(log_probs, ids))[:-1]
        starts = np.cumsum(truth)[:-1]
        assert ((cuts > starts) & (cuts < starts + truth[1:])).all()


def test_too_few_frames_is_a_data_error():
    log_probs = _log_softmax(np.zeros((3, VOCAB)))
    for method in METHODS:
        with pytest.raises(DataError, match="3 frames for 4 tokens"):
            durations_from_log_probs(log_probs, [1, 2, 3, 4], method)
    # CTC needs a blank between repeats; the token-only Viterbi does not
    with pytest.raises(DataError, match="repeat"):
        ctc_durations(log_probs, [2, 2, 2])
    np.testing.assert_array_equal(viterbi_durations(log_probs, [2, 2, 2]), [1, 1, 1])
    with pytest.raises(DataError, match="blank"):
        viterbi_durations(log_probs, [0, 1])


# ---- the aligner experiment and the CLI -------------------------------------------------------

RATE, HOP = 16000, 256
TOKENS = ["<blank>", "<unk>", "a", "e", "i", "o", "u", "<sos/eos>"]


def _write_set(root, rng, count):
    """A dump dir with log-mel feats.scp/utt2num_frames of real written wav files, and token_int."""
    root.mkdir(parents=True)
    logmel = LogMel(sample_rate=RATE, n_fft=1024, hop_length=HOP)
    feats, frames, token_int, utt2spk = {}, {}, {}, {}
    for i in range(count):
        utt = f"spk1-utt{i:02d}"
        samples = int(rng.integers(RATE // 2, RATE)) + 1
        t = np.arange(samples) / RATE
        wave = 0.3 * np.sin(2 * np.pi * rng.uniform(100, 300) * t) + 0.01 * rng.normal(size=samples)
        sf.write(root / f"{utt}.wav", wave.astype(np.float32), RATE)
        audio, _ = sf.read(root / f"{utt}.wav", dtype="float32")
        feats[utt] = logmel(torch.from_numpy(audio)).numpy()
        frames[utt] = len(feats[utt])
        token_int[utt] = " ".join(str(x) for x in rng.integers(2, len(TOKENS) - 1, int(rng.integers(3, 8))))
        utt2spk[utt] = "spk1"
    with kaldiio.WriteHelper(f"ark,scp:{root}/feats.ark,{root}/feats.scp") as writer:
        for utt in sorted(feats):
            writer(utt, feats[utt])
    write_table(root / "utt2num_frames", frames)
    write_table(root / "token_int", token_int)
    write_table(root / "utt2spk", utt2spk)
    write_table(root / "spk2utt", {"spk1": " ".join(sorted(utt2spk))})
    return feats


def _train_aligner(root, exp, input_layer):
    """A CTC-only ASR experiment trained one tiny epoch on root/train."""
    from toolkit.bin import train

    encoder_conf = f"{{output_size: 16, attention_heads: 2, linear_units: 32, num_blocks: 1, input_layer: {input_layer}}}"
    train.main(["--task", "asr", "--token_list", str(root / "tokens.txt"), "--train_data_dir", str(root / "train"),
                "--valid_data_dir", str(root / "train"), "--output_dir", str(exp), "--encoder", "transformer",
                "--encoder_conf", encoder_conf, "--decoder", "none", "--model_conf", "{ctc_weight: 1.0}",
                "--batch_type", "static", "--batch_size", "3", "--max_epoch", "1", "--tensorboard", "false"])


@pytest.fixture(scope="module")
def aligner_exp(tmp_path_factory):
    """A frame-rate CTC aligner (input_layer linear) trained one tiny epoch on log-mel features."""
    root = tmp_path_factory.mktemp("aligner")
    rng = np.random.default_rng(0)
    feats = _write_set(root / "train", rng, 6)
    write_token_list(str(root / "tokens.txt"), TOKENS)
    _train_aligner(root, root / "exp", "linear")
    return root, feats


def _cli(root, out, token_int=None, extra=()):
    from toolkit.bin import compute_durations
    compute_durations.main(["--model_dir", str(root / "exp"), "--feats_scp", str(root / "train" / "feats.scp"),
                            "--token_int", str(token_int or root / "train" / "token_int"), "--out", str(out),
                            "--batch_size", "4", *extra])


@pytest.mark.parametrize("method", METHODS)
def test_compute_durations_cli_covers_every_utterance(aligner_exp, tmp_path, capsys, method):
    root, feats = aligner_exp
    out = tmp_path / "durations"
    _cli(root, out, extra=["--method", method])
    lines = out.read_text().splitlines()
    assert [line.split()[0] for line in lines] == sorted(feats)
    token_int = read_table(root / "train" / "token_int")
    for utt, value in read_table(out).items():
        durations = np.array(value.split(), dtype=int)
        assert len(durations) == len(token_int[utt].split())
        assert durations.min() >= 1 and durations.sum() == len(feats[utt])
    assert "6 utterances" in capsys.readouterr().err


def test_compute_durations_cli_errors_name_the_utterance(aligner_exp, tmp_path, capsys):
    root, feats = aligner_exp
    token_int = read_table(root / "train" / "token_int")
    short = sorted(feats)[1]
    token_int[short] = " ".join(["2"] * (len(feats[short]) + 1))  # more tokens than frames
    write_table(tmp_path / "token_int", token_int)
    with pytest.raises(SystemExit):
        _cli(root, tmp_path / "durations", tmp_path / "token_int")
    assert short in capsys.readouterr().err and not (tmp_path / "durations").exists()
    missing = sorted(feats)[2]
    del token_int[missing]
    token_int[short] = "2 3"
    write_table(tmp_path / "token_int", token_int)
    with pytest.raises(SystemExit):
        _cli(root, tmp_path / "durations", tmp_path / "token_int")
    assert missing in capsys.readouterr().err


def test_aligner_refuses_a_subsampling_encoder(aligner_exp):
    root, feats = aligner_exp
    _train_aligner(root, root / "exp_conv2d", "conv2d")
    aligner = CTCAligner(str(root / "exp_conv2d"))
    utt = min(feats)
    with pytest.raises(ConfigError, match="does not subsample time"):
        aligner.durations([utt], [feats[utt]], [np.array([2, 3])])
