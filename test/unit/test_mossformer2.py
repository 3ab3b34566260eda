"""MossFormer2 against ClearerVoice-Studio's own network (pip clearvoice 0.1.2) as the oracle.

The released 16 kHz / 8 kHz networks run on short inputs (2400 samples: 299 encoder frames,
two attention chunks of 256 with padding) to keep the 55.7 M-parameter forward to seconds;
the small configurations run on 1 s.
"""
import argparse

import numpy as np
import pytest
import torch
import torchaudio
import yaml

from toolkit.bin import import_clearvoice
from toolkit.models.sep import build_separator
from toolkit.models.sep.mossformer2 import MossFormer2
from toolkit.models.sep.mossformer2_configs import MOSSFORMER2_CONFIGS, network_kwargs
from toolkit.utils.errors import ConfigError
from toolkit.utils.espeak import synthesize

SMALL = {"num_spks": 2, "encoder_kernel_size": 16, "encoder_embedding_dim": 64, "mossformer_sequence_dim": 64,
         "num_mossformer_layer": 2}
SMALL_3SPK = {"num_spks": 3, "encoder_kernel_size": 8, "encoder_embedding_dim": 96, "mossformer_sequence_dim": 96,
              "num_mossformer_layer": 3}


@pytest.fixture(scope="module")
def clearvoice_net():
    pytest.importorskip("clearvoice")
    from clearvoice.models.mossformer2_ss import mossformer2

    return mossformer2


def reference(clearvoice_net, conf, seed=0):
    """ClearerVoice's network (the module its checkpoints hold), built from a config like theirs."""
    torch.manual_seed(seed)
    return clearvoice_net.MossFormer2_SS_16K(argparse.Namespace(**conf)).model


def separate(net, mix, seed=None):
    """[batch, num_spks, samples] from either network (ClearerVoice returns a list per speaker)."""
    if seed is not None:
        torch.manual_seed(seed)
    out = net(mix)
    return torch.stack(out, dim=1) if isinstance(out, list) else out


def test_released_network_has_55_7_m_parameters():
    model = MossFormer2()
    count = sum(p.numel() for p in model.parameters())
    assert count == 55_735_394  # ClearerVoice's trainable count (its rotary freqs add 16 frozen ones)
    assert round(count / 1e6, 1) == 55.7
    for name in MOSSFORMER2_CONFIGS:
        conf, _ = network_kwargs(name)
        assert sum(p.numel() for p in MossFormer2(**conf).parameters()) == count


def test_released_configs():
    assert MOSSFORMER2_CONFIGS["MossFormer2_SS_16K"]["fs"] == 16000
    assert MOSSFORMER2_CONFIGS["MossFormer2_SS_8K"]["fs"] == 8000
    assert network_kwargs("MossFormer2_SS_16K")[0] == network_kwargs("MossFormer2_SS_8K")[0]


@pytest.mark.parametrize("name", sorted(MOSSFORMER2_CONFIGS))
def test_released_network_equals_clearvoice(clearvoice_net, name):
    conf, _ = network_kwargs(name)
    ref = reference(clearvoice_net, conf).eval()
    ours = MossFormer2(**conf).eval()
    ref_state, our_state = ref.state_dict(), ours.state_dict()
    assert set(our_state) == set(ref_state)
    assert all(our_state[k].shape == v.shape for k, v in ref_state.items())
    ours.load_state_dict(ref_state, strict=True)
    mix = torch.randn(1, 2400, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected, got = separate(ref, mix), separate(ours, mix)
    assert got.shape == (1, 2, 2400)
    assert (got - expected).abs().max() <= 1e-4


@pytest.mark.parametrize("conf,samples", [(SMALL, 16003), (SMALL, 16008), (SMALL_3SPK, 8000)])  # odd and even frame counts
def test_small_network_equals_clearvoice(clearvoice_net, conf, samples):
    ref = reference(clearvoice_net, conf).eval()
    ours = MossFormer2(**conf).eval()
    ours.load_state_dict(ref.state_dict(), strict=True)
    mix = torch.randn(2, samples, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        expected, got = separate(ref, mix), separate(ours, mix)
    assert got.shape == (2, conf["num_spks"], samples)
    assert (got - expected).abs().max() <= 1e-4


def test_training_mode_equals_clearvoice(clearvoice_net):
    """The same dropout draws in the same order, and the same gradients."""
    ref = reference(clearvoice_net, SMALL).train()
    ours = MossFormer2(**SMALL).train()
    ours.load_state_dict(ref.state_dict(), strict=True)
    mix = torch.randn(1, 4000, generator=torch.Generator().manual_seed(2))
    expected, got = separate(ref, mix, seed=3), separate(ours, mix, seed=3)
    assert (got - expected).abs().max() <= 1e-4
    (expected ** 2).mean().backward()
    (got ** 2).mean().backward()
    ref_params = dict(ref.named_parameters())
    for name, param in ours.named_parameters():
        assert torch.allclose(param.grad, ref_params[name].grad, rtol=1e-3, atol=1e-6), name


@pytest.fixture(scope="module")
def released_checkpoints(clearvoice_net, tmp_path_factory):
    """A random-init MossFormer2_SS_8K saved both ways ClearerVoice files come: a trainer state
    from DDP ('model' entry, 'module.' keys) and a bare state dict without the constant tables."""
    root = tmp_path_factory.mktemp("clearvoice")
    conf, _ = network_kwargs("MossFormer2_SS_8K")
    ref = reference(clearvoice_net, conf, seed=4).eval()
    state = ref.state_dict()
    trainer_state = {"model": {f"module.{k}": v for k, v in state.items()}, "epoch": 3, "step": 1200,
                     "optimizer": {"state": {}, "param_groups": [{"lr": 1.5e-4, "params": [0]}]}}
    torch.save(trainer_state, root / "trainer_state.pt")
    torch.save({k: v for k, v in state.items() if not k.endswith(("freqs", "inv_freq"))}, root / "bare.pt")
    return root, ref


@pytest.mark.parametrize("filename", ["trainer_state.pt", "bare.pt"])
def test_import_clearvoice_round_trip(released_checkpoints, filename, tmp_path):
    root, ref = released_checkpoints
    import_clearvoice.main(["--network", "MossFormer2_SS_8K", "--checkpoint", str(root / filename),
                            "--out_dir", str(tmp_path)])
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    conf, _ = network_kwargs("MossFormer2_SS_8K")
    assert config == {"task": "sep", "separator": "mossformer2", "separator_conf": conf, "fs": 8000, "num_spks": 2}
    saved = torch.load(tmp_path / "model.pth", weights_only=True)
    assert all(k.startswith("separator.") for k in saved)
    model = MossFormer2(**config["separator_conf"]).eval()
    model.load_state_dict({k[len("separator."):]: v for k, v in saved.items()}, strict=True)
    mix = torch.randn(1, 1200, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        assert (separate(model, mix) - separate(ref, mix)).abs().max() <= 1e-4


def test_import_clearvoice_names_mismatched_keys(released_checkpoints, tmp_path, capsys):
    root, _ = released_checkpoints
    state = torch.load(root / "bare.pt", weights_only=True)
    del state["mask_net.conv1d_out.weight"]
    state["mask_net.extra.weight"] = torch.zeros(1)
    torch.save(state, tmp_path / "bad.pt")
    with pytest.raises(SystemExit) as exit_info:
        import_clearvoice.main(["--network", "MossFormer2_SS_8K", "--checkpoint", str(tmp_path / "bad.pt"),
                                "--out_dir", str(tmp_path / "out")])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "1 missing keys: mask_net.conv1d_out.weight" in err
    assert "1 unexpected keys: mask_net.extra.weight" in err
    assert "bad.pt" in err and not (tmp_path / "out" / "model.pth").exists()


def _speech(text, voice, pitch, fs=8000):
    audio, rate = synthesize(text, voice, pitch=pitch)
    return torchaudio.functional.resample(torch.from_numpy(audio.astype(np.float32) / 32768), rate, fs)


def _pit_neg_si_snr(est, ref):
    """Negative SI-SNR (dB) of the better of the two speaker orders, batch mean."""
    def si_snr(e, r):
        e, r = e - e.mean(-1, keepdim=True), r - r.mean(-1, keepdim=True)
        target = (e * r).sum(-1, keepdim=True) * r / (r ** 2).sum(-1, keepdim=True)
        return 10 * torch.log10((target ** 2).sum(-1) / ((e - target) ** 2).sum(-1))

    return -torch.maximum(si_snr(est, ref).mean(-1), si_snr(est.flip(1), ref).mean(-1)).mean()


def test_small_network_learns_to_separate_two_voices():
    samples = 6000
    ref = torch.stack([_speech("one two three four", "en-us", 40)[:samples],
                       _speech("seven eight nine ten", "en-us+f3", 75)[:samples]])[None]
    mix = ref.sum(1)
    torch.manual_seed(0)
    model = build_separator("mossformer2", {"encoder_embedding_dim": 64, "mossformer_sequence_dim": 64,
                                            "num_mossformer_layer": 2, "group_size": 64, "query_key_dim": 32,
                                            "fsmn_inner_dim": 32})
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    with torch.no_grad():
        before = _pit_neg_si_snr(model.eval()(mix), ref).item()
    model.train()
    for _ in range(12):
        loss = _pit_neg_si_snr(model(mix), ref)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        after = _pit_neg_si_snr(model.eval()(mix), ref).item()
    assert after < before - 10, (before, after)


def test_encoder_and_sequence_dims_may_differ():
    model = MossFormer2(encoder_embedding_dim=48, mossformer_sequence_dim=32, num_mossformer_layer=1, group_size=32,
                        query_key_dim=16, fsmn_inner_dim=16, num_spks=3).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1001)).shape == (2, 3, 1001)


def test_rejects_bad_input_and_config():
    model = MossFormer2(**SMALL)
    with pytest.raises(ValueError, match="samples >= 16"):
        model(torch.zeros(1, 10))
    with pytest.raises(ValueError, match="batch, samples"):
        model(torch.zeros(16000))
    with pytest.raises(ConfigError, match="query_key_dim 33"):
        MossFormer2(**SMALL, query_key_dim=33)
    with pytest.raises(ConfigError, match="conv_kernel_size 16"):
        MossFormer2(**SMALL, conv_kernel_size=16)
