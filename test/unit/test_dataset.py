"""Datasets over real data dirs: kaldiio ark/scp, audio with segments, on-the-fly features, workers."""
import kaldiio
import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import DataLoader
from torchaudio.functional import resample

from toolkit.data.collate import PadCollate
from toolkit.data.dataset import DataDirDataset
from toolkit.data.datadir import read_segments, write_data_dir
from toolkit.features.extractor import build_extractor
from toolkit.utils.errors import DataError
from toolkit.utils.espeak import synthesize

FBANK = {"feat_type": "fbank", "num_mel_bins": 40, "dither": 0.0}


class OnTheFlyFbank:
    """Picklable transform: audio -> fbank (what a task does without dumped features)."""

    def __init__(self):
        self.extractor = build_extractor(FBANK)

    def __call__(self, example, rng):
        example["speech"] = self.extractor(example.pop("audio"), 16000)
        return example


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """One 16 kHz recording of six spoken phrases, cut by segments; fbank dumped with kaldiio."""
    root = tmp_path_factory.mktemp("ds")
    texts = ["one two three", "the red boat", "four", "a small cat sat down", "seven", "blue sky"]
    chunks, segments, start = [], {}, 0.0
    utts = [f"spk1-{i:03d}" for i in range(len(texts))]
    for utt, text in zip(utts, texts):
        audio, rate = synthesize(text, "en-us")
        chunk = resample(torch.from_numpy(audio.astype(np.float32) / 32768), rate, 16000).numpy()
        chunks.append(chunk)
        segments[utt] = ("rec", start, start + len(chunk) / 16000)
        start += len(chunk) / 16000
    sf.write(root / "rec.wav", np.concatenate(chunks), 16000)
    write_data_dir(str(root / "data"), {"rec": str(root / "rec.wav")}, {u: "spk1" for u in utts}, segments=segments,
                   extra={"token_int": {u: " ".join(str(3 + j) for j in range(i + 1)) for i, u in enumerate(utts)}})
    extractor, feats = build_extractor(FBANK), {}
    with kaldiio.WriteHelper(f"ark,scp:{root}/feats.ark,{root / 'data' / 'feats.scp'}") as writer:
        for utt, (_, begin, end) in read_segments(str(root / "data" / "segments")).items():  # ms-rounded times
            samples, _ = sf.read(root / "rec.wav", start=round(begin * 16000), stop=round(end * 16000), dtype="float32")
            feats[utt] = extractor(samples, 16000)
            writer(utt, feats[utt])
    return root / "data", feats


def test_feats_audio_and_ints_fields_batch_through_workers(data_dir):
    path, feats = data_dir
    dataset = DataDirDataset(str(path), {"feats": ("feats.scp", "feats"), "audio": ("wav.scp", "audio"),
                                         "text": ("token_int", "ints")})
    batches = [["spk1-000", "spk1-003", "spk1-005"], ["spk1-001", "spk1-002", "spk1-004"]]
    loader = DataLoader(dataset, batch_sampler=batches, collate_fn=PadCollate({"text": -1}), num_workers=2)
    seen = {}
    for utts, batch in loader:
        assert batch["feats"].shape[0] == len(utts) and batch["text"].dtype.is_floating_point is False
        for i, utt in enumerate(utts):
            n = int(batch["feats_lengths"][i])
            np.testing.assert_array_equal(batch["feats"][i, :n].numpy(), feats[utt])
            assert (batch["feats"][i, n:] == 0).all()
            k = int(batch["text_lengths"][i])
            assert (batch["text"][i, k:] == -1).all() and k == int(utt[-1]) + 1
            seen[utt] = int(batch["audio_lengths"][i])
    assert sorted(seen) == sorted(feats)
    assert all(0 <= seen[u] - (len(feats[u]) * 160 + 240) < 160 for u in seen)  # samples vs 25/10 ms frames


def test_on_the_fly_features_equal_dumped(data_dir):
    path, feats = data_dir
    dataset = DataDirDataset(str(path), {"audio": ("wav.scp", "audio")}, transform=OnTheFlyFbank())
    loader = DataLoader(dataset, batch_sampler=[sorted(feats)], collate_fn=PadCollate(), num_workers=1)
    utts, batch = next(iter(loader))
    for i, utt in enumerate(utts):
        n = int(batch["speech_lengths"][i])
        np.testing.assert_allclose(batch["speech"][i, :n].numpy(), feats[utt], rtol=1e-5, atol=1e-4)


def test_crop_is_random_per_epoch_and_reproducible(data_dir):
    path, feats = data_dir
    dataset = DataDirDataset(str(path), {"feats": ("feats.scp", "feats")}, seed=7)
    dataset.set_crop(20, ["spk1-005"], ["feats"])
    full = feats["spk1-005"]
    offsets = []
    for epoch in (1, 1, 2, 3, 4):
        dataset.epoch = epoch
        cropped = dataset["spk1-005"][1]["feats"]
        assert cropped.shape == (20, 40)
        offset = next(o for o in range(len(full) - 19) if np.array_equal(full[o:o + 20], cropped))
        offsets.append(offset)
    assert offsets[0] == offsets[1] and len(set(offsets)) > 1
    assert dataset["spk1-004"][1]["feats"].shape == feats["spk1-004"].shape  # not in the crop set


def test_missing_key_names_the_file(data_dir, tmp_path):
    path, _ = data_dir
    broken = tmp_path / "broken"
    broken.mkdir()
    for name in ("utt2spk", "spk2utt", "wav.scp", "segments"):
        (broken / name).write_text((path / name).read_text())
    (broken / "token_int").write_text("spk1-000 3\n")
    with pytest.raises(DataError, match=r"token_int: 5 utterance\(s\) of utt2spk missing.*fix_data_dir"):
        DataDirDataset(str(broken), {"text": ("token_int", "ints")})
