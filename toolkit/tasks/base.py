"""The Task interface the trainer works through.

A task declares its options, its data fields, how to build its model, its collate
function and which lengths batch its data. Its model's forward takes the collated
batch as keyword arguments and returns `(loss, stats, weight)`: a scalar loss, a dict
of floats to report, and the weight of this batch in averages (e.g. number of tokens).

Several optimizers (GAN): a model with `optimizer_params()` -> {name: parameters}
is trained with one optimizer per name, in that order, each batch; its forward then
takes `turn=<name>` and returns the loss for that optimizer, or None to skip that
optimizer's step for this batch (the model must decide the same on every rank).
"""
import os

from toolkit.data.collate import PadCollate
from toolkit.data.dataset import DataDirDataset
from toolkit.data.tables import read_table
from toolkit.utils.errors import DataError


class Task:
    name = None
    pad_values = {}

    @classmethod
    def add_arguments(cls, parser):
        """Task options (model_conf and friends) on the trainer's parser."""

    @classmethod
    def data_fields(cls, args, train):
        """{field name: (file in the data dir, kind)}; see toolkit.data.dataset."""
        raise NotImplementedError

    @classmethod
    def build_model(cls, args):
        raise NotImplementedError

    @classmethod
    def crop_fields(cls, args):
        """Fields sharing the length axis, cropped together at one offset (--length_policy crop)."""
        return ()

    @classmethod
    def build_transform(cls, args, data_dir, train):
        """Per-example transform of the data dir's examples (features on the fly, augmentation) or None."""
        return None

    @classmethod
    def build_dataset(cls, args, data_dir, train):
        return DataDirDataset(data_dir, cls.data_fields(args, train), cls.build_transform(args, data_dir, train),
                              seed=args.seed)

    @classmethod
    def build_collate(cls, args):
        return PadCollate(cls.pad_values)

    @classmethod
    def lengths(cls, args, data_dir):
        """{utt: length} used by the batch sampler; default: utt2num_frames."""
        return lengths_from_file(data_dir, "utt2num_frames")


def lengths_from_file(data_dir, filename, count_fields=False):
    """{utt: int} from a lengths table, or the number of fields per line (token_int)."""
    path = os.path.join(data_dir, filename)
    table = read_table(path, allow_empty=count_fields)
    if count_fields:
        return {utt: len(value.split()) for utt, value in table.items()}
    try:
        return {utt: int(value) for utt, value in table.items()}
    except ValueError as err:
        raise DataError(f"{path}: lengths must be integers ({err})") from None
