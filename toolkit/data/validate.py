"""Validate a Kaldi data directory, reporting every problem found rather than the first.

    report = validate_data_dir("data/train", fs=16000)
    report.errors    # ["data/train/text:12: utt 'u3': empty transcript", ...]
    report.warnings  # clipping, unused recordings, mixed rates, blank lines

Three layers of checks:
  tables  every file: UTF-8, keys sorted in C order and unique, values present, numbers
          well formed, no control characters in keys or transcripts;
  links   utterance key sets agree across files, segments name known recordings,
          utt2spk and spk2utt agree, durations add up to utt2num_frames;
  audio   every wav.scp and spkN.scp entry exists, decodes completely, has samples, the
          expected rate and channel count and no NaN/inf; segments lie inside their
          recording; utt2num_samples and spkN.scp lengths match the utterance audio.
text is optional (separation dirs have none): require_text makes it mandatory and
check_text=False ignores it.
"""
import os

from toolkit.data.datadir import UTT_FILES, speaker_scps
from toolkit.data.validate_audio import check_audio_files
from toolkit.data.validate_tables import Report, check_links, file_loc, read_checked_table
from toolkit.utils.errors import DataError

__all__ = ["Report", "validate_data_dir"]

TABLES = ("wav.scp", "segments", "spk2utt") + UTT_FILES
REQUIRED = ("wav.scp", "utt2spk", "spk2utt")


def validate_data_dir(path, fs=None, channels=1, check_audio=True, check_samples=True, nj=1,
                      require_text=False, check_text=True, max_listed=20):
    """Check a data dir; -> Report with every error and warning found.

    fs: required sample rate (None: any, but mixed rates are a warning); channels: required
    channel count (None or 0: any); check_audio=False skips the audio, check_samples=False
    reads headers only (no NaN/clipping/decode checks); nj: processes for the audio.
    """
    if not os.path.isdir(path):
        raise DataError(f"{path}: data directory does not exist")
    report = Report(max_listed)
    segmented = os.path.isfile(os.path.join(path, "segments"))
    tables = {}
    for name in TABLES + tuple(speaker_scps(path)):
        file = os.path.join(path, name)
        if not os.path.isfile(file) or (name == "text" and not check_text):
            continue
        kind = "speaker" if name == "spk2utt" else "recording" if name == "wav.scp" and segmented else "utt"
        tables[name] = read_checked_table(file, kind, report)
    for name in REQUIRED + (("text",) if require_text and check_text else ()):
        if name not in tables:
            report.error(file_loc(os.path.join(path, name)), "missing file",
                         "(spk2utt: make it from utt2spk with utils/fix_data_dir.sh)" if name == "spk2utt" else "")
    check_links(tables, report)
    if check_audio and "wav.scp" in tables:
        check_audio_files(tables, report, fs, channels, check_samples, nj)
    report.close()
    return report
