"""The separation task: data fields and crops, the PIT-trained model, sample-rate checks."""
import argparse

import numpy as np
import pytest
import torch

from toolkit.corpus.mixtures import mix_pair
from toolkit.corpus.synthesis import resample_speech
from toolkit.data.audio_io import write_audio
from toolkit.data.datadir import write_data_dir
from toolkit.tasks.sep import SepTask
from toolkit.utils.errors import ConfigError, DataError
from toolkit.utils.espeak import synthesize

FS = 8000
TEXTS = [("one small step for a man", "en-us+m3"), ("green apples fall from trees", "en+f2"),
         ("the river runs past the old mill", "en-gb-x-rp+m1"), ("seven days make one week", "en-us+f4")]


@pytest.fixture(scope="module")
def sep_dir(tmp_path_factory):
    """Three 8 kHz two-speaker mixtures of espeak speech (mix = s1 + s2 exactly, int16)."""
    root = tmp_path_factory.mktemp("sep")
    speech = []
    for text, voice in TEXTS:
        audio, native = synthesize(text, voice=voice)
        speech.append(resample_speech(audio, native, FS)[0])
    wav, s1, s2, lengths = {}, {}, {}, {}
    for i, (a, b) in enumerate(((0, 1), (2, 3), (1, 2))):
        utt = f"mix{i}"
        for name, samples, table in zip(("mix", "s1", "s2"), mix_pair(speech[a], speech[b], 1.0, FS), (wav, s1, s2)):
            path = root / f"{utt}_{name}.wav"
            write_audio(str(path), samples, FS)
            table[utt] = str(path)
        lengths[utt] = len(samples)
    write_data_dir(str(root / "data"), wav, {u: u for u in wav},
                   extra={"spk1.scp": s1, "spk2.scp": s2, "utt2num_samples": lengths})
    return str(root / "data")


def _args(**overrides):
    args = dict(separator="conv_tasnet", num_spks=2, fs=FS, seed=0, loss_conf={"kind": "si_snr"},
                separator_conf={"enc_kernel": 16, "enc_dim": 16, "bottleneck": 8, "hidden": 16, "layers": 2,
                                "stacks": 1, "skip": 8})
    args.update(overrides)
    return argparse.Namespace(**args)


def test_crops_cut_mixture_and_sources_at_one_offset(sep_dir):
    args = _args()
    dataset = SepTask.build_dataset(args, sep_dir, train=True)
    assert set(dataset.fields) == {"speech_mix", "speech_ref1", "speech_ref2"}
    dataset.set_crop(3000, dataset.keys, SepTask.crop_fields(args))
    for epoch in (0, 1):
        dataset.epoch = epoch
        for utt in dataset.keys:
            example = dataset[utt][1]
            assert example["speech_mix"].shape == (3000,)
            np.testing.assert_allclose(example["speech_mix"], example["speech_ref1"] + example["speech_ref2"],
                                       atol=1e-6)


def test_model_loss_is_permutation_invariant_and_ignores_padding(sep_dir):
    torch.manual_seed(0)
    model = SepTask.build_model(_args()).eval()
    dataset = SepTask.build_dataset(_args(), sep_dir, train=False)
    examples = [dataset[u][1] for u in dataset.keys[:2]]
    length = max(len(e["speech_mix"]) for e in examples)
    batch = {name: torch.stack([torch.nn.functional.pad(torch.as_tensor(e[name]), (0, length - len(e[name])))
                                for e in examples]) for name in examples[0]}
    lengths = torch.tensor([len(e["speech_mix"]) for e in examples])
    loss, stats, weight = model(batch["speech_mix"], lengths, speech_ref1=batch["speech_ref1"],
                                speech_ref2=batch["speech_ref2"])
    swapped, _, _ = model(batch["speech_mix"], lengths, speech_ref1=batch["speech_ref2"],
                          speech_ref2=batch["speech_ref1"])
    assert weight == 2 and set(stats) == {"loss", "si_snr", "si_snri"}
    assert torch.isclose(loss, swapped) and stats["si_snr"] == pytest.approx(-loss.item(), abs=1e-4)
    # padding never enters the loss: the shorter utterance's loss equals that of its trimmed signals
    est, ref = model.separate(batch["speech_mix"]), torch.stack([batch["speech_ref1"], batch["speech_ref2"]], 1)
    short = int(lengths.argmin())
    n = int(lengths[short])
    inside = model.criterion(est, ref, lengths)[1][short]
    alone = model.criterion(est[short:short + 1, :, :n], ref[short:short + 1, :, :n])[1][0]
    assert inside.item() == pytest.approx(alone.item(), abs=1e-4)


def test_rate_mismatch_is_an_error_naming_file_and_utterance(sep_dir):
    with pytest.raises(DataError, match=r"wav.scp: utterance mix0: .* is 8000 Hz, --fs is 16000"):
        SepTask.build_dataset(_args(fs=16000), sep_dir, train=True)


def test_bad_configs_are_config_errors():
    with pytest.raises(ConfigError, match="unknown keys"):
        SepTask.build_model(_args(separator_conf={"bogus": 1}))
    with pytest.raises(ConfigError, match="num_spks 3 != --num_spks 2"):
        SepTask.build_model(_args(separator_conf={"num_spks": 3}))
    with pytest.raises(ConfigError, match="loss_conf"):
        SepTask.build_model(_args(loss_conf={"kind": "si_snr", "weight": 2}))
