"""--init_param (prefixes, exclude, shape errors, reports), --freeze_param, parameter counts."""
import logging

import pytest
import torch
from torch import nn

from toolkit.train.checkpoint import save_checkpoint
from toolkit.train.finetune import (
    add_arguments, apply_finetune_options, count_parameters, format_parameter_count, freeze_param,
    init_param, parse_init_param)
from toolkit.utils.config import get_parser, parse_args
from toolkit.utils.errors import ConfigError, DataError


class TinyAsr(nn.Module):
    def __init__(self, vocab=5, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8), nn.Linear(8, 8))
        self.decoder = nn.ModuleDict({"embed": nn.Embedding(vocab, 8), "output_layer": nn.Linear(8, vocab)})
        self.ctc = nn.Linear(8, vocab)


class TinyLm(nn.Module):
    def __init__(self, vocab=5):
        super().__init__()
        torch.manual_seed(7)
        self.lm = nn.ModuleDict({"embed": nn.Embedding(vocab, 8), "output_layer": nn.Linear(8, vocab)})


def snapshot(model):
    return {key: value.clone() for key, value in model.state_dict().items()}


def test_parse_init_param():
    assert parse_init_param("a.pth") == ("a.pth", "", "", [])
    assert parse_init_param("a.pth:lm:decoder") == ("a.pth", "lm", "decoder", [])
    assert parse_init_param("a.pth:::ctc,decoder.output_layer") == ("a.pth", "", "", ["ctc", "decoder.output_layer"])
    with pytest.raises(ConfigError, match="no checkpoint path"):
        parse_init_param(":encoder")


def test_init_whole_model_from_trainer_state(tmp_path):
    source = TinyAsr(seed=1)
    save_checkpoint(tmp_path / "ckpt.pth", {"model": source.state_dict(), "epoch": 3})
    model = TinyAsr(seed=2)
    report = init_param(model, str(tmp_path / "ckpt.pth"))
    assert report.missing == [] and report.unexpected == [] and report.excluded == []
    assert sorted(report.loaded) == sorted(source.state_dict())
    for key, value in model.state_dict().items():
        assert torch.equal(value, source.state_dict()[key]), key


def test_src_and_dst_prefixes(tmp_path):
    lm = TinyLm()
    save_checkpoint(tmp_path / "lm.pth", lm.state_dict())
    model = TinyAsr()
    before = snapshot(model)
    report = init_param(model, f"{tmp_path / 'lm.pth'}:lm:decoder")
    assert sorted(report.loaded) == ["decoder.embed.weight", "decoder.output_layer.bias",
                                     "decoder.output_layer.weight"]
    assert report.missing == []  # nothing under 'decoder' was left out
    assert torch.equal(model.decoder.embed.weight, lm.lm.embed.weight)
    assert torch.equal(model.decoder.output_layer.bias, lm.lm.output_layer.bias)
    for key in before:
        if not key.startswith("decoder."):
            assert torch.equal(model.state_dict()[key], before[key]), key
    # a sub-module prefix on both sides
    other = TinyAsr(seed=5)
    init_param(other, f"{tmp_path / 'lm.pth'}:lm.embed:decoder.embed")
    assert torch.equal(other.decoder.embed.weight, lm.lm.embed.weight)


def test_exclude_allows_a_new_vocabulary_and_shape_mismatch_is_an_error(tmp_path, caplog):
    source = TinyAsr(vocab=5, seed=1)
    save_checkpoint(tmp_path / "asr.pth", source.state_dict())
    model = TinyAsr(vocab=9, seed=2)
    with pytest.raises(ConfigError, match=r"decoder.embed.weight has shape \(5, 8\).*\(9, 8\)"):
        init_param(model, str(tmp_path / "asr.pth"))
    before = snapshot(model)
    with caplog.at_level(logging.WARNING):
        report = init_param(model, f"{tmp_path / 'asr.pth'}:::decoder,ctc")
    assert sorted(report.excluded) == sorted(k for k in source.state_dict() if k.startswith(("decoder.", "ctc.")))
    assert sorted(report.missing) == sorted(report.excluded)
    assert "5 model tensors not in the checkpoint, left as initialised: decoder.embed.weight" in caplog.text
    assert torch.equal(model.encoder[2].weight, source.encoder[2].weight)
    assert torch.equal(model.ctc.weight, before["ctc.weight"])


def test_prefixes_match_module_boundaries_and_unexpected_keys_are_reported(tmp_path, caplog):
    model = nn.Sequential(*[nn.Linear(2, 2) for _ in range(11)])
    state = {key: torch.full_like(value, 7.0) for key, value in model.state_dict().items()}
    state["20.weight"] = torch.zeros(2, 2)
    save_checkpoint(tmp_path / "seq.pth", state)
    with caplog.at_level(logging.WARNING):
        report = init_param(model, f"{tmp_path / 'seq.pth'}:::1")
    assert report.excluded == ["1.weight", "1.bias"]  # not 10.weight, 10.bias
    assert report.unexpected == ["20.weight"]
    assert "1 checkpoint tensors have no place in the model: 20.weight" in caplog.text
    assert bool((model[10].weight == 7).all()) and not bool((model[1].weight == 7).all())
    frozen = freeze_param(model, ["1"])
    assert frozen == ["1.weight", "1.bias"]


def test_init_param_errors(tmp_path):
    save_checkpoint(tmp_path / "lm.pth", TinyLm().state_dict())
    with pytest.raises(ConfigError, match="no parameter under 'decoder'.*top-level names: lm"):
        init_param(TinyAsr(), f"{tmp_path / 'lm.pth'}:decoder")
    with pytest.raises(ConfigError, match="model has no parameter under 'joiner'"):
        init_param(TinyAsr(), f"{tmp_path / 'lm.pth'}:lm:joiner")
    with pytest.raises(ConfigError, match="none of the 3 selected keys"):
        init_param(TinyAsr(), f"{tmp_path / 'lm.pth'}")
    with pytest.raises(DataError, match="missing.pth does not exist"):
        init_param(TinyAsr(), str(tmp_path / "missing.pth"))


def test_freeze_and_count_parameters():
    model = TinyAsr()
    total = sum(p.numel() for p in model.parameters())
    assert count_parameters(model) == (total, total)
    frozen = freeze_param(model, ["encoder", "decoder.embed"])
    assert sorted(frozen) == sorted(n for n, _ in model.named_parameters()
                                    if n.startswith(("encoder.", "decoder.embed.")))
    trainable = sum(p.numel() for n, p in model.named_parameters() if n not in frozen)
    assert trainable == 5 * 8 + 5 + 5 * 8 + 5  # output layer and ctc
    assert count_parameters(model) == (trainable, total)
    assert format_parameter_count(model) == \
        f"parameters: {total:,} total (0.00 M), {trainable:,} trainable ({100 * trainable / total:.2f}%)"
    with pytest.raises(ConfigError, match="'joiner' matches no parameter"):
        freeze_param(model, ["joiner"])
    tied = nn.Sequential(nn.Linear(3, 3, bias=False))
    tied.append(tied[0])  # a shared weight counts once
    assert count_parameters(tied) == (9, 9)


def test_options_from_the_command_line(tmp_path, caplog):
    source = TinyAsr(seed=1)
    save_checkpoint(tmp_path / "asr.pth", source.state_dict())
    parser = get_parser()
    add_arguments(parser)
    args = parse_args(parser, ["--init_param", f"{tmp_path / 'asr.pth'}:encoder:encoder",
                               "--freeze_param", "decoder.embed", "--lora_targets", "ctc",
                               "--lora_rank", "2"])
    model = TinyAsr(seed=2)
    with caplog.at_level(logging.INFO):
        apply_finetune_options(model, args)
    assert torch.equal(model.encoder[0].weight, source.encoder[0].weight)
    trainable = sorted(n for n, p in model.named_parameters() if p.requires_grad)
    assert trainable == ["ctc.lora_A", "ctc.lora_B"]  # LoRA freezes all else
    assert f"{2 * 8 + 5 * 2:,} trainable" in caplog.text
