"""FastSpeech2: length regulator against repeat_interleave, padding invariance, overfitting espeak speech
(phonemes, log-mel, token pitch and energy), inference controls, speakers, conformer blocks, CMVN."""
import math
import time

import kaldiio
import numpy as np
import pytest
import torch
import torchaudio

from toolkit.data.collate import PadCollate
from toolkit.features.cmvn import accumulate_cmvn
from toolkit.features.logmel import LogMel
from toolkit.layers.global_cmvn import GlobalCMVN
from toolkit.models.tts import FastSpeech2, LengthRegulator, VariancePredictor
from toolkit.utils.errors import ConfigError, DataError
from toolkit.utils.espeak import phonemize, synthesize

N_MELS, HOP = 20, 256
SENTENCES = ["a cat sat on the mat", "hello world", "good morning to you", "we ran"]
TINY = {"odim": N_MELS, "adim": 32, "aheads": 2, "elayers": 1, "eunits": 64, "dlayers": 1, "dunits": 64,
        "ffn_kernel_sizes": (3, 1), "cnn_module_kernel": 3, "duration_predictor_chans": 32,
        "pitch_predictor_chans": 32, "energy_predictor_chans": 32, "postnet_layers": 3, "postnet_chans": 32}
NO_DROPOUT = {f"{part}dropout_rate": 0.0 for part in ("", "positional_", "attention_", "duration_predictor_",
                                                      "pitch_predictor_", "energy_predictor_", "postnet_")}


def token_average(frame_values, durations):
    """Mean of frame_values over each token's frames (0 for a token without frames)."""
    ends = np.cumsum(durations)
    return np.array([frame_values[e - d:e].mean() if d else 0.0 for d, e in zip(durations, ends)])


@pytest.fixture(scope="module")
def speech():
    """(vocab size, [(utt, example)]): espeak phonemes, log-mel, durations spread evenly over the phonemes,
    token-averaged normalised log-F0 (torchaudio pitch detection) and normalised frame energy."""
    phones = [[p for clause in phonemize(s) for word in clause for p in word] for s in SENTENCES]
    vocab = {p: i for i, p in enumerate(sorted({p for ps in phones for p in ps}))}
    logmel = LogMel(22050, n_fft=512, hop_length=HOP, n_mels=N_MELS)
    raw = []
    for sentence, ps in zip(SENTENCES, phones):
        samples, rate = synthesize(sentence)
        wave = torch.from_numpy(samples.astype(np.float32) / 32768)
        feats = logmel(wave).numpy()
        frames = feats.shape[0]
        durations = np.diff(np.round(np.linspace(0, frames, len(ps) + 1)).astype(np.int64))
        f0 = torchaudio.functional.detect_pitch_frequency(wave, rate).numpy()
        f0_frames = np.interp(np.arange(frames) * HOP / rate, np.linspace(0, len(wave) / rate, len(f0)), f0)
        energy = np.linalg.norm(torch.stft(wave, 512, HOP, window=torch.hann_window(512), return_complex=True)
                                .abs().numpy(), axis=0)[:frames]
        raw.append((ps, feats, durations, token_average(np.log(f0_frames), durations),
                    token_average(energy, durations)))
    pitch_all = np.concatenate([r[3] for r in raw])
    energy_all = np.concatenate([r[4] for r in raw])
    items = []
    for i, (ps, feats, durations, pitch, energy) in enumerate(raw):
        items.append((f"utt{i}", {
            "text": np.array([vocab[p] for p in ps], dtype=np.int64), "feats": feats, "durations": durations,
            "pitch": ((pitch - pitch_all.mean()) / pitch_all.std()).astype(np.float32),
            "energy": ((energy - energy_all.mean()) / energy_all.std()).astype(np.float32)}))
    return len(vocab), items


def collate(items):
    return PadCollate({"text": -1})(items)[1]


def tiny(vocab, seed=0, **conf):
    torch.manual_seed(seed)
    model = FastSpeech2(vocab, **{**TINY, **conf})
    with torch.no_grad():  # predicted durations of about 4 frames, so inference makes real lengths
        model.duration_predictor.linear.bias.fill_(math.log(5.0))
    return model


# ----- length regulator -----
def test_length_regulator_equals_repeat_interleave_per_utterance():
    gen = torch.Generator().manual_seed(0)
    xs = torch.randn(4, 7, 5, generator=gen)
    token_lengths = torch.tensor([7, 5, 1, 3])
    durations = torch.randint(0, 4, (4, 7), generator=gen)
    durations[0, 2] = durations[1, 0] = 0  # tokens without frames
    durations[~(torch.arange(7)[None] < token_lengths[:, None])] = 0
    out, lengths = LengthRegulator()(xs, durations)
    torch.testing.assert_close(lengths, durations.sum(1))
    assert out.shape == (4, int(lengths.max()), 5)
    for b in range(4):
        n = int(token_lengths[b])
        expected = torch.repeat_interleave(xs[b, :n], durations[b, :n], dim=0)
        torch.testing.assert_close(out[b, : len(expected)], expected, rtol=0, atol=0)
        assert not out[b, len(expected):].any()


def test_length_regulator_rejects_negative_and_float_durations():
    with pytest.raises(DataError, match="negative"):
        LengthRegulator()(torch.zeros(1, 2, 3), torch.tensor([[1, -1]]))
    with pytest.raises(DataError, match="integer"):
        LengthRegulator()(torch.zeros(1, 2, 3), torch.tensor([[1.0, 2.0]]))


def test_variance_predictor_ignores_padding():
    torch.manual_seed(0)
    predictor = VariancePredictor(8, n_chans=16, dropout_rate=0.0)
    xs = torch.randn(1, 5, 8)
    alone = predictor(xs, torch.ones(1, 1, 5, dtype=torch.bool))
    padded = torch.cat([xs, torch.randn(1, 3, 8)], dim=1)
    mask = (torch.arange(8) < 5)[None, None]
    out = predictor(padded, mask)
    torch.testing.assert_close(out[:, :5], alone)
    assert not out[:, 5:].any()


# ----- the model -----
@pytest.mark.parametrize("encoder_type", ["transformer", "conformer"])
def test_padded_batch_equals_each_utterance_alone(speech, encoder_type):
    vocab, items = speech
    model = tiny(vocab, encoder_type=encoder_type).eval()
    batch = collate(items)
    together = model.inference(batch["text"], batch["text_lengths"])
    teacher = model.inference(batch["text"], batch["text_lengths"], durations=batch["durations"],
                              pitch=batch["pitch"], energy=batch["energy"])
    torch.testing.assert_close(teacher["feats_lengths"], batch["feats_lengths"])
    for b, (_, example) in enumerate(items):
        n = len(example["text"])
        text = torch.from_numpy(example["text"])
        alone = model.inference(text)
        torch.testing.assert_close(together["durations"][b, :n], alone["durations"][0], rtol=0, atol=0)
        assert not together["durations"][b, n:].any()
        frames = int(alone["feats_lengths"][0])
        assert int(together["feats_lengths"][b]) == frames
        torch.testing.assert_close(together["feats"][b, :frames], alone["feats"][0], atol=1e-5, rtol=1e-5)
        assert not together["feats"][b, frames:].any()
        alone = model.inference(text, durations=torch.from_numpy(example["durations"]),
                                pitch=torch.from_numpy(example["pitch"]), energy=torch.from_numpy(example["energy"]))
        frames = len(example["feats"])
        torch.testing.assert_close(teacher["feats"][b, :frames], alone["feats"][0], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("encoder_type", ["transformer", "conformer"])
def test_overfits_espeak_speech_in_50_steps(speech, encoder_type, tmp_path):
    vocab, items = speech
    stats = accumulate_cmvn((utt, ex["feats"]) for utt, ex in items)
    kaldiio.save_mat(str(tmp_path / "cmvn.ark"), stats)
    model = tiny(vocab, encoder_type=encoder_type, adim=64, eunits=128, dunits=128, **NO_DROPOUT,
                 normalize=GlobalCMVN.from_file(str(tmp_path / "cmvn.ark")))
    batch = collate(items)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    start, history = time.time(), []
    for _ in range(50):
        loss, stats, weight = model(**batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(stats)
    assert time.time() - start < 30
    assert weight == len(items)
    first, last = history[0], history[-1]
    assert set(first) == {"loss", "mel_loss", "postnet_mel_loss", "duration_loss", "pitch_loss", "energy_loss"}
    assert first["loss"] == pytest.approx(sum(v for k, v in first.items() if k != "loss"), rel=1e-5)
    for name in first:
        assert last[name] < 0.5 * first[name], (name, first[name], last[name])
    # teacher-forced synthesis reproduces the raw (de-normalised) log-mel far better than its mean does
    model.eval()
    out = model.inference(batch["text"], batch["text_lengths"], durations=batch["durations"],
                          pitch=batch["pitch"], energy=batch["energy"])
    mask = (torch.arange(batch["feats"].shape[1])[None] < batch["feats_lengths"][:, None])
    error = (out["feats"] - batch["feats"])[mask].abs().mean()
    baseline = (batch["feats"] - model.normalize.mean)[mask].abs().mean()
    assert error < 0.5 * baseline


def test_cmvn_normalises_targets_and_inference_denormalises(speech, tmp_path):
    vocab, items = speech
    stats = accumulate_cmvn((utt, ex["feats"]) for utt, ex in items)
    kaldiio.save_mat(str(tmp_path / "cmvn.ark"), stats)
    cmvn = GlobalCMVN.from_file(str(tmp_path / "cmvn.ark"))
    model = tiny(vocab, normalize=cmvn).eval()
    batch = collate(items)
    # loss targets are the normalised features
    hs, mask = model.encode(batch["text"], batch["text_lengths"])
    before, after, lengths = model.decode(hs, mask, batch["durations"], batch["pitch"], batch["energy"],
                                          max_len=batch["feats"].shape[1])
    frame_mask = torch.arange(before.shape[1])[None] < lengths[:, None]
    target = torch.from_numpy(np.concatenate([(ex["feats"] - stats[0, :-1] / stats[0, -1])
                                              / np.sqrt(stats[1, :-1] / stats[0, -1]
                                                        - np.square(stats[0, :-1] / stats[0, -1]))
                                              for _, ex in items])).float()
    _, loss_stats, _ = model(**batch)
    assert loss_stats["mel_loss"] == pytest.approx((before[frame_mask] - target).abs().mean().item(), rel=1e-4)
    # inference de-normalises: normalising its output gives back the decoder's output
    out = model.inference(batch["text"], batch["text_lengths"], durations=batch["durations"],
                          pitch=batch["pitch"], energy=batch["energy"])
    torch.testing.assert_close(cmvn(out["feats"])[frame_mask], after[frame_mask], atol=1e-4, rtol=1e-4)
    with pytest.raises(ConfigError, match="odim"):
        FastSpeech2(vocab, odim=80, normalize=cmvn)


def test_speed_halves_the_frames(speech):
    vocab, items = speech
    model = tiny(vocab).eval()
    batch = collate(items)
    normal = model.inference(batch["text"], batch["text_lengths"])
    fast = model.inference(batch["text"], batch["text_lengths"], speed=2.0)
    slow = model.inference(batch["text"], batch["text_lengths"], speed=0.5)
    tokens = batch["text_lengths"].float()
    expected = normal["feats_lengths"].float()
    # per token, round(d / 2) is within 1/2 of round(d) / 2 and round(2 d) within 1 of 2 round(d)
    assert ((fast["feats_lengths"] - expected / 2).abs() <= tokens / 2).all()
    assert ((slow["feats_lengths"] - expected * 2).abs() <= tokens).all()
    assert (fast["durations"] <= normal["durations"]).all()
    teacher = model.inference(batch["text"], batch["text_lengths"], durations=batch["durations"], speed=2.0)
    torch.testing.assert_close(teacher["durations"], torch.round(batch["durations"] / 2).long())


def test_pitch_and_energy_controls(speech):
    vocab, items = speech
    model = tiny(vocab, pitch_stats={"mean": 5.0, "std": 0.25}, energy_stats={"mean": 3.0, "std": 2.0}).eval()
    text = torch.from_numpy(items[0][1]["text"])
    base = model.inference(text)
    shifted = model.inference(text, pitch_shift=1.0)
    assert torch.equal(shifted["durations"], base["durations"])
    torch.testing.assert_close(shifted["pitch"], base["pitch"] + 1.0)
    assert (shifted["feats"] - base["feats"]).abs().mean() > 1e-3
    # doubling F0 is a shift of log(2) / std in normalised log-F0
    scaled = model.inference(text, pitch_scale=2.0)
    by_shift = model.inference(text, pitch_shift=math.log(2.0) / 0.25)
    torch.testing.assert_close(scaled["feats"], by_shift["feats"])
    # teacher pitch equals the predicted pitch moved by the same amount
    teacher = model.inference(text, pitch=base["pitch"][0] + 1.0)
    torch.testing.assert_close(teacher["feats"], shifted["feats"])
    # 1.5 times the frame energy: log-energy + log(1.5), normalised by its std 2
    louder = model.inference(text, energy_scale=1.5)
    raw = base["energy"] * 2.0 + 3.0
    torch.testing.assert_close(louder["energy"], (raw + math.log(1.5) - 3.0) / 2.0)
    assert (louder["feats"] - base["feats"]).abs().mean() > 1e-3
    plain = tiny(vocab).eval()
    with pytest.raises(ConfigError, match="pitch_stats"):
        plain.inference(text, pitch_scale=2.0)
    with pytest.raises(ConfigError, match="energy_stats"):
        plain.inference(text, energy_scale=2.0)
    with pytest.raises(ConfigError, match="positive 'std'"):
        tiny(vocab, pitch_stats={"mean": 5.0})


def test_speaker_embedding(speech):
    vocab, items = speech
    model = tiny(vocab, num_speakers=3)
    batch = collate([(utt, {**ex, "sids": np.array([i % 3])}) for i, (utt, ex) in enumerate(items)])
    assert batch["sids"].shape == (len(items), 1)
    loss, _, _ = model(**batch)
    loss.backward()
    grad = model.sid_emb.weight.grad
    assert grad[:3].abs().sum(1).gt(0).all()
    model.eval()
    text = torch.from_numpy(items[0][1]["text"])
    durations = torch.from_numpy(items[0][1]["durations"])
    one = model.inference(text, sids=torch.tensor([[0]]), durations=durations)
    two = model.inference(text, sids=torch.tensor([[2]]), durations=durations)
    assert (one["feats"] - two["feats"]).abs().mean() > 1e-3
    with pytest.raises(DataError, match="speaker ids"):
        model.inference(text)
    with pytest.raises(DataError, match="num_speakers"):
        model.inference(text, sids=torch.tensor([[3]]))
    with pytest.raises(ConfigError, match="single speaker"):
        tiny(vocab)(**batch)


def test_bad_batches_are_named(speech):
    vocab, items = speech
    model = tiny(vocab)
    batch = collate(items)
    wrong = dict(batch, durations=batch["durations"].clone())
    wrong["durations"][0, 0] += 1
    with pytest.raises(DataError, match="durations sum to"):
        model(**wrong)
    with pytest.raises(DataError, match="token ids outside"):
        tiny(vocab - 1)(**batch)
    with pytest.raises(DataError, match="odim"):
        tiny(vocab, odim=N_MELS + 1)(**batch)


def test_default_configuration_builds_both_block_types():
    for encoder_type in ("transformer", "conformer"):
        model = FastSpeech2(40, encoder_type=encoder_type).eval()
        out = model.inference(torch.arange(1, 9))
        assert out["feats"].shape == (1, int(out["feats_lengths"][0]), 80)
        assert out["durations"].shape == (1, 8)
    with pytest.raises(ConfigError, match="block type"):
        FastSpeech2(40, encoder_type="lstm")
