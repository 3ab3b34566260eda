"""Vocoders: HiFi-GAN generator sizes and shapes, discriminators, GAN/STFT/mel losses, training turns with the
real trainer, and the Griffin-Lim fallback on espeak speech."""
import json
import math

import numpy as np
import pytest
import torch
import torchaudio

from toolkit.corpus.synthesis import resample_speech
from toolkit.data.audio_io import write_audio
from toolkit.data.datadir import write_data_dir
from toolkit.features.logmel import LogMel
from toolkit.losses.gan import discriminator_loss, feature_matching_loss, generator_adv_loss
from toolkit.losses.stft import MelL1Loss, MultiResolutionSTFTLoss
from toolkit.models.vocoder import (HIFIGAN_CONFIGS, GriffinLim, HiFiGANGenerator, HiFiGANModel,
                                    MultiPeriodDiscriminator, MultiScaleDiscriminator)
from toolkit.models.vocoder.hifigan import generator_config
from toolkit.tasks.vocoder import VocoderTask
from toolkit.tasks.checked_conf import checked_conf
from toolkit.train.distributed import DistInfo
from toolkit.train.options import add_arguments
from toolkit.train.trainer import Trainer
from toolkit.utils.config import get_parser, parse_args
from toolkit.utils.errors import ConfigError, DataError
from toolkit.utils.espeak import synthesize

FS = 16000
MEL = dict(sample_rate=FS, n_fft=1024, hop_length=256, win_length=1024, n_mels=80, fmin=0, fmax=8000)
TEXTS = [("the quick brown fox jumps over the lazy dog", "en-us"), ("green apples fall from trees", "en+f2"),
         ("seven days make one week", "en-us+m3"), ("the river runs past the old mill", "en-gb-x-rp+m1"),
         ("one small step for a man", "en-us+f4"), ("bring me the red cup", "en-us+m1")]
# A small HiFi-GAN (same hop 256 as the paper's V1/V2) and small discriminators: training steps take seconds.
TINY = dict(generator="v2", generator_conf={"upsample_initial_channel": 32, "resblock_kernel_sizes": [3, 7],
                                            "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5]]},
            mel_conf=MEL, mpd_conf={"channels": [4, 8, 16, 32, 32]},
            msd_conf={"channels": [16, 16, 16, 32, 32, 32, 32]})


@pytest.fixture(scope="module")
def speech():
    """Six espeak utterances at 16 kHz, float32 in [-1, 1]."""
    out = []
    for text, voice in TEXTS:
        audio, native = synthesize(text, voice=voice)
        out.append(resample_speech(audio, native, FS)[0])
    return out


def _count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name,paper", [("v1", 13.92), ("v2", 0.92), ("v3", 1.46)])
def test_generator_parameter_counts_match_the_paper(name, paper):
    """The paper's table counts the inference generator (weight norm folded), in millions cut to two decimals
    (ours: V1 13,926,017; V2 925,985; V3 1,462,273; with weight norm's extra gains 13,936,130 / 928,514 / 1,464,322)."""
    generator = HiFiGANGenerator(in_channels=80, **HIFIGAN_CONFIGS[name])
    with_norm = _count(generator)
    generator.remove_weight_norm()
    without = _count(generator)
    assert without // 10_000 == round(paper * 100)
    assert with_norm > without  # the weight-norm gains are extra parameters


@pytest.mark.parametrize("name", ["v1", "v2", "v3"])
def test_generator_output_is_frames_times_hop_in_range(name):
    torch.manual_seed(0)
    generator = HiFiGANGenerator(**HIFIGAN_CONFIGS[name])
    assert generator.hop_length == 256
    with torch.no_grad():
        wave = generator(torch.randn(2, 80, 7))
    assert wave.shape == (2, 1, 7 * 256) and wave.abs().max() <= 1


def test_weight_norm_removal_keeps_outputs():
    torch.manual_seed(0)
    generator = HiFiGANGenerator(**HIFIGAN_CONFIGS["v3"])
    mel = torch.randn(1, 80, 12)
    with torch.no_grad():
        before = generator(mel)
        generator.remove_weight_norm()
        after = generator(mel)
    assert not any("parametrizations" in key for key in generator.state_dict())
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-6)


def test_generator_configs_and_config_errors():
    with pytest.raises(ConfigError, match="hop_length 200"):
        HiFiGANModel("v2", mel_conf={**MEL, "hop_length": 200})
    with pytest.raises(ConfigError, match="unknown keys \\['channels'\\]"):
        HiFiGANModel("v2", generator_conf={"channels": 4})
    with pytest.raises(ConfigError, match="generator 'v4'"):
        HiFiGANModel("v4")
    with pytest.raises(ConfigError, match="generator: unknown keys \\['upsample'\\]"):
        HiFiGANModel({"upsample": [8, 8, 4]})
    assert generator_config({"upsample_initial_channel": 64}) == {**HIFIGAN_CONFIGS["v1"], "upsample_initial_channel": 64}
    assert generator_config("v3", {"in_channels": 40}) == {**HIFIGAN_CONFIGS["v3"], "in_channels": 40}
    with pytest.raises(ConfigError, match="mel_conf: unknown key\\(s\\) 'hop'"):
        HiFiGANModel("v2", mel_conf={"hop": 256})
    with pytest.raises(ConfigError, match="vocoder_conf: unknown key\\(s\\) 'lambda_feat'"):
        checked_conf("vocoder_conf", HiFiGANModel, {"generator": "v2", "lambda_feat": 2}, {"mel_conf"})
    with pytest.raises(ConfigError, match="even difference"):
        HiFiGANGenerator(upsample_rates=(8, 8, 2, 2), upsample_kernel_sizes=(16, 15, 4, 4))


def _strided(length, strides):
    """Length after convs that keep ceil(length / stride) (kernel k, padding k // 2, odd k)."""
    for s in strides:
        length = math.ceil(length / s)
    return length


def test_discriminator_outputs_and_feature_maps():
    torch.manual_seed(0)
    wave = 0.1 * torch.randn(2, 1, 4000)
    mpd, msd = MultiPeriodDiscriminator(), MultiScaleDiscriminator()
    with torch.no_grad():
        period_out, scale_out = mpd(wave), msd(wave)
    assert len(period_out) == 5 and len(scale_out) == 3
    for period, (logits, fmaps) in zip((2, 3, 5, 7, 11), period_out):
        rows = _strided(math.ceil(4000 / period), (3, 3, 3, 3))
        assert logits.shape == (2, rows * period)
        assert [f.shape[1] for f in fmaps] == [32, 128, 512, 1024, 1024, 1]
        assert fmaps[-1].shape == (2, 1, rows, period)
    lengths = [4000, 4000 // 2 + 1, (4000 // 2 + 1) // 2 + 1]  # AvgPool1d(4, 2, padding 2)
    for length, (logits, fmaps) in zip(lengths, scale_out):
        assert logits.shape == (2, _strided(length, (2, 2, 4, 4)))
        assert [f.shape[1] for f in fmaps] == [128, 128, 256, 512, 1024, 1024, 1024, 1]
    first, second = msd.discriminators[0].convs[0], msd.discriminators[1].convs[0]
    assert type(first.parametrizations.weight[0]).__name__ == "_SpectralNorm"
    assert type(second.parametrizations.weight[0]).__name__ == "_WeightNorm"


def test_lsgan_and_feature_matching_losses():
    ones, zeros = [torch.ones(2, 5), torch.ones(2, 3)], [torch.zeros(2, 5), torch.zeros(2, 3)]
    assert generator_adv_loss(ones) == 0 and generator_adv_loss(zeros) == 2  # one per discriminator
    total, real, fake = discriminator_loss(ones, zeros)
    assert total == real == fake == 0
    total, real, fake = discriminator_loss(zeros, ones)
    assert (total, real, fake) == (4, 2, 2)
    maps = [[torch.randn(2, 4, 6), torch.randn(2, 1, 6)]]
    shifted = [[m + 0.5 for m in maps[0]]]
    assert feature_matching_loss(maps, maps) == 0
    assert feature_matching_loss(maps, shifted).item() == pytest.approx(1.0)  # 0.5 per layer, summed


def test_multi_resolution_stft_loss_is_zero_for_identical_and_matches_auraloss(speech):
    from auraloss.freq import MultiResolutionSTFTLoss as Auraloss  # test dependency auraloss==0.4.0

    real = torch.from_numpy(np.stack([speech[1][:16000], speech[2][:16000]]))
    fake = real + 0.01 * torch.randn(real.shape, generator=torch.Generator().manual_seed(0))
    resolutions = ((512, 128, 512), (1024, 256, 1024), (2048, 512, 2048))
    ours = MultiResolutionSTFTLoss(resolutions, eps=1e-8)
    assert ours(real, real) == 0 and ours(fake, real) > 0
    theirs = Auraloss(fft_sizes=[r[0] for r in resolutions], hop_sizes=[r[1] for r in resolutions],
                      win_lengths=[r[2] for r in resolutions])
    torch.testing.assert_close(ours(fake, real), theirs(fake[:, None], real[:, None]), rtol=1e-4, atol=1e-6)


def test_mel_loss_ignores_frames_past_the_lengths(speech):
    real = torch.zeros(2, 12000)
    real[0], real[1, :6000] = torch.from_numpy(speech[0][:12000]), torch.from_numpy(speech[1][:6000])
    lengths = torch.tensor([12000, 6000])
    # the last frame inside utterance 1 (index 6000 // 256) has a window ending at 23 * 256 + 512 samples
    fake = real.clone()
    fake[1, 23 * 256 + 512:] = 0.3 * torch.randn(12000 - 23 * 256 - 512)
    loss = MelL1Loss(**MEL)
    assert loss(fake, real, lengths) == 0 and loss(fake, real) > 0
    assert loss(fake, real, torch.tensor([12000, 12000])) == loss(fake, real)


def test_model_turns_route_gradients_and_report(speech):
    torch.manual_seed(0)
    model = HiFiGANModel(**TINY, use_stft_loss=True)
    speech_batch = torch.zeros(2, 8192)
    speech_batch[0], speech_batch[1, :5000] = torch.from_numpy(speech[0][:8192]), torch.from_numpy(speech[1][:5000])
    lengths = torch.tensor([8192, 5000])
    loss, stats, weight = model(speech_batch, lengths, turn="generator")
    assert weight == 2 and set(stats) == {"loss", "mel_loss", "adv_loss", "fm_loss", "stft_loss"}
    expected = stats["adv_loss"] + 2 * stats["fm_loss"] + 45 * stats["mel_loss"] + stats["stft_loss"]
    assert stats["loss"] == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert all(p.grad is not None for p in model.generator.parameters())
    assert all(p.grad is None and p.requires_grad for p in [*model.mpd.parameters(), *model.msd.parameters()])
    model.zero_grad(set_to_none=True)
    loss, stats, _ = model(speech_batch, lengths, turn="discriminator")
    assert set(stats) == {"loss", "real_loss", "fake_loss", "mel_loss"}
    assert stats["loss"] == pytest.approx(stats["real_loss"] + stats["fake_loss"], rel=1e-5)
    loss.backward()
    assert all(p.grad is None for p in model.generator.parameters())
    assert all(p.grad is not None for p in [*model.mpd.parameters(), *model.msd.parameters()])
    fake = model.generate(speech_batch, lengths)
    assert fake.shape == (2, 1, 8192) and fake[1, 0, 5000:].abs().max() == 0 and fake[1, 0, :5000].abs().max() > 0
    with pytest.raises(DataError, match="at least 513"):
        model(speech_batch[:, :400], torch.tensor([400, 400]))


def test_hifigan_mel_round_trip_shapes(speech):
    torch.manual_seed(0)
    model = HiFiGANModel("v2", mel_conf=MEL).eval()
    logmel = LogMel(**MEL)
    mel = logmel(torch.from_numpy(speech[0]))  # [frames, 80]
    wave = model.inference(mel)
    assert wave.shape == (mel.shape[0] * 256,) and torch.isfinite(wave).all()
    assert logmel(wave).shape == (mel.shape[0] + 1, 80)
    batch = model.inference(torch.stack([mel, mel]))
    assert batch.shape == (2, mel.shape[0] * 256)
    torch.testing.assert_close(batch[1], wave, rtol=1e-4, atol=1e-5)
    with pytest.raises(DataError, match="log-mel \\[frames, 80\\]"):
        model.inference(mel[:, :40])


def test_griffin_lim_mel_inverse_equals_torchaudio_inverse_mel_scale(speech):
    mel = LogMel(**MEL)(torch.from_numpy(speech[1]))[None]
    ours = GriffinLim(**MEL).linear(mel)
    inverse = torchaudio.transforms.InverseMelScale(513, 80, FS, 0.0, 8000.0, norm="slaney", mel_scale="slaney",
                                                    driver="gelsd").double()
    theirs = inverse(mel.exp().transpose(1, 2).double().contiguous())
    torch.testing.assert_close(ours.double(), theirs, rtol=1e-3, atol=1e-4 * float(theirs.max()))


def test_griffin_lim_round_trip_reproduces_the_mel(speech):
    """Re-analysed Griffin-Lim speech is close to the input log-mel.

    On this sentence 32 iterations give a spectral convergence (||M - M'||_F / ||M||_F on the mel magnitudes)
    near 0.10 and a mean log-mel error near 0.16 nats (1.4 dB); one inverse STFT with the zero initial phase,
    i.e. no iterations, gives 0.9 and 3.3. The bounds 0.15 and 0.25 nats (2.2 dB) leave room for numerics while
    failing any pipeline whose phase does not converge or whose mel inverse is wrong (wrong filterbank, scale).
    """
    logmel = LogMel(**MEL)
    mel = logmel(torch.from_numpy(speech[0]))
    vocoder = GriffinLim(n_iter=32, **MEL)
    wave = vocoder.inference(mel)
    assert wave.shape == ((mel.shape[0] - 1) * 256,) and wave.abs().max() < 1
    again = logmel(wave)
    assert again.shape == mel.shape
    convergence = torch.linalg.norm(again.exp() - mel.exp()) / torch.linalg.norm(mel.exp())
    assert convergence < 0.15
    assert (again - mel).abs().mean() < 0.25
    phase_free = torch.istft(vocoder.linear(mel[None]).to(torch.complex64), 1024, 256, 1024, vocoder.window,
                             length=wave.shape[0])[0]
    baseline = torch.linalg.norm(logmel(phase_free).exp() - mel.exp()) / torch.linalg.norm(mel.exp())
    assert convergence < baseline / 3
    assert vocoder.inference(torch.stack([mel, mel])).shape == (2, wave.shape[0])


def _trainer(speech, tmp_path, **vocoder_conf):
    """A Trainer of the vocoder task (tiny HiFi-GAN + vocoder_conf) for 2 epochs of 4 batches of two
    4096-sample crops of real speech."""
    for name, utts in (("train", [0, 1, 2, 3] * 2), ("dev", [4, 5])):
        wav, lengths = {}, {}
        for j, i in enumerate(utts):
            path = tmp_path / f"utt{i}.wav"
            write_audio(str(path), speech[i], FS)
            wav[f"utt{j}"], lengths[f"utt{j}"] = str(path), len(speech[i])
        write_data_dir(str(tmp_path / name), wav, {u: u for u in wav}, extra={"utt2num_samples": lengths})
    (tmp_path / "mel.yaml").write_text(json.dumps(MEL))
    tiny = {k: v for k, v in TINY.items() if k != "mel_conf"}
    parser = get_parser()
    add_arguments(parser)
    VocoderTask.add_arguments(parser)
    args = parse_args(parser, [
        "--feat_conf", str(tmp_path / "mel.yaml"), "--vocoder_conf", json.dumps({**tiny, **vocoder_conf}),
        "--train_data_dir", str(tmp_path / "train"), "--valid_data_dir", str(tmp_path / "dev"),
        "--output_dir", str(tmp_path / "exp"), "--batch_type", "static", "--batch_size", "2", "--shuffle", "false",
        "--tensorboard", "false", "--seed", "1", "--length_policy", "crop", "--max_length", "4096",
        "--max_epoch", "2", "--optim", "adam", "--lr", "0.005", "--best_model_criterion", "valid mel_loss min"])
    return Trainer(args, VocoderTask, DistInfo())


def test_gan_training_steps_lower_the_mel_loss(speech, tmp_path):
    """8 steps of both turns with the real trainer."""
    trainer = _trainer(speech, tmp_path)
    before = trainer.validate()["mel_loss"]  # the untrained generator on the full-length validation utterances
    trainer.run()
    history = trainer.reporter.history
    assert trainer.step == 8
    assert {"generator_mel_loss", "generator_adv_loss", "generator_fm_loss", "discriminator_loss",
            "grad_norm_discriminator"} <= set(history[2]["train"])
    assert history[2]["train"]["generator_mel_loss"] < history[1]["train"]["generator_mel_loss"]
    assert history[2]["valid"]["mel_loss"] < 0.6 * before


def test_discriminator_sits_out_its_first_steps(speech, tmp_path):
    trainer = _trainer(speech, tmp_path, discriminator_start_steps=4)
    model = trainer.module
    initial = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(("mpd.", "msd."))}
    trainer.args.max_epoch = 1
    trainer.run()  # epoch 1: steps 1-4, generator only
    assert int(model.steps) == 4
    assert [k for k, v in initial.items() if not torch.equal(model.state_dict()[k], v)] == []
    first = trainer.reporter.history[1]["train"]
    assert "generator_mel_loss" in first and "generator_adv_loss" not in first
    assert "grad_norm_discriminator" not in first and "grad_norm_generator" in first
    trainer.args.max_epoch = 2
    trainer.run()  # epoch 2: both turns
    assert int(model.steps) == 8
    assert not all(torch.equal(model.state_dict()[k], v) for k, v in initial.items())
    assert {"generator_adv_loss", "grad_norm_discriminator"} <= set(trainer.reporter.history[2]["train"])
