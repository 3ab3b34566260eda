"""Separation networks: Conv-TasNet against torchaudio, DPRNN sizes and shapes, training steps, errors."""
import numpy as np
import pytest
import torch
import torchaudio

from toolkit.audio.resample import resample
from toolkit.models.sep import build_separator
from toolkit.models.sep.common import CumulativeLayerNorm
from toolkit.models.sep.conv_tasnet import ConvTasNet, from_torchaudio_state_dict
from toolkit.models.sep.dprnn import DPRNN, LastDimGlobalNorm, overlap_add, split_chunks
from toolkit.utils.errors import ConfigError
from toolkit.utils.espeak import synthesize


def count(model):
    return sum(p.numel() for p in model.parameters())


@pytest.fixture(scope="module")
def sources():
    """Two espeak utterances (male, female) at 8 kHz, 0.5 s each: float32 [1, 2, 4000]."""
    waves = []
    for text, voice in (("seven red boats", "en-us"), ("forty two apples", "en-us+f3")):
        audio, rate = synthesize(text, voice)
        waves.append(resample(audio.astype(np.float32) / 32768, rate, 8000)[2000:6000])
    return torch.from_numpy(np.stack(waves)).unsqueeze(0)


def torchaudio_pair(num_spks, enc_kernel, enc_dim, kernel, bottleneck, hidden, layers, stacks):
    """torchaudio's ConvTasNet with every weight perturbed, and ours loaded from its state dict."""
    theirs = torchaudio.models.ConvTasNet(num_spks, enc_kernel, enc_dim, kernel, bottleneck, hidden, layers, stacks,
                                          msk_activate="sigmoid")
    with torch.no_grad():
        for param in theirs.parameters():  # norm gains/biases and PReLU slopes away from their init values
            param.add_(0.1 * torch.randn_like(param))
    ours = ConvTasNet(num_spks, enc_kernel, enc_dim, bottleneck, hidden, kernel, layers, stacks, skip=bottleneck)
    ours.load_state_dict(from_torchaudio_state_dict(theirs.state_dict()))
    return ours.eval(), theirs.eval()


@pytest.mark.parametrize("num_spks,enc_kernel,samples", [(2, 16, 8001), (3, 5, 1237), (2, 4, 3)])
def test_conv_tasnet_equals_torchaudio_small(sources, num_spks, enc_kernel, samples):
    torch.manual_seed(0)
    ours, theirs = torchaudio_pair(num_spks, enc_kernel, 64, 3, 32, 48, 3, 2)
    mix = sources.sum(1).repeat(2, 3)[:, :samples]
    mix[1] *= 0.3
    with torch.no_grad():
        expected, got = theirs(mix.unsqueeze(1)), ours(mix)
    assert got.shape == (2, num_spks, samples)
    assert (got - expected).abs().max().item() <= 1e-5


def test_conv_tasnet_paper_size_equals_torchaudio(sources):
    torch.manual_seed(0)
    ours, theirs = torchaudio_pair(2, 16, 512, 3, 128, 512, 8, 3)
    assert count(ours) == count(theirs) == count(ConvTasNet()) == 4_984_881
    # the paper's 5.1 M (rounded) also counts the last block's residual conv, which feeds nothing (128 * 512 + 128)
    assert round((count(ours) + 128 * 512 + 128) / 1e6, 1) == 5.1
    mix = sources.sum(1)
    with torch.no_grad():
        expected, got = theirs(mix.unsqueeze(1)), ours(mix)
    assert (got - expected).abs().max().item() <= 1e-5


def test_dprnn_paper_parameter_count():
    model = DPRNN()
    assert count(model) == 2_595_585
    assert round(count(model) / 1e6, 1) == 2.6  # the paper's 2.6 M


@pytest.mark.parametrize("samples", [8001, 12345, 1, 250])
def test_dprnn_output_length_equals_input_length(samples):
    torch.manual_seed(0)
    model = DPRNN(num_spks=3, enc_dim=16, bottleneck=8, hidden=8, chunk=100, blocks=1).eval()
    with torch.no_grad():
        out = model(torch.randn(2, samples))
    assert out.shape == (2, 3, samples)
    assert torch.isfinite(out).all()


def test_dprnn_paper_size_output_length():
    torch.manual_seed(0)
    with torch.no_grad():
        assert DPRNN().eval()(torch.randn(1, 801)).shape == (1, 2, 801)


@pytest.mark.parametrize("frames,chunk", [(777, 10), (3, 10), (250, 250), (1, 2)])
def test_chunks_overlap_add_back_to_twice_the_input(frames, chunk):
    """With 50 % overlap every frame lies in exactly two chunks."""
    x = torch.randn(2, frames, 3)
    chunks, left = split_chunks(x, chunk, chunk // 2)
    assert chunks.shape[2:] == (chunk, 3)
    torch.testing.assert_close(chunks[:, 0, left:left + 2], x[:, :2])
    torch.testing.assert_close(overlap_add(chunks, chunk // 2, frames, left), 2 * x.transpose(1, 2))


def test_channels_last_global_norm_equals_group_norm():
    torch.manual_seed(0)
    x = torch.randn(2, 6, 7, 5) * 3 + 1  # [batch, chunks, chunk, channels]
    ours, group = LastDimGlobalNorm(5), torch.nn.GroupNorm(1, 5, eps=1e-8)
    with torch.no_grad():
        for norm in (ours, group):
            norm.weight.copy_(torch.linspace(0.5, 2, 5))
            norm.bias.copy_(torch.linspace(-1, 1, 5))
        torch.testing.assert_close(ours(x), group(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1))


def test_dprnn_first_output_sample_sees_the_last_input_sample():
    """Through the inter-chunk RNN every output depends on the whole input, chunks far apart included."""
    torch.manual_seed(0)
    model = DPRNN(enc_dim=8, bottleneck=8, hidden=8, chunk=10, blocks=1)
    mix = torch.randn(1, 400, requires_grad=True)
    model(mix)[0, 0, 0].backward()
    assert mix.grad[0, -1].abs().item() > 0


@pytest.mark.parametrize("options", [dict(kernel=4), dict(skip=0), dict(skip=24, norm="BN"),
                                     dict(mask_act="softmax", num_spks=3), dict(norm="cLN", causal=True, kernel=2)])
def test_conv_tasnet_options_keep_the_length(options):
    torch.manual_seed(0)
    conf = {**dict(enc_kernel=8, enc_dim=16, bottleneck=8, hidden=16, layers=3, stacks=2, skip=8), **options}
    model = ConvTasNet(**conf).eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1001))
    assert out.shape == (2, conf.get("num_spks", 2), 1001)
    assert torch.isfinite(out).all()


def test_causal_conv_tasnet_ignores_the_future():
    torch.manual_seed(0)
    model = ConvTasNet(enc_kernel=8, enc_dim=16, bottleneck=8, hidden=16, layers=3, stacks=2, norm="cLN",
                       causal=True).eval()
    mix = torch.randn(1, 600)
    changed = mix.clone()
    changed[0, 400:] = torch.randn(200)
    with torch.no_grad():
        before, after = model(mix), model(changed)
    # output sample s is made from frames that reach at most enc_kernel - 1 samples ahead
    torch.testing.assert_close(before[..., :400 - 7], after[..., :400 - 7], rtol=0, atol=0)
    assert (before[..., 400:] - after[..., 400:]).abs().max() > 1e-3


def test_cumulative_layer_norm_last_frame_equals_global_layer_norm():
    torch.manual_seed(0)
    x = torch.randn(3, 5, 40)
    cln = CumulativeLayerNorm(5)
    gln = torch.nn.GroupNorm(1, 5, eps=1e-8)
    with torch.no_grad():
        for norm in (cln, gln):
            norm.weight.copy_(torch.linspace(0.5, 2, 5))
            norm.bias.copy_(torch.linspace(-1, 1, 5))
        torch.testing.assert_close(cln(x)[..., -1], gln(x)[..., -1], rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(cln(x[..., :10]), cln(x)[..., :10], rtol=1e-5, atol=1e-5)


def si_snr(est, ref):
    """SI-SNR (dB) of est against ref along the last axis."""
    est, ref = est - est.mean(-1, keepdim=True), ref - ref.mean(-1, keepdim=True)
    target = (est * ref).sum(-1, keepdim=True) / ref.pow(2).sum(-1, keepdim=True) * ref
    return 10 * torch.log10(target.pow(2).sum(-1) / (est - target).pow(2).sum(-1))


def pit_neg_si_snr(est, ref):
    """Negative SI-SNR of the better of the two speaker orders, batch mean."""
    return -torch.maximum(si_snr(est, ref).mean(-1), si_snr(est.flip(1), ref).mean(-1)).mean()


@pytest.mark.parametrize("model_fn", [
    lambda: ConvTasNet(enc_dim=64, bottleneck=32, hidden=64, layers=4, stacks=1),
    lambda: DPRNN(enc_kernel=8, enc_dim=32, bottleneck=32, hidden=32, chunk=40, blocks=2),
], ids=["conv_tasnet", "dprnn"])
def test_training_steps_reduce_neg_si_snr(sources, model_fn):
    torch.manual_seed(0)
    model = model_fn()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    mix = sources.sum(1)
    losses = []
    for _ in range(12):
        loss = pit_neg_si_snr(model(mix), sources)
        optimizer.zero_grad()
        loss.backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        optimizer.step()
        losses.append(loss.item())
    with torch.no_grad():
        final = pit_neg_si_snr(model(mix), sources).item()
    assert final < losses[0] - 3.0, losses + [final]


@pytest.mark.parametrize("build,message", [
    (lambda: ConvTasNet(norm="LN"), "norm 'LN'"),
    (lambda: ConvTasNet(causal=True), "causal=True"),
    (lambda: ConvTasNet(mask_act="tanh"), "mask_act 'tanh'"),
    (lambda: ConvTasNet(enc_kernel=1), "enc_kernel 1"),
    (lambda: ConvTasNet(skip=-1), "skip=-1"),
    (lambda: ConvTasNet(layers=0), "layers=0"),
    (lambda: DPRNN(rnn_type="transformer"), "rnn_type 'transformer'"),
    (lambda: DPRNN(chunk=5), "chunk=5"),
    (lambda: DPRNN(mask_act="softplus"), "mask_act 'softplus'"),
    (lambda: build_separator("dprnn", {"segment_size": 100}), "segment_size"),
])
def test_invalid_settings_are_config_errors(build, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        build()


def test_torchaudio_state_dict_with_unknown_key_is_config_error():
    with pytest.raises(ConfigError, match="mask_generator.extra.weight"):
        from_torchaudio_state_dict({"mask_generator.extra.weight": torch.zeros(1)})


def test_build_separator_builds_our_networks():
    assert isinstance(build_separator("conv_tasnet", {"enc_dim": 32, "bottleneck": 16, "skip": 16}), ConvTasNet)
    assert isinstance(build_separator("dprnn", {"chunk": 100}), DPRNN)
