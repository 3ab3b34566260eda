"""A Kaldi data directory: wav.scp, text, utt2spk, spk2utt and optional files.

Files known here (each `key value` per line, keys sorted):
  wav.scp          recording -> path or `cmd |`
  segments         utt -> recording start end   (seconds; end -1 = to the end)
  text             utt -> transcript
  utt2spk/spk2utt  utt -> speaker, speaker -> utts
  utt2num_samples  utt -> samples;  utt2num_frames  utt -> feature frames
  feats.scp        utt -> ark:offset (kaldiio)
  spk1.scp..spkN.scp  utt -> reference source audio (separation)
  utt2src_spk      utt -> speaker of each source, in spkN.scp order (separation, dynamic mixing)
  utt2category     utt -> category (oversampling, dialect, ...)
  durations        utt -> frames per token (TTS)
  token, token_int utt -> tokens, token ids (dumped by toolkit.bin.tokenize_text)
"""
import os
import re

from toolkit.data.tables import read_table, utt2spk_to_spk2utt, write_table
from toolkit.utils.errors import DataError

# Files indexed by utterance; everything but spk2utt, wav.scp (with segments) and reco2*.
UTT_FILES = ("text", "utt2spk", "utt2num_samples", "utt2num_frames", "feats.scp", "utt2category",
             "durations", "utt2dur", "token", "token_int", "utt2src_spk")
SPK_SCP = re.compile(r"^spk[0-9]+\.scp$")


def speaker_scps(path):
    """Names of spkN.scp files in a data dir, in numeric order."""
    names = [n for n in os.listdir(path) if SPK_SCP.match(n)]
    return sorted(names, key=lambda n: int(n[3:-4]))


def utt_files(path):
    """Per-utterance files present in `path` (wav.scp counts only without segments)."""
    names = [n for n in UTT_FILES if os.path.isfile(os.path.join(path, n))] + speaker_scps(path)
    if not os.path.isfile(os.path.join(path, "segments")):
        names.insert(0, "wav.scp")
    return names


def read_segments(path):
    """segments file -> {utt: (recording, start, end)}; end -1 means to the end."""
    segments = {}
    for utt, value in read_table(path).items():
        fields = value.split()
        try:
            reco, start, end = fields[0], float(fields[1]), float(fields[2])
        except (IndexError, ValueError):
            raise DataError(f"{path}: utterance {utt!r}: expected 'utt recording start end', got {value!r}") from None
        segments[utt] = (reco, start, end)
    return segments


class DataDir:
    """Read access to a data dir; each file is loaded on first use and cached."""

    def __init__(self, path):
        if not os.path.isdir(path):
            raise DataError(f"{path}: data directory does not exist")
        self.path = path
        self._cache = {}

    def has(self, name):
        return os.path.isfile(os.path.join(self.path, name))

    def table(self, name, allow_empty=False):
        """The dict of file `name` (e.g. 'text', 'utt2spk')."""
        if name not in self._cache:
            self._cache[name] = read_table(os.path.join(self.path, name), allow_empty=allow_empty)
        return self._cache[name]

    @property
    def segments(self):
        """{utt: (recording, start, end)} or None without a segments file."""
        if not self.has("segments"):
            return None
        if "segments" not in self._cache:
            self._cache["segments"] = read_segments(os.path.join(self.path, "segments"))
        return self._cache["segments"]

    @property
    def utts(self):
        """Sorted utterance ids (from utt2spk)."""
        return sorted(self.table("utt2spk"))

    def audio_spec(self, utt):
        """(wav.scp value, start, end) for an utterance, resolving segments."""
        segments = self.segments
        if segments is None:
            return self.table("wav.scp")[utt], 0.0, None
        reco, start, end = segments[utt]
        return self.table("wav.scp")[reco], start, end


def write_data_dir(path, wav_scp, utt2spk, text=None, segments=None, extra=None):
    """Create a data dir from dicts; spk2utt is derived from utt2spk.

    `wav_scp` may be None (text-only data, e.g. for a language model); `segments`
    maps utt -> (recording, start, end); `extra` maps file name -> dict.
    """
    os.makedirs(path, exist_ok=True)
    if wav_scp is not None:
        write_table(os.path.join(path, "wav.scp"), wav_scp)
    write_table(os.path.join(path, "utt2spk"), utt2spk)
    write_table(os.path.join(path, "spk2utt"), utt2spk_to_spk2utt(utt2spk))
    if text is not None:
        write_table(os.path.join(path, "text"), text)
    if segments is not None:
        write_table(os.path.join(path, "segments"),
                    {u: f"{r} {s:.3f} {e:.3f}" for u, (r, s, e) in segments.items()})
    for name, table in (extra or {}).items():
        write_table(os.path.join(path, name), table)
