"""Cut the recordings of a data dir into segments of at most --max_len seconds, at silences.

    python -m toolkit.bin.slice_audio --in_dir data/long --out_dir data/long_sliced --max_len 15 \\
        [--min_len 1] [--threshold_db -40] [--min_silence 0.3] [--max_silence 2] [--hop 0.01] \\
        [--keep_silence 0.1] [--write_wavs false --audio_dir DIR] [--no_text]

Writes <out_dir>/ with a segments file into the original recordings (or, with --write_wavs,
one wav per segment under --audio_dir), utt2spk/spk2utt, utt2num_samples and
slice_report.tsv: every segment kept or dropped, with the reason for its cut. Segment ids
are `<utt>-<start>-<end>` in centiseconds from the start of the input utterance
(Kaldi style, e.g. reco-0000123-0001456). The threshold is relative to the loudest
frame of each recording. Transcripts cannot be split: input with a `text` file needs
--no_text. Options and singing settings: doc/audio_prep.md.
"""
import logging
import os
import shutil

from toolkit.audio.slicing import plan_segments
from toolkit.data.audio_io import read_audio, write_audio
from toolkit.data.datadir import DataDir, write_data_dir
from toolkit.utils.config import get_parser, parse_args, str2bool
from toolkit.utils.errors import ConfigError, DataError, cli_main
from toolkit.utils.logging_setup import setup_logging

REPORT = "slice_report.tsv"
INHERITED = ("utt2category",)  # per-utterance values every segment keeps
COPIED = ("spk2gender",)  # per-speaker tables, still valid
HANDLED = ("wav.scp", "segments", "utt2spk", "spk2utt", "text", REPORT) + INHERITED + COPIED


def get_args(argv=None):
    parser = get_parser(description=__doc__.split("\n")[0] + " See doc/audio_prep.md.")
    parser.add_argument("--in_dir", required=True, help="input data dir of (long) recordings")
    parser.add_argument("--out_dir", required=True, help="output data dir (must differ from --in_dir)")
    parser.add_argument("--max_len", type=float, default=15.0, help="longest segment in seconds")
    parser.add_argument("--min_len", type=float, default=1.0,
                        help="shorter segments are dropped (and listed in the report)")
    parser.add_argument("--threshold_db", type=float, default=-40.0,
                        help="frames this many dB below the recording's loudest frame are silent")
    parser.add_argument("--min_silence", type=float, default=0.3, help="shortest silence to cut in (seconds)")
    parser.add_argument("--max_silence", type=float, default=2.0,
                        help="a silence at least this long always ends a segment (seconds)")
    parser.add_argument("--hop", type=float, default=0.01, help="energy frame length in seconds")
    parser.add_argument("--keep_silence", type=float, default=0.1,
                        help="seconds of silence kept on each side of a cut")
    parser.add_argument("--write_wavs", type=str2bool, default=False,
                        help="write one wav per segment instead of a segments file")
    parser.add_argument("--audio_dir", help="directory for the segment wavs (with --write_wavs true)")
    parser.add_argument("--no_text", action="store_true",
                        help="slice an input that has a text file, leaving the transcripts out")
    parser.add_argument("--verbose", type=str2bool, default=False)
    args = parse_args(parser, argv)
    if os.path.abspath(args.in_dir) == os.path.abspath(args.out_dir):
        raise ConfigError(f"--out_dir {args.out_dir} is --in_dir: write the segments to a new directory")
    if not 0 <= args.min_len < args.max_len or args.hop <= 0 or args.hop * 2 > args.max_len:
        raise ConfigError(f"need 0 <= --min_len ({args.min_len}) < --max_len ({args.max_len}) "
                          f"and 0 < 2 * --hop ({args.hop}) <= --max_len")
    if args.write_wavs and not args.audio_dir:
        raise ConfigError("--write_wavs true needs --audio_dir for the segment wav files")
    return args


def _segment_id(utt, start, end):
    return f"{utt}-{round(start * 100):07d}-{round(end * 100):07d}"


class _Output:
    """The tables of the sliced data dir and the report, filled one input utterance at a time."""

    def __init__(self, data, args):
        self.data, self.args = data, args
        self.inherited = {name: data.table(name) for name in INHERITED if data.has(name)}
        self.tables = {name: {} for name in ("wav.scp", "segments", "utt2spk", "utt2num_samples", *self.inherited)}
        self.report = ["segment\tsource\tstart\tend\tdur\tstatus\treason\n"]
        self.seconds = {"input": 0.0, "kept": 0.0, "dropped": 0.0}
        self.forced = 0

    def add(self, utt):
        """Slice utterance `utt` and record its segments."""
        spec, offset, end = self.data.audio_spec(utt)
        samples, fs = read_audio(spec, offset, end)
        self.seconds["input"] += samples.shape[0] / fs
        a = self.args
        kept, dropped = plan_segments(samples, fs, a.max_len, a.min_len, a.threshold_db, a.min_silence,
                                      a.max_silence, a.keep_silence, a.hop)
        for seg in kept:
            self._keep(utt, _segment_id(utt, seg.start, seg.end), seg, offset, samples, fs)
        for seg in dropped:
            logging.warning("dropped %s: %s", _segment_id(utt, seg.start, seg.end), seg.reason)
            self._log(utt, _segment_id(utt, seg.start, seg.end), seg, "dropped")

    def _keep(self, utt, seg_id, seg, offset, samples, fs):
        t = self.tables
        if seg_id in t["utt2spk"]:
            raise DataError(f"utterance {utt}: two segments named {seg_id}; use a larger --min_len or --hop")
        if self.args.write_wavs:
            t["wav.scp"][seg_id] = os.path.join(self.args.audio_dir, f"{seg_id}.wav")
            write_audio(t["wav.scp"][seg_id], samples[round(seg.start * fs):round(seg.end * fs)], fs)
            t["utt2num_samples"][seg_id] = round(seg.end * fs) - round(seg.start * fs)
        else:
            reco = self.data.segments[utt][0] if self.data.segments else utt
            t["wav.scp"][reco] = self.data.table("wav.scp")[reco]
            start, end = round(offset + seg.start, 3), round(offset + seg.end, 3)
            t["segments"][seg_id] = (reco, start, end)
            t["utt2num_samples"][seg_id] = round(end * fs) - round(start * fs)  # as read_audio counts them
        t["utt2spk"][seg_id] = self.data.table("utt2spk")[utt]
        for name, table in self.inherited.items():
            t[name][seg_id] = table[utt]
        if seg.reason.startswith("forced"):
            self.forced += 1
            logging.warning("%s: cut at %.2f s %s", seg_id, seg.end, seg.reason)
        self._log(utt, seg_id, seg, "kept")

    def _log(self, utt, seg_id, seg, status):
        self.seconds[status] += seg.end - seg.start
        self.report.append(f"{seg_id}\t{utt}\t{seg.start:.3f}\t{seg.end:.3f}\t{seg.end - seg.start:.3f}"
                           f"\t{status}\t{seg.reason}\n")

    def write(self, out_dir):
        t = self.tables
        if not t["utt2spk"]:
            raise DataError(f"{self.data.path}: no segment kept; see {os.path.join(out_dir, REPORT)} "
                            f"and lower --min_len or --threshold_db")
        extra = {name: table for name, table in t.items() if name not in ("wav.scp", "segments", "utt2spk")}
        write_data_dir(out_dir, t["wav.scp"], t["utt2spk"], segments=t["segments"] or None, extra=extra)
        for name in COPIED:
            if self.data.has(name):
                shutil.copyfile(os.path.join(self.data.path, name), os.path.join(out_dir, name))
        with open(os.path.join(out_dir, REPORT), "w", encoding="utf-8") as f:
            f.writelines(self.report)


def _left_out(in_dir):
    """Files of the input data dir that the sliced dir cannot carry."""
    return sorted(n for n in os.listdir(in_dir) if os.path.isfile(os.path.join(in_dir, n))
                  and not n.startswith(".") and (n not in HANDLED or n == "text"))


@cli_main
def main(argv=None):
    args = get_args(argv)
    setup_logging(args.verbose)
    data = DataDir(args.in_dir)
    if data.has("text") and not args.no_text:
        raise DataError(f"{data.path}/text: transcripts are per utterance and cannot be split at silences; "
                        f"pass --no_text to slice without them (then transcribe or align the segments)")
    if args.write_wavs:
        os.makedirs(args.audio_dir, exist_ok=True)
    os.makedirs(args.out_dir, exist_ok=True)
    output = _Output(data, args)
    for utt in data.utts:
        output.add(utt)
    output.write(args.out_dir)
    if _left_out(args.in_dir):
        logging.warning("not carried to %s (they cannot be split into segments): %s",
                        args.out_dir, " ".join(_left_out(args.in_dir)))
    sec = output.seconds
    logging.info("%d utterances (%.1f s) -> %d segments (%.1f s; %d cut without a silence); dropped %d "
                 "segments (%.1f s) and %.1f s of silence; report %s", len(data.utts), sec["input"],
                 len(output.tables["utt2spk"]), sec["kept"], output.forced, len(output.report) - 1 -
                 len(output.tables["utt2spk"]), sec["dropped"], sec["input"] - sec["kept"] - sec["dropped"],
                 os.path.join(args.out_dir, REPORT))


if __name__ == "__main__":
    main()
