"""Synthesise the offline mini_synth corpus with espeak-ng.

    python -m toolkit.bin.synth_corpus --out_dir DIR [--size tiny|ci|bench] [--fs 16000|8000]
        [--seed 0] [--nj 2] [--tasks asr,sep,tts,noise] [--reuse]

Everything follows from --seed: the same seed gives byte-identical wav files and
tables whatever --nj is (only corpus_report.json, which holds timings, differs).
Sizes: tiny (for unit tests, seconds), ci (~200 training utterances), bench
(>= 3 h of ASR training audio, ~3 h of training mixtures, >= 1 h of TTS).
`sep` and `noise` are made from the ASR utterances, so they imply `asr`.

Output (paths in wav.scp are absolute; wav files are 16-bit PCM at --fs):
  DIR/data/{train,dev,test}   ASR: wav.scp text utt2spk spk2utt utt2num_samples spk2gender.
      Text: lowercase words, no punctuation, numbers in words, exactly what was spoken.
      Speaker ids tr01.., dv01.., ts01..; utterance ids <spk>-NNNN. Splits are
      speaker-disjoint; every dev/test speaker has an espeak-ng variant of its own
      that never occurs in training; every second training speaker (tr02, tr04, ...)
      has a random variant (toolkit/corpus/voices.py).
      Utterances last 1..8 s (a text whose audio does not is redrawn; see report).
  DIR/data/sep_{train,dev,test}   two-speaker mixtures (wsj0-2mix style, 'min' mode;
      see toolkit/corpus/mixtures.py): wav.scp (mixtures), spk1.scp spk2.scp
      (scaled sources, mix = s1 + s2 exactly), utt2spk (id -> id), spk2utt, utt2num_samples.
  DIR/data/tts_{train,dev,test}   one voice (speaker tts01): wav.scp text utt2spk spk2utt
      utt2num_samples spk2gender.
  DIR/data/noise   white/pink/brown/hum/babble clips: wav.scp utt2spk spk2utt
      utt2num_samples utt2category.
  DIR/wav/<set>/...   the audio;  DIR/speakers.json   voice, pitch, range, rate per speaker
      (and the variant file of a random voice).
  DIR/espeak-ng-data   espeak-ng's data plus the random variants (voices/!v/syn_*);
      written with the ASR speakers (tasks asr, sep, noise).
  DIR/corpus_report.json   counts, hours, speakers and voices per set, redrawn texts,
      timings; written last, so its presence marks a finished corpus. A rerun into
      DIR replaces the sets of its tasks; speakers.json and the report describe it.
      With --reuse, a finished corpus of the same size, fs, seed and corpus version
      (toolkit/corpus/build.py VERSION) with the requested tasks is kept as it is.
"""
import argparse
import logging

from toolkit.corpus.build import SIZES, TASKS, CorpusBuilder, finished_report, format_summary
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging


def get_parser():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out_dir", required=True, help="output directory")
    parser.add_argument("--size", default="ci", choices=list(SIZES))
    parser.add_argument("--fs", type=int, default=16000, choices=[16000, 8000], help="sample rate in Hz")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nj", type=int, default=2, help="parallel processes (does not change the output)")
    parser.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated subset of {','.join(TASKS)}")
    parser.add_argument("--reuse", action="store_true",
                        help="keep DIR when it already holds a finished corpus of these settings and tasks")
    parser.add_argument("--verbose", action="store_true")
    return parser


@cli_main
def main(argv=None):
    args = get_parser().parse_args(argv)
    setup_logging(args.verbose)
    tasks = [t for t in args.tasks.split(",") if t]
    report = finished_report(args.out_dir, args.size, args.fs, args.seed, tasks) if args.reuse else None
    if report is not None:
        logging.info("%s holds a finished corpus of these settings: reusing it", args.out_dir)
    else:
        report = CorpusBuilder(args.out_dir, args.size, args.fs, args.seed, args.nj, tasks).build()
        logging.info("wrote %s/corpus_report.json", args.out_dir)
    print(format_summary(report))


if __name__ == "__main__":
    main()
