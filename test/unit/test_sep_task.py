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


def _with_src_spk(sep_dir, tmp_path, lines, name="dm"):
    """A copy of sep_dir (tmp_path/name) whose utt2src_spk has `lines` {utt: 'spk spk'}."""
    import shutil
    out = tmp_path / name
    shutil.copytree(sep_dir, out)
    (out / "utt2src_spk").write_text("".join(f"{u} {s}\n" for u, s in sorted(lines.items())))
    return str(out)


def _source_of(ref, sources):
    """(index of the source file `ref` is a scaled crop of, its normalised correlation)."""
    best = (None, 0.0)
    for i, src in enumerate(sources):
        corr = np.correlate(src, ref, mode="valid")
        energy = np.sqrt(np.convolve(src ** 2, np.ones(len(ref)), mode="valid")) * np.linalg.norm(ref)
        score = float(np.max(np.abs(corr) / np.maximum(energy, 1e-9)))
        if score > best[1]:
            best = (i, score)
    return best


def test_dynamic_mixing_remixes_scaled_crops_of_distinct_speakers(sep_dir, tmp_path):
    from toolkit.corpus.mixtures import active_level_db
    from toolkit.data.audio_io import read_audio
    from toolkit.data.datadir import DataDir
    # the fixture mixes clips (0, 1), (2, 3), (1, 2); clips 0 and 1 are speaker 'A', clips 2 and 3 'B'
    clips = {"mix0": (0, 1), "mix1": (2, 3), "mix2": (1, 2)}
    data_dir = _with_src_spk(sep_dir, tmp_path, {"mix0": "A A", "mix1": "B B", "mix2": "A B"})
    data = DataDir(data_dir)
    files = [(read_audio(data.table(f"spk{k + 1}.scp")[u])[0], clips[u][k]) for u in data.utts for k in (0, 1)]
    args = _args(dynamic_mixing={"prob": 1.0, "max_level_db": 5.0})
    dataset = SepTask.build_dataset(args, data_dir, train=True)
    dataset.set_crop(3000, dataset.keys, SepTask.crop_fields(args))
    pairs = set()
    for epoch in range(4):
        dataset.epoch = epoch
        for utt in dataset.keys:
            example = dataset[utt][1]
            mix, refs = example["speech_mix"], [example["speech_ref1"], example["speech_ref2"]]
            assert mix.shape == refs[0].shape == refs[1].shape == (3000,)
            np.testing.assert_allclose(mix, refs[0] + refs[1], atol=1e-6)
            assert max(np.abs(x).max() for x in (mix, *refs)) == pytest.approx(0.9, abs=1e-6)
            level_gap = active_level_db(refs[0], FS) - active_level_db(refs[1], FS)
            assert -1e-6 <= level_gap <= 5.0 + 1e-6
            found = [_source_of(r, [f for f, _ in files]) for r in refs]
            assert all(score > 0.9999 for _, score in found)
            pair = tuple(sorted(files[i][1] for i, _ in found))
            assert pair[0] in (0, 1) and pair[1] in (2, 3)  # one source of 'A', one of 'B'
            pairs.add(pair)
            again = dataset[utt][1]  # the draw depends on (seed, epoch, utt) only
            np.testing.assert_array_equal(again["speech_mix"], mix)
    assert pairs - {(1, 2)}, "dynamic mixing only reproduced the fixed pairs"


def test_dynamic_mixing_speed_factors_resample_the_drawn_sources(sep_dir):
    from toolkit.data.audio_io import read_audio
    from toolkit.data.datadir import DataDir
    from toolkit.data.speed_perturb import change_speed
    data = DataDir(sep_dir)
    faster = [change_speed(read_audio(data.table(f"spk{k}.scp")[u])[0][:, None], FS, 1.1)[:, 0]
              for u in data.utts for k in (1, 2)]
    args = _args(dynamic_mixing={"prob": 1.0, "speed_factors": [1.1]})
    dataset = SepTask.build_dataset(args, sep_dir, train=True)
    dataset.set_crop(3000, dataset.keys, SepTask.crop_fields(args))
    for utt in dataset.keys:
        example = dataset[utt][1]
        np.testing.assert_allclose(example["speech_mix"], example["speech_ref1"] + example["speech_ref2"], atol=1e-6)
        for ref in (example["speech_ref1"], example["speech_ref2"]):
            assert ref.shape == (3000,) and _source_of(ref, faster)[1] > 0.9999  # a crop of a 1.1x faster source


def test_dynamic_mixing_is_off_for_validation_and_at_prob_zero(sep_dir):
    plain = SepTask.build_dataset(_args(), sep_dir, train=True)
    for train, conf in ((False, {"prob": 1.0}), (True, {"prob": 0.0})):
        dataset = SepTask.build_dataset(_args(dynamic_mixing=conf), sep_dir, train=train)
        for utt in dataset.keys:
            np.testing.assert_array_equal(dataset[utt][1]["speech_mix"], plain[utt][1]["speech_mix"])


def test_dynamic_mixing_bad_input_is_named(sep_dir, tmp_path):
    bad = _with_src_spk(sep_dir, tmp_path, {"mix0": "A B", "mix1": "A", "mix2": "B C"})
    with pytest.raises(DataError, match=r"utt2src_spk: utterance 'mix1' lists 1 speakers, expected 2"):
        SepTask.build_dataset(_args(dynamic_mixing={"prob": 1.0}), bad, train=True)
    short = _with_src_spk(sep_dir, tmp_path, {"mix0": "A B", "mix1": "C D"}, name="short")
    with pytest.raises(DataError, match=r"utt2src_spk: utterance 'mix2' missing; run utils/fix_data_dir.sh"):
        SepTask.build_dataset(_args(dynamic_mixing={"prob": 1.0}), short, train=True)
    with pytest.raises(ConfigError, match="dynamic_mixing: unknown key"):
        SepTask.build_dataset(_args(dynamic_mixing={"snr": 1.0}), sep_dir, train=True)
    with pytest.raises(ConfigError, match="dynamic_mixing: need 0 <= prob <= 1"):
        SepTask.build_dataset(_args(dynamic_mixing={"prob": 2.0}), sep_dir, train=True)
