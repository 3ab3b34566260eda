"""Score separated speech against references: SI-SNR(i), SDR(i), SIR, SAR (and PESQ, STOI); RESULTS.md row.

    python -m toolkit.bin.score_sep --mix_scp data/test/wav.scp \
        --ref_scps data/test/spk1.scp data/test/spk2.scp \
        --est_scps exp/sep/decode_test/spk1.scp exp/sep/decode_test/spk2.scp \
        --out_dir exp/sep/decode_test/score [--pesq] [--stoi] \
        [--results_md exp/sep/RESULTS.md --results_name "decode_test mossformer2"]

All files are Kaldi scp files (utt -> wav path or `cmd |`) holding mono audio. Every scp
must list the same utterances as --mix_scp, and every file of an utterance must have the
mixture's sample rate (nothing is resampled). References must have the mixture's length;
an estimate whose length differs by at most --length_tolerance samples (default 0: none)
has the mixture, references and estimates of its utterance cut to the shortest, and the
utterance is counted in score.json's `trimmed_utts`; a larger difference is an error.

Estimates are matched to references per utterance (see toolkit/metrics/sep_scores.py):
SI-SNR by the permutation of best mean SI-SNR, BSS Eval v3 SDR/SIR/SAR by that of best
mean SIR (mir_eval's rule); SI-SNRi and SDRi subtract the score of the mixture taken as
every source's estimate. PESQ (wide band at 16 kHz, narrow band at 8 kHz) and STOI use the
SI-SNR matching.

Writes in out_dir: score.json (dB means over utterances of the per-utterance source means:
si_snr, si_snri, sdr, sdri, sir, sar, with --pesq/--stoi pesq, stoi; num_utts,
num_sources, trimmed_utts; per_source: the same means for each reference scp) and
per_utt.tsv (one line per utterance; si_snr_perm / sdr_perm give, for each reference in
--ref_scps order, the 0-based index in --est_scps of its matched estimate).
With --utt2src_spk (the data dir's `<utt> <speaker of source 1> .. <N>`) also by_pair.tsv:
the same means for each set of source speakers (e.g. `f1+m5`), hardest first, since a
separator's mean often hides a few pairs it cannot separate (close voices of one gender).
"""
import json
import logging
import os

import numpy as np

from toolkit.data.audio_io import read_audio
from toolkit.data.tables import read_table
from toolkit.metrics.results_md import update_results_table
from toolkit.metrics.sep_scores import score_mixture
from toolkit.utils.config import get_parser, parse_args
from toolkit.utils.errors import ConfigError, DataError, cli_main
from toolkit.utils.logging_setup import setup_logging

METRICS = ("si_snr", "si_snri", "sdr", "sdri", "sir", "sar")
RESULTS_HEADER = ("name", "SI-SNR", "SI-SNRi", "SDR", "SDRi", "SIR", "SAR", "PESQ", "STOI", "#utts")
PESQ_MODES = {16000: "wb", 8000: "nb"}


def get_args(argv):
    parser = get_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--mix_scp", help="scp of the mixtures")
    parser.add_argument("--ref_scps", nargs="+", help="one scp per reference source")
    parser.add_argument("--est_scps", nargs="+", help="one scp per estimated source (any order of sources)")
    parser.add_argument("--out_dir", help="writes score.json and per_utt.tsv here")
    parser.add_argument("--length_tolerance", type=int, default=0,
                        help="largest estimate/mixture length difference (samples) trimmed instead of an error")
    parser.add_argument("--pesq", action="store_true", help="also PESQ (needs the package pesq; 8 or 16 kHz)")
    parser.add_argument("--stoi", action="store_true", help="also STOI (needs the package pystoi)")
    parser.add_argument("--utt2src_spk", help="the data dir's utt2src_spk: also write by_pair.tsv")
    parser.add_argument("--results_md", help="add or replace this run's row in this markdown file")
    parser.add_argument("--results_name", help="the row's key in --results_md; --out_dir when not given")
    parser.add_argument("--verbose", action="store_true")
    args = parse_args(parser, argv)
    for name in ("mix_scp", "ref_scps", "est_scps", "out_dir"):
        if not getattr(args, name):
            raise ConfigError(f"--{name} is required")
    if len(args.ref_scps) != len(args.est_scps):
        raise ConfigError(f"{len(args.ref_scps)} --ref_scps but {len(args.est_scps)} --est_scps: "
                          f"give one estimate scp per reference source")
    if args.length_tolerance < 0:
        raise ConfigError(f"--length_tolerance must be >= 0, got {args.length_tolerance}")
    return args


def _optional_metrics(args):
    """{name: function(ref, est, rate)} for the requested --pesq / --stoi; ConfigError if not installed."""
    metrics = {}
    if args.pesq:
        try:
            from pesq import PesqError, pesq
        except ImportError:
            raise ConfigError("--pesq needs the package pesq: pip install pesq") from None

        def pesq_score(ref, est, rate):
            if rate not in PESQ_MODES:
                raise DataError(f"PESQ is defined at 8000 or 16000 Hz, the audio is at {rate} Hz; drop --pesq")
            try:
                return pesq(rate, ref, est, PESQ_MODES[rate])
            except PesqError as err:
                raise DataError(f"PESQ failed ({type(err).__name__}: {err})") from None
        metrics["pesq"] = pesq_score
    if args.stoi:
        try:
            from pystoi import stoi
        except ImportError:
            raise ConfigError("--stoi needs the package pystoi: pip install pystoi") from None
        metrics["stoi"] = lambda ref, est, rate: stoi(ref, est, rate, extended=False)
    return metrics


def _differences(name, table, utts):
    """Sentences naming the utterances that `table` (of file `name`) lacks or has beyond `utts`."""
    notes = []
    for what, keys in (("lacks", sorted(utts - table.keys())), ("has extra", sorted(table.keys() - utts))):
        if keys:
            shown = ", ".join(keys[:5]) + (f" ... ({len(keys)} in all)" if len(keys) > 5 else "")
            notes.append(f"{name} {what} {shown}")
    return notes


def read_scps(mix_scp, ref_scps, est_scps):
    """(mix table, [ref tables], [est tables]); DataError naming every utterance set that differs from the mix."""
    mix = read_table(mix_scp)
    refs = [read_table(path) for path in ref_scps]
    ests = [read_table(path) for path in est_scps]
    notes = []
    for path, table in zip(ref_scps + est_scps, refs + ests):
        notes += _differences(path, table, mix.keys())
    if notes:
        raise DataError(f"utterances differ from --mix_scp {mix_scp}: " + "; ".join(notes)
                        + ". Score matching sets (subset the scps, or rerun the inference on every utterance).")
    return mix, refs, ests


def _read_mono(utt, path, spec):
    samples, rate = read_audio(spec, dtype="float64")
    if samples.ndim != 1:
        raise DataError(f"utt {utt}: {spec!r} (from {path}) has {samples.shape[1]} channels; "
                        f"separation scoring needs mono files")
    return samples, rate


def load_utterance(utt, args, mix, refs, ests):
    """(mix [T], ref [S, T], est [S, T], rate, trimmed) of one utterance, checked as the module doc says."""
    mix_audio, rate = _read_mono(utt, args.mix_scp, mix[utt])
    length = len(mix_audio)
    sources = {"ref": [], "est": []}
    for kind, paths, tables in (("ref", args.ref_scps, refs), ("est", args.est_scps, ests)):
        for path, table in zip(paths, tables):
            audio, source_rate = _read_mono(utt, path, table[utt])
            if source_rate != rate:
                raise DataError(f"utt {utt}: {table[utt]!r} (from {path}) is at {source_rate} Hz but the mixture "
                                f"(from {args.mix_scp}) is at {rate} Hz; score_sep does not resample: write the "
                                f"audio at the mixture's rate")
            tolerance = args.length_tolerance if kind == "est" else 0
            if abs(len(audio) - length) > tolerance:
                raise DataError(f"utt {utt}: {table[utt]!r} (from {path}) has {len(audio)} samples, the mixture "
                                f"{length}" + (f" (a difference above --length_tolerance {tolerance})"
                                               if kind == "est" else "; references must match the mixture"))
            sources[kind].append(audio)
    shortest = min(len(a) for a in sources["est"] + [mix_audio])
    trimmed = any(len(a) != length for a in sources["est"])
    ref = np.stack([a[:shortest] for a in sources["ref"]])
    est = np.stack([a[:shortest] for a in sources["est"]])
    return mix_audio[:shortest], ref, est, rate, trimmed


def score_utterance(utt, args, tables, optional):
    """Per-source scores of one utterance: {metric: [S]}, plus the two permutations and the trimmed flag."""
    mix, ref, est, rate, trimmed = load_utterance(utt, args, *tables)
    try:
        scores = score_mixture(mix, ref, est)
    except ValueError as err:
        raise DataError(f"utt {utt}: {err}") from None
    matched = est[scores["si_snr_perm"]]
    for name, function in optional.items():
        try:
            scores[name] = np.array([function(r, e, rate) for r, e in zip(ref, matched)])
        except DataError as err:
            raise DataError(f"utt {utt}: {err}") from None
    scores["trimmed"] = trimmed
    return scores


def _perm_text(perm):
    return ",".join(str(int(i)) for i in perm)


def write_outputs(out_dir, utts, results, names, ref_scps):
    """score.json and per_utt.tsv; returns the score dict."""
    per_utt = {name: np.array([results[u][name].mean() for u in utts]) for name in names}
    per_source = {name: np.array([results[u][name] for u in utts]).mean(axis=0) for name in names}
    score = {name: float(per_utt[name].mean()) for name in names}
    score.update(num_utts=len(utts), num_sources=len(ref_scps),
                 trimmed_utts=sum(results[u]["trimmed"] for u in utts),
                 per_source=[{"ref_scp": path, **{n: float(per_source[n][j]) for n in names}}
                             for j, path in enumerate(ref_scps)])
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "score.json"), "w", encoding="utf-8") as f:
        json.dump(score, f, indent=2)
        f.write("\n")
    with open(os.path.join(out_dir, "per_utt.tsv"), "w", encoding="utf-8") as f:
        f.write("\t".join(["utt", *names, "si_snr_perm", "sdr_perm"]) + "\n")
        for index, utt in enumerate(utts):
            values = [f"{per_utt[name][index]:.4f}" for name in names]
            perms = [_perm_text(results[utt][key]) for key in ("si_snr_perm", "sdr_perm")]
            f.write("\t".join([utt, *values, *perms]) + "\n")
    return score


def read_pairs(path, utts):
    """{utt: 'spkA+spkB'} (sorted source speakers) from utt2src_spk; DataError if an utterance is missing."""
    speakers = read_table(path)
    missing = [utt for utt in utts if utt not in speakers]
    if missing:
        raise DataError(f"{path} lacks {len(missing)} scored utterance(s), e.g. {missing[0]}: "
                        f"run utils/fix_data_dir.sh on the data dir or score without --utt2src_spk")
    return {utt: "+".join(sorted(speakers[utt].split())) for utt in utts}


def write_by_pair(out_dir, pairs, results, names):
    """by_pair.tsv: per-metric means over the utterances of each set of source speakers, lowest SI-SNRi first."""
    groups = {}
    for utt, pair in pairs.items():
        groups.setdefault(pair, []).append(utt)
    rows = [(pair, {name: float(np.mean([results[u][name].mean() for u in members])) for name in names},
             len(members)) for pair, members in groups.items()]
    rows.sort(key=lambda row: (row[1]["si_snri"], row[0]))
    with open(os.path.join(out_dir, "by_pair.tsv"), "w", encoding="utf-8") as f:
        f.write("\t".join(["speakers", "num_utts", *names]) + "\n")
        for pair, means, count in rows:
            f.write("\t".join([pair, str(count), *(f"{means[name]:.4f}" for name in names)]) + "\n")


def results_row(name, score):
    """| name | SI-SNR | SI-SNRi | SDR | SDRi | SIR | SAR | PESQ | STOI | #utts |; '-' for what was not computed."""
    formats = {**{key: "{:.2f}" for key in (*METRICS, "pesq")}, "stoi": "{:.3f}"}
    cells = [fmt.format(score[key]) if key in score else "-" for key, fmt in formats.items()]
    return [name, *cells, score["num_utts"]]


@cli_main
def main(argv=None):
    args = get_args(argv)
    setup_logging(args.verbose)
    optional = _optional_metrics(args)
    tables = read_scps(args.mix_scp, args.ref_scps, args.est_scps)
    utts = sorted(tables[0])
    if not utts:
        raise DataError(f"{args.mix_scp}: no utterances to score")
    pairs = read_pairs(args.utt2src_spk, utts) if args.utt2src_spk else None
    results = {}
    for index, utt in enumerate(utts, 1):
        results[utt] = score_utterance(utt, args, tables, optional)
        if index % 100 == 0:
            logging.info("scored %d of %d utterances", index, len(utts))
    score = write_outputs(args.out_dir, utts, results, [*METRICS, *optional], args.ref_scps)
    if pairs is not None:
        write_by_pair(args.out_dir, pairs, results, [*METRICS, *optional])
    if score["trimmed_utts"]:
        logging.warning("%d utterance(s) had estimates trimmed by up to %d samples (--length_tolerance)",
                        score["trimmed_utts"], args.length_tolerance)
    logging.info("%s: SI-SNR %.2f dB (SI-SNRi %.2f), SDR %.2f dB (SDRi %.2f) over %d utterances", args.out_dir,
                 score["si_snr"], score["si_snri"], score["sdr"], score["sdri"], len(utts))
    if args.results_md:
        update_results_table(args.results_md, RESULTS_HEADER, results_row(args.results_name or args.out_dir, score),
                             title="Separation (score_sep; SI-SNR/SDR/SIR/SAR in dB)")


if __name__ == "__main__":
    main()
