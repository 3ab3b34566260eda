"""Merge the outputs of parallel inference jobs: tables (text, spkN.scp, wav.scp, ...) and the real-time factor.

    python -m toolkit.bin.merge_inference --out_dir DIR DIR/output.1 DIR/output.2 ...

Every table file found in the job dirs (TABLES, and spkN.scp of separation) is concatenated (a key in two jobs is an error);
rtf.json files are summed into DIR/rtf.json (rtf = decoding seconds / audio seconds).
"""
import argparse
import json
import logging
import os

from toolkit.data.datadir import SPK_SCP
from toolkit.data.tables import read_table, write_table
from toolkit.utils.errors import DataError, cli_main
from toolkit.utils.logging_setup import setup_logging

TABLES = ("text", "token", "token_int", "score", "wav.scp", "feats.scp", "durations")


def merge(job_dirs, out_dir):
    """Merge tables and RTF of job_dirs into out_dir; return the merged RTF dict."""
    os.makedirs(out_dir, exist_ok=True)
    names = set(TABLES) | {n for d in job_dirs if os.path.isdir(d) for n in os.listdir(d) if SPK_SCP.match(n)}
    for name in sorted(names):
        paths = [os.path.join(d, name) for d in job_dirs if os.path.isfile(os.path.join(d, name))]
        if not paths:
            continue
        merged = {}
        for path in paths:
            for key, value in read_table(path, allow_empty=True).items():
                if key in merged:
                    raise DataError(f"{path}: utterance {key!r} was decoded by two jobs")
                merged[key] = value
        write_table(os.path.join(out_dir, name), merged)
    totals = {"num_utts": 0, "audio_seconds": 0.0, "decode_seconds": 0.0}
    for d in job_dirs:
        path = os.path.join(d, "rtf.json")
        if not os.path.isfile(path):
            raise DataError(f"{path}: missing; did decoding job {d} finish? (see its log)")
        with open(path, encoding="utf-8") as f:
            job = json.load(f)
        for key in totals:
            totals[key] += job[key]
    totals["rtf"] = totals["decode_seconds"] / max(totals["audio_seconds"], 1e-9)
    with open(os.path.join(out_dir, "rtf.json"), "w", encoding="utf-8") as f:
        json.dump(totals, f, indent=2)
    return totals


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("job_dirs", nargs="+")
    args = parser.parse_args(argv)
    setup_logging()
    totals = merge(args.job_dirs, args.out_dir)
    logging.info("%s: %d utterances, %.1f s of audio decoded in %.1f s: RTF %.3f", args.out_dir,
                 totals["num_utts"], totals["audio_seconds"], totals["decode_seconds"], totals["rtf"])


if __name__ == "__main__":
    main()
