"""Datasets keyed by utterance id over a Kaldi data dir.

A field names one file of the data dir and how to read a value from it:
  'feats'  kaldiio scp (feats.scp):          float32 [frames, dim]
  'audio'  wav.scp (segments resolved) or spkN.scp: float32 [samples] (or [samples, ch])
  'ints'   integer sequences (token_int, durations): int64 [len]
  'floats' float sequences:                  float32 [len]
  'str'    the raw value (e.g. utt2category)
"""
import os
import zlib

import kaldiio
import numpy as np
from torch.utils.data import Dataset

from toolkit.data.audio_io import read_audio
from toolkit.data.datadir import DataDir
from toolkit.utils.errors import DataError

KINDS = ("feats", "audio", "ints", "floats", "str")


class DataDirDataset(Dataset):
    """`dataset[utt] -> (utt, {field: array})` for the fields {name: (file, kind)}.

    Every utterance of utt2spk must be in every field's file; a missing key is an
    error naming the file (run utils/fix_data_dir.sh), not a silent drop.
    `transform(example, rng) -> example` runs after reading (features on the fly,
    augmentation); it must be picklable for DataLoader workers. Its numpy Generator
    depends only on (seed, epoch, utt), so results do not depend on worker count or
    on where a run was resumed. `set_crop(max_length, utts, fields)` makes those
    utterances' fields cropped at a random offset to max_length (same offset for all).
    """

    def __init__(self, data_dir, fields, transform=None, seed=0):
        self.data = DataDir(data_dir)
        self.fields = dict(fields)
        self.transform = transform
        self.seed = seed
        self.epoch = 0
        self.crop = (None, frozenset(), ())
        for name, (filename, kind) in self.fields.items():
            if kind not in KINDS:
                raise DataError(f"field {name!r}: kind {kind!r} is not one of {KINDS}")
            if not self.data.has(filename):
                raise DataError(f"{os.path.join(data_dir, filename)}: missing (needed for field {name!r})")
        self.keys = self.data.utts
        for name, (filename, kind) in self.fields.items():
            table = self._table(filename, kind)
            missing = [u for u in self.keys if u not in table]
            if missing:
                raise DataError(f"{os.path.join(data_dir, filename)}: {len(missing)} utterance(s) of utt2spk "
                                f"missing, e.g. {missing[:3]}; run utils/fix_data_dir.sh {data_dir}")

    def _table(self, filename, kind):
        if kind == "audio" and filename == "wav.scp" and self.data.segments is not None:
            return self.data.segments
        return self.data.table(filename, allow_empty=kind in ("ints", "floats", "str"))

    def __len__(self):
        return len(self.keys)

    def _read(self, utt, filename, kind):
        if kind == "audio":
            if filename == "wav.scp":
                spec, start, end = self.data.audio_spec(utt)
            else:
                spec, start, end = self.data.table(filename)[utt], 0.0, None
            return read_audio(spec, start, end)[0]
        value = self._table(filename, kind)[utt]
        if kind == "feats":
            try:
                return np.asarray(kaldiio.load_mat(value), dtype=np.float32)
            except Exception as err:  # kaldiio raises several types for broken arks
                raise DataError(f"{filename}: utterance {utt!r}: cannot read {value!r}: {err}") from None
        if kind == "ints":
            return np.array(value.split(), dtype=np.int64)
        if kind == "floats":
            return np.array(value.split(), dtype=np.float32)
        return value

    def set_crop(self, max_length, utts, fields):
        self.crop = (max_length, frozenset(utts), tuple(fields))

    def item_rng(self, utt):
        return np.random.default_rng([self.seed, self.epoch, zlib.crc32(utt.encode("utf-8"))])

    def __getitem__(self, utt):
        example = {name: self._read(utt, filename, kind) for name, (filename, kind) in self.fields.items()}
        rng = self.item_rng(utt)
        max_length, utts, fields = self.crop
        if utt in utts:
            length = min(example[name].shape[0] for name in fields)
            offset = int(rng.integers(0, max(1, length - max_length + 1)))
            for name in fields:
                example[name] = example[name][offset:offset + max_length]
        if self.transform is not None:
            example = self.transform(example, rng)
        return utt, example
