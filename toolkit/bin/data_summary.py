"""Print a table describing data dirs (utterances, speakers, hours, features, tokens) and experiments.

    python -m toolkit.bin.data_summary [--token_dir DIR] [--exp_dir EXP ...] DATA_DIR [DATA_DIR ...]
"""
import argparse
import json
import math
import os

import kaldiio

from toolkit.data.audio_io import audio_info
from toolkit.data.datadir import DataDir
from toolkit.utils.config import load_config
from toolkit.utils.errors import cli_main


def describe(path):
    """Dict of summary numbers for one data dir (fields absent when the file is)."""
    data = DataDir(path)
    utts = data.utts
    row = {"set": path, "utts": len(utts), "speakers": len(set(data.table("utt2spk").values()))}
    if data.has("utt2num_samples"):
        rate = audio_info(data.audio_spec(utts[0])[0])[1]
        samples = sum(int(n) for n in data.table("utt2num_samples").values())
        row["hours"] = samples / rate / 3600
    if data.has("feats.scp"):
        first = kaldiio.load_mat(data.table("feats.scp")[utts[0]])
        row["feat_dim"] = first.shape[1]
    if data.has("utt2num_frames"):
        row["frames"] = sum(int(n) for n in data.table("utt2num_frames").values())
    if data.has("token_int"):
        ids = [v.split() for v in data.table("token_int").values()]
        row["tokens/utt"] = sum(map(len, ids)) / len(ids)
        row["unk"] = sum(t == "1" for seq in ids for t in seq)  # <unk> is id 1 in every token list
    return row


def format_table(rows):
    """Fixed-width table of the union of the rows' columns."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[f"{row[c]:.2f}" if isinstance(row.get(c), float) else str(row.get(c, "-")) for c in columns]
             for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def describe_experiment(exp_dir):
    """One line per criterion of exp_dir/selection.json: best epoch and its validation stats."""
    with open(os.path.join(exp_dir, "selection.json"), encoding="utf-8") as f:
        selection = json.load(f)
    is_lm = load_config(os.path.join(exp_dir, "config.yaml")).get("task") == "lm"
    lines = []
    for criterion, ranking in selection["ranking"].items():
        stats = selection["history"][str(ranking[0])]
        valid = {k: v for k, v in stats.items() if k.startswith("valid.")}
        if is_lm and "valid.loss" in valid:
            valid["valid.ppl"] = math.exp(valid["valid.loss"])  # the LM loss is the mean token NLL
        shown = " ".join(f"{k}={v:.4g}" for k, v in sorted(valid.items()))
        lines.append(f"{exp_dir}: best epoch {ranking[0]} of {len(selection['history'])} by '{criterion}': {shown}")
    return lines


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dirs", nargs="+")
    parser.add_argument("--token_dir", help="token list directory (prints its size)")
    parser.add_argument("--exp_dir", action="append", default=[], help="experiment dir with selection.json "
                        "(repeatable)")
    args = parser.parse_args(argv)
    print(format_table([describe(d) for d in args.data_dirs]))
    if args.token_dir:
        with open(os.path.join(args.token_dir, "tokens.txt"), encoding="utf-8") as f:
            tokens = f.read().split()
        print(f"token list {args.token_dir}/tokens.txt: {len(tokens)} tokens "
              f"({tokens[0]} .. {tokens[-1]}), e.g. {' '.join(tokens[2:12])}")
    for exp_dir in args.exp_dir:
        print("\n".join(describe_experiment(exp_dir)))


if __name__ == "__main__":
    main()
