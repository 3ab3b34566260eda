"""ASR model: losses against references, padding invariance, incremental decoding, overfitting
real espeak speech, and `train --task asr` on a tiny dumped corpus."""
import kaldiio
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torchaudio

from toolkit.data.collate import pad_list
from toolkit.features.cmvn import accumulate_cmvn, apply_cmvn
from toolkit.features.kaldi_feats import KaldiFeatures
from toolkit.layers.global_cmvn import GlobalCMVN
from toolkit.losses import LabelSmoothingLoss, ctc_loss, uniform_smoothing_loss
from toolkit.models.asr import CTC, ASRModel, ConformerEncoder, TransformerDecoder, TransformerEncoder
from toolkit.utils.errors import ConfigError, DataError
from toolkit.utils.espeak import synthesize

RATE = 16000


def tiny_model(vocab, dropout=0.0, **model_conf):
    torch.manual_seed(0)
    encoder = ConformerEncoder(20, 16, 2, 32, 2, dropout_rate=dropout, positional_dropout_rate=dropout,
                               cnn_module_kernel=5)
    decoder = TransformerDecoder(vocab, 16, 2, 32, 2, dropout_rate=dropout, positional_dropout_rate=dropout)
    return ASRModel(vocab, encoder, decoder, CTC(vocab, 16), **model_conf)


# ----- losses -----
def test_ctc_loss_equals_torch_reference():
    torch.manual_seed(0)
    log_probs = torch.randn(3, 12, 6).log_softmax(-1)
    input_lengths, targets = torch.tensor([12, 9, 2]), torch.tensor([[1, 2, 2, 3], [4, 5, -1, -1], [1, 2, 3, -1]])
    target_lengths = torch.tensor([4, 2, 3])  # the last cannot be aligned in 2 frames: inf -> 0
    ours = ctc_loss(log_probs, input_lengths, targets, target_lengths)
    per_utt = F.ctc_loss(log_probs.transpose(0, 1), targets.clamp(min=0), input_lengths, target_lengths,
                         reduction="none")
    assert torch.isinf(per_utt[2])
    torch.testing.assert_close(ours, per_utt[:2].sum() / 3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert ctc_loss(log_probs.bfloat16(), input_lengths, targets, target_lengths).dtype == torch.float32


def test_uniform_smoothing_loss_is_mean_negative_log_prob_over_valid_frames():
    log_probs = torch.randn(2, 5, 4).log_softmax(-1)
    lengths = torch.tensor([5, 2])
    expected = (-log_probs[0].mean(-1).sum() - log_probs[1, :2].mean(-1).sum()) / 2
    torch.testing.assert_close(uniform_smoothing_loss(log_probs, lengths), expected)
    head = CTC(4, 8, smoothing=0.2)
    hs, ys, ys_lens = torch.randn(2, 5, 8), torch.tensor([[1, 2], [3, -1]]), torch.tensor([2, 1])
    lp = head.log_softmax(hs)
    torch.testing.assert_close(head(hs, lengths, ys, ys_lens), 0.8 * ctc_loss(lp, lengths, ys, ys_lens)
                               + 0.2 * uniform_smoothing_loss(lp, lengths))


@pytest.mark.parametrize("normalize_length", [False, True])
def test_label_smoothing_loss_equals_kl_to_smoothed_targets(normalize_length):
    torch.manual_seed(0)
    vocab, smoothing = 7, 0.1
    logits, target = torch.randn(2, 4, vocab), torch.tensor([[1, 3, 6, -1], [2, -1, -1, -1]])
    loss = LabelSmoothingLoss(vocab, -1, smoothing, normalize_length)(logits, target)
    total, count = 0.0, 0
    for b in range(2):
        for t in range(4):
            if target[b, t] < 0:
                continue
            q = torch.full((vocab,), smoothing / (vocab - 1))
            q[target[b, t]] = 1 - smoothing
            total += F.kl_div(logits[b, t].log_softmax(-1), q, reduction="sum")
            count += 1
    torch.testing.assert_close(loss, total / (count if normalize_length else 2))
    plain = LabelSmoothingLoss(vocab, -1, 0.0)(logits, target)  # no smoothing: summed cross entropy / batch
    torch.testing.assert_close(plain, F.cross_entropy(logits.flatten(0, 1), target.flatten(), ignore_index=-1,
                                                      reduction="sum") / 2)


# ----- shapes, masks, incremental decoding -----
@pytest.mark.parametrize("encoder_class,input_layer", [(ConformerEncoder, "conv2d"), (ConformerEncoder, "conv2d6"),
                                                       (TransformerEncoder, "conv2d8")])
def test_encoder_output_in_a_padded_batch_equals_output_alone(encoder_class, input_layer):
    torch.manual_seed(0)
    encoder = encoder_class(20, 16, 2, 32, 2, input_layer=input_layer).eval()
    lengths = torch.tensor([61, 40, 23])
    feats = torch.randn(3, 61, 20) * 3
    out, out_lengths = encoder(feats, lengths)
    assert out_lengths.tolist() == encoder.embed.output_length(lengths).tolist()
    assert out.shape == (3, int(out_lengths.max()), 16)
    for i, length in enumerate(lengths.tolist()):
        alone, alone_length = encoder(feats[i:i + 1, :length], lengths[i:i + 1])
        assert alone_length == out_lengths[i]
        torch.testing.assert_close(out[i, :int(alone_length)], alone[0], atol=1e-5, rtol=1e-5)
    with pytest.raises(DataError, match="too short"):
        encoder(feats[:1, :5], torch.tensor([5]))


def test_decoder_one_step_equals_full_forward():
    torch.manual_seed(0)
    decoder = TransformerDecoder(9, 16, 2, 32, 3).eval()
    memory, memory_lens = torch.randn(2, 7, 16), torch.tensor([7, 4])
    tokens = torch.randint(0, 9, (2, 5))
    full = decoder(memory, memory_lens, tokens, torch.tensor([5, 5])).log_softmax(-1)
    memory_mask = (torch.arange(7)[None] < memory_lens[:, None]).unsqueeze(1)
    cache = None
    for length in range(1, 6):
        step, cache = decoder.forward_one_step(tokens[:, :length], memory, memory_mask, cache)
        torch.testing.assert_close(step, full[:, length - 1], atol=1e-5, rtol=1e-5)
        assert len(cache) == 3 and cache[0].shape == (2, length, 16)
    no_cache, _ = decoder.forward_one_step(tokens, memory, memory_mask)
    torch.testing.assert_close(no_cache, full[:, -1], atol=1e-5, rtol=1e-5)


def test_decoder_io_and_stats():
    model = tiny_model(6, token_list=["<blank>", "<unk>", "a", "b", "<space>", "<sos/eos>"]).eval()
    text, lengths = torch.tensor([[2, 3, 4], [3, -1, -1]]), torch.tensor([3, 1])
    ys_in, ys_out = model.decoder_io(text, lengths)
    assert ys_in.tolist() == [[5, 2, 3, 4], [5, 3, 5, 5]]
    assert ys_out.tolist() == [[2, 3, 4, 5], [3, 5, -1, -1]]
    loss, stats, weight = model(torch.randn(2, 30, 20), torch.tensor([30, 17]), text, lengths)
    assert loss.item() == pytest.approx(stats["loss"]) and weight == 2.0 and set(stats) == {"loss", "loss_ctc", "loss_att", "acc", "cer_ctc"}
    assert stats["loss"] == pytest.approx(0.3 * stats["loss_ctc"] + 0.7 * stats["loss_att"], rel=1e-5)
    assert model._chars([2, 4, 3]) == "ab" and model._chars([2, 3]) == "ab"
    with pytest.raises(ConfigError):
        ASRModel(6, model.encoder, None, model.ctc, ctc_weight=0.5)  # attention loss needs a decoder


def test_cmvn_inside_the_model_equals_apply_cmvn_and_specaug_only_in_training(tmp_path):
    from toolkit.data.augment import SpecAugment

    feats = [np.random.default_rng(i).normal(3.0, 2.0, (30, 20)).astype(np.float32) for i in range(3)]
    stats = accumulate_cmvn(enumerate(feats))
    kaldiio.save_mat(str(tmp_path / "cmvn.ark"), stats)
    cmvn = GlobalCMVN.from_file(str(tmp_path / "cmvn.ark"))
    torch.testing.assert_close(cmvn(torch.from_numpy(feats[0])), torch.from_numpy(apply_cmvn(feats[0], stats)))
    model = tiny_model(6, normalize=cmvn, specaug=SpecAugment(freq_mask={"num": 2, "width": 5}))
    model.eval()
    x, lengths = torch.from_numpy(np.stack(feats)), torch.tensor([30, 30, 30])
    torch.testing.assert_close(model.encode(x, lengths)[0], model.encoder(cmvn(x), lengths)[0])
    model.train()
    torch.manual_seed(1)
    augmented, _ = model.encode(x, lengths)
    model.eval()  # dropout is 0, so only SpecAugment can make training mode differ
    assert not torch.allclose(augmented, model.encode(x, lengths)[0])
    with pytest.raises(DataError, match="cannot read CMVN"):
        GlobalCMVN.from_file(str(tmp_path / "missing.ark"))


def test_activation_checkpointing_gives_the_same_gradients():
    model = tiny_model(6).train()
    batch = (torch.randn(2, 30, 20), torch.tensor([30, 21]), torch.tensor([[2, 3], [4, -1]]), torch.tensor([2, 1]))
    grads = []
    for flag in (False, True):
        model.zero_grad()
        model.set_activation_checkpointing(flag)
        model(*batch)[0].backward()
        grads.append([p.grad.clone() for p in model.parameters()])
    for plain, checkpointed in zip(*grads):
        torch.testing.assert_close(plain, checkpointed)


# ----- real speech -----
def espeak_fbank(text):
    samples, rate = synthesize(text, "en-us")
    wave = torchaudio.functional.resample(torch.from_numpy(samples).float() / 32768, rate, RATE)
    return KaldiFeatures("fbank", num_mel_bins=80)(wave).numpy()


def test_tiny_model_overfits_real_speech():
    texts = ["the cat sat on the mat", "a dog ran home", "red blue green"]
    feats = [espeak_fbank(text) for text in texts]
    tokens = ["<blank>", "<unk>", *sorted(set("".join(texts))), "<sos/eos>"]
    ids = [np.array([tokens.index(c) for c in text]) for text in texts]
    torch.manual_seed(0)
    vocab = len(tokens)
    encoder = ConformerEncoder(80, 64, 4, 128, 2, dropout_rate=0.0, positional_dropout_rate=0.0, cnn_module_kernel=7)
    model = ASRModel(vocab, encoder, TransformerDecoder(vocab, 64, 4, 128, 1, dropout_rate=0.0), CTC(vocab, 64),
                     GlobalCMVN(accumulate_cmvn(enumerate(feats))), token_list=tokens)
    batch = (pad_list(feats), torch.tensor([len(f) for f in feats]), pad_list(ids, -1),
             torch.tensor([len(i) for i in ids]))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(80):
        loss, stats, _ = model(*batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(stats["loss"])
    assert losses[-1] < 0.05 * losses[0]
    _, stats, _ = model.eval()(*batch)
    assert stats["cer_ctc"] == 0.0 and stats["acc"] > 0.9


def test_train_task_asr_on_a_tiny_dumped_corpus(tmp_path):
    """synth_corpus -> make_feats -> CMVN -> char tokens -> `train --task asr` for a few steps."""
    import toolkit.tasks.asr  # noqa: F401  (registers the task until toolkit.tasks imports it)
    from toolkit.bin import compute_cmvn_stats, make_feats, synth_corpus, tokenize_text, train, train_tokenizer
    from toolkit.train.checkpoint import latest_checkpoint, load_checkpoint

    corpus, dump, tokens = tmp_path / "corpus", tmp_path / "dump", tmp_path / "tokens"
    synth_corpus.main(["--out_dir", str(corpus), "--size", "tiny", "--tasks", "asr", "--nj", "1"])
    for name in ("train", "dev"):
        make_feats.main(["--data_dir", str(corpus / "data" / name), "--out_dir", str(dump / name),
                         "--feat_type", "fbank", "--nj", "1"])
    compute_cmvn_stats.main(["--feats_scp", str(dump / "train" / "feats.scp"), "--out", str(dump / "cmvn.ark")])
    train_tokenizer.main(["--token_type", "char", "--text", str(corpus / "data" / "train" / "text"),
                          "--out_dir", str(tokens)])
    for name in ("train", "dev"):
        tokenize_text.main(["--token_dir", str(tokens), "--text", str(dump / name / "text"),
                            "--out", str(dump / name / "token"), "--out_ids", str(dump / name / "token_int")])
    out = tmp_path / "exp"
    encoder_conf = "{output_size: 16, attention_heads: 2, linear_units: 32, num_blocks: 1, cnn_module_kernel: 5}"
    train.main(["--task", "asr", "--token_list", str(tokens / "tokens.txt"), "--cmvn", str(dump / "cmvn.ark"),
                "--train_data_dir", str(dump / "train"), "--valid_data_dir", str(dump / "dev"),
                "--output_dir", str(out), "--encoder_conf", encoder_conf, "--decoder_conf.num_blocks", "1",
                "--decoder_conf.linear_units", "32", "--decoder_conf.attention_heads", "2",
                "--specaug_conf", "{freq_mask: {num: 1, width: 5}}", "--batch_type", "static", "--batch_size", "4",
                "--max_epoch", "1", "--tensorboard", "false", "--activation_checkpointing", "true"])
    state = load_checkpoint(latest_checkpoint(str(out)), weights_only=False)
    assert state["step"] == 3  # 9 training utterances in batches of 4
    assert "normalize.mean" in state["model"] and "encoder.encoders.0.self_attn.pos_bias_u" in state["model"]
    log = (out / "train.log").read_text()
    assert "valid" in log and "cer_ctc" in log


def test_task_rejects_unknown_model_keys(tmp_path):
    from toolkit.bin.train import build_parser
    from toolkit.tasks import get_task
    from toolkit.text.token_list import write_token_list
    from toolkit.utils.config import parse_args

    write_token_list(str(tmp_path / "tokens.txt"), ["<blank>", "<unk>", "a", "<sos/eos>"])
    stats = accumulate_cmvn([("u", np.ones((3, 20), dtype=np.float32))])
    kaldiio.save_mat(str(tmp_path / "cmvn.ark"), stats)
    common = ["--task", "asr", "--token_list", str(tmp_path / "tokens.txt"), "--cmvn", str(tmp_path / "cmvn.ark"),
              "--output_dir", str(tmp_path), "--train_data_dir", str(tmp_path), "--valid_data_dir", str(tmp_path),
              "--encoder_conf", "{output_size: 16, attention_heads: 2, linear_units: 32, num_blocks: 1}"]
    task = get_task("asr")
    model = task.build_model(parse_args(build_parser("asr"), common))
    assert model.encoder.embed.conv[0].in_channels == 1 and model.normalize.dim == 20
    with pytest.raises(ConfigError, match="num_layers"):
        task.build_model(parse_args(build_parser("asr"), [*common, "--encoder_conf.num_layers", "3"]))
    with pytest.raises(ConfigError, match="attention decoder is needed"):
        task.build_model(parse_args(build_parser("asr"), [*common, "--model_conf.ctc_weight", "0.0",
                                                          "--decoder", "none"]))
