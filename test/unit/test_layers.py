"""Network layers against direct computations and peers (torch.nn.MultiheadAttention, torchaudio's Conformer)."""
import math

import pytest
import torch
import torchaudio

from toolkit.layers.attention import MultiHeadedAttention, RelPositionMultiHeadedAttention, rel_shift
from toolkit.layers.conformer import ConformerLayer, ConvolutionModule
from toolkit.layers.masks import causal_mask, valid_mask
from toolkit.layers.positional import PositionalEncoding, RelPositionalEncoding, sinusoids
from toolkit.layers.subsampling import Conv2dSubsampling, build_input_layer, conv_output_length
from toolkit.utils.errors import ConfigError


def test_masks():
    assert valid_mask(torch.tensor([2, 0, 3])).tolist() == [[True, True, False], [False] * 3, [True] * 3]
    assert valid_mask(torch.tensor([1]), 2).tolist() == [[True, False]]
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False], [True, True, True]]


@pytest.mark.parametrize("length", [1, 2, 7])
def test_rel_shift_picks_relative_position_i_minus_j(length):
    scores = torch.randn(2, 3, length, 2 * length - 1, dtype=torch.float64, requires_grad=True)
    shifted = rel_shift(scores)
    # column k of scores holds relative position T-1-k; key j of query i is at i - j
    index = torch.tensor([[length - 1 - (i - j) for j in range(length)] for i in range(length)])
    direct = scores.gather(-1, index.expand(2, 3, length, length))
    assert torch.equal(shifted, direct)
    torch.autograd.gradcheck(rel_shift, (scores,))
    with pytest.raises(ValueError):
        rel_shift(torch.zeros(1, 3, 4))


def test_sinusoids_and_positional_encodings():
    table = sinusoids(torch.arange(5), 6)
    pos, dim = 3, 2  # dims 2k, 2k+1 hold sin, cos of pos / 10000^(2k/d)
    assert table[pos, dim] == pytest.approx(math.sin(pos / 10000 ** (dim / 6)), abs=1e-6)
    assert table[pos, dim + 1] == pytest.approx(math.cos(pos / 10000 ** (dim / 6)), abs=1e-6)
    x = torch.randn(2, 4, 6)
    out, none = PositionalEncoding(6, 0.0, max_len=2)(x)  # grows past max_len
    assert none is None
    torch.testing.assert_close(out, x * math.sqrt(6) + sinusoids(torch.arange(4), 6))
    scaled, pos_emb = RelPositionalEncoding(6, 0.0, max_len=3)(x)
    torch.testing.assert_close(scaled, x * math.sqrt(6))
    torch.testing.assert_close(pos_emb[0], sinusoids(torch.arange(3, -4, -1), 6))  # T-1 .. -(T-1)


def test_multi_headed_attention_equals_torch_multihead_attention():
    torch.manual_seed(0)
    ours = MultiHeadedAttention(4, 16).eval()
    peer = torch.nn.MultiheadAttention(16, 4, batch_first=True).eval()
    with torch.no_grad():
        peer.in_proj_weight.copy_(torch.cat([ours.linear_q.weight, ours.linear_k.weight, ours.linear_v.weight]))
        peer.in_proj_bias.copy_(torch.cat([ours.linear_q.bias, ours.linear_k.bias, ours.linear_v.bias]))
        peer.out_proj.weight.copy_(ours.linear_out.weight)
        peer.out_proj.bias.copy_(ours.linear_out.bias)
    query, memory = torch.randn(3, 5, 16), torch.randn(3, 7, 16)
    keys_valid = valid_mask(torch.tensor([7, 4, 1]), 7)
    expected, _ = peer(query, memory, memory, key_padding_mask=~keys_valid, need_weights=False)
    torch.testing.assert_close(ours(query, memory, memory, keys_valid.unsqueeze(1)), expected)


def test_rel_position_attention_equals_direct_formula():
    """score(i, j) = [(q_i + u) . k_j + (q_i + v) . W_pos PE(i - j)] / sqrt(d_k), masked softmax over keys."""
    torch.manual_seed(0)
    heads, size, length = 2, 8, 5
    attention = RelPositionMultiHeadedAttention(heads, size).eval()
    x = torch.randn(2, length, size)
    lengths = torch.tensor([5, 3])
    _, pos_emb = RelPositionalEncoding(size, 0.0)(x)
    out = attention(x, x, x, pos_emb, valid_mask(lengths).unsqueeze(1))
    d_k = size // heads
    with torch.no_grad():
        q = attention.linear_q(x).view(2, length, heads, d_k)
        k = attention.linear_k(x).view(2, length, heads, d_k)
        v = attention.linear_v(x).view(2, length, heads, d_k)
        expected = torch.zeros(2, length, heads, d_k)
        for b in range(2):
            for h in range(heads):
                for i in range(length):
                    scores = torch.full((length,), float("-inf"))
                    for j in range(int(lengths[b])):
                        p = attention.linear_pos(sinusoids(torch.tensor([i - j]), size)[0]).view(heads, d_k)[h]
                        content = (q[b, i, h] + attention.pos_bias_u[h]) @ k[b, j, h]
                        position = (q[b, i, h] + attention.pos_bias_v[h]) @ p
                        scores[j] = (content + position) / math.sqrt(d_k)
                    expected[b, i, h] = torch.softmax(scores, 0) @ v[b, :, h]
        expected = attention.linear_out(expected.reshape(2, length, size))
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("input_layer,factor", [("conv2d", 4), ("conv2d6", 6), ("conv2d8", 8)])
def test_subsampling_lengths_follow_the_conv_formula(input_layer, factor):
    sub = Conv2dSubsampling(20, 8, input_layer).eval()
    lengths = torch.tensor([40, 33, sub.min_length])
    out, out_lengths = sub(torch.randn(3, 40, 20), lengths)
    expected = lengths.clone()
    for kernel, stride in sub.layout:
        expected = torch.div(expected - kernel, stride, rounding_mode="floor") + 1
    assert out_lengths.tolist() == expected.tolist() and out.shape == (3, int(expected[0]), 8)
    assert int(out_lengths[2]) == 1 and conv_output_length(sub.min_length - 1, sub.layout) < 1
    assert 1000 / factor - 2 <= conv_output_length(1000, sub.layout) <= 1000 / factor  # the named factor
    with pytest.raises(ConfigError):
        Conv2dSubsampling(20, 8, "conv2d5")


def test_linear_input_layer_keeps_every_frame_and_ignores_padding():
    torch.manual_seed(0)
    layer = build_input_layer(20, 8, "linear").eval()
    x = torch.randn(2, 30, 20)
    out, lengths = layer(x, torch.tensor([30, 17]))
    assert out.shape == (2, 30, 8) and lengths.tolist() == [30, 17]
    alone, _ = layer(x[1:, :17], torch.tensor([17]))
    torch.testing.assert_close(out[1:, :17], alone)
    with pytest.raises(ConfigError, match="linear"):
        build_input_layer(20, 8, "conv2d5")


def test_convolution_module_keeps_padding_out_of_valid_frames():
    torch.manual_seed(0)
    module = ConvolutionModule(6, kernel_size=5).eval()
    x = torch.randn(1, 9, 6)
    padded = torch.cat([x, 100 * torch.randn(1, 4, 6)], dim=1)
    mask = valid_mask(torch.tensor([9]), 13).unsqueeze(1)
    torch.testing.assert_close(module(padded, mask)[:, :9], module(x, None))
    with pytest.raises(ConfigError):
        ConvolutionModule(6, kernel_size=4)


def test_conformer_layer_equals_torchaudio_conformer_layer():
    """With plain attention our layer is torchaudio's ConformerLayer; copy the weights across and compare."""
    torch.manual_seed(0)
    size, heads, ffn, kernel = 16, 4, 32, 7
    peer = torchaudio.models.Conformer(size, heads, ffn, 1, kernel).conformer_layers[0].eval()
    ours = ConformerLayer(size, heads, ffn, 0.0, rel_pos=False, cnn_module_kernel=kernel).eval()
    attn = ours.self_attn
    mapping = {
        "ffn1.sequential.0": ours.norm_ff_macaron, "ffn1.sequential.1": ours.feed_forward_macaron.w_1,
        "ffn1.sequential.4": ours.feed_forward_macaron.w_2, "self_attn_layer_norm": ours.norm_mha,
        "self_attn.out_proj": attn.linear_out, "conv_module.layer_norm": ours.norm_conv,
        "conv_module.sequential.0": ours.conv_module.pointwise_conv1,
        "conv_module.sequential.2": ours.conv_module.depthwise_conv,
        "conv_module.sequential.3": ours.conv_module.norm,
        "conv_module.sequential.5": ours.conv_module.pointwise_conv2, "ffn2.sequential.0": ours.norm_ff,
        "ffn2.sequential.1": ours.feed_forward.w_1, "ffn2.sequential.4": ours.feed_forward.w_2,
        "final_layer_norm": ours.norm_final,
    }
    with torch.no_grad():
        for name, module in mapping.items():
            for param in ("weight", "bias"):
                theirs = peer.get_parameter(f"{name}.{param}")
                getattr(module, param).copy_(theirs.view_as(getattr(module, param)))
        for stat in ("running_mean", "running_var"):  # non-trivial batch-norm statistics
            getattr(peer.conv_module.sequential[3], stat).uniform_(0.5, 1.5)
            getattr(ours.conv_module.norm, stat).copy_(getattr(peer.conv_module.sequential[3], stat))
        q, k, v = peer.self_attn.in_proj_weight.chunk(3)
        qb, kb, vb = peer.self_attn.in_proj_bias.chunk(3)
        for linear, weight, bias in ((attn.linear_q, q, qb), (attn.linear_k, k, kb), (attn.linear_v, v, vb)):
            linear.weight.copy_(weight)
            linear.bias.copy_(bias)
    x = torch.randn(2, 11, size)
    expected = peer(x.transpose(0, 1), None).transpose(0, 1)
    torch.testing.assert_close(ours(x, None, None), expected, atol=1e-5, rtol=1e-5)


def test_transformer_style_layer_has_no_macaron_or_conv():
    layer = ConformerLayer(8, 2, 16, macaron_style=False, use_cnn_module=False, rel_pos=False,
                           activation_type="relu")
    assert layer.feed_forward_macaron is None and layer.conv_module is None and layer.norm_final is None
    assert isinstance(layer.feed_forward.activation, torch.nn.ReLU)
    post_norm = ConformerLayer(8, 2, 16, normalize_before=False).eval()
    out = post_norm(torch.randn(1, 3, 8), RelPositionalEncoding(8, 0.0)(torch.zeros(1, 3, 8))[1], None)
    # post-norm: the final LayerNorm output has zero mean per frame
    torch.testing.assert_close(out.mean(-1), torch.zeros(1, 3), atol=1e-5, rtol=0)
