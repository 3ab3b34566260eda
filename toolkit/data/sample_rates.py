"""Check that the audio files of a data dir all have the expected sample rate."""
import soundfile

from toolkit.data.datadir import DataDir
from toolkit.utils.errors import DataError


def check_sample_rates(data_dir, files, fs):
    """DataError naming the file and utterance if any audio in `files` is not at `fs` Hz (fs None: skip)."""
    if fs is None:
        return
    data = DataDir(data_dir)
    for filename in files:
        for utt, path in data.table(filename).items():
            if path.rstrip().endswith("|"):
                continue  # a command pipe: checked when read
            try:
                rate = soundfile.info(path).samplerate
            except RuntimeError as err:
                raise DataError(f"{data_dir}/{filename}: utterance {utt}: cannot read {path}: {err}") from None
            if rate != fs:
                raise DataError(f"{data_dir}/{filename}: utterance {utt}: {path} is {rate} Hz, --fs is {fs}; "
                                f"resample the data (the recipe's format stage) or set --fs {rate}")
