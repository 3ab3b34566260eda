"""Figures of predicted vs reference log-mel spectrograms, one per utterance.

    python -m toolkit.bin.plot_mels --ref_feats_scp dump/test/feats.scp \
        --hyp_feats_scp exp/tts_x/synth_hifigan/test/feats.scp --num 3 --out_prefix exp/tts_x/images/mel_test

Writes OUT_PREFIX_<utt>.png for the first --num utterances (sorted ids) in both tables:
the reference above, the prediction below, on one colour scale and one time axis
(the prediction's own durations, so the two need not have the same length).
"""
import argparse
import logging
import os

import kaldiio

from toolkit.data.tables import read_table
from toolkit.utils.errors import DataError, cli_main
from toolkit.utils.logging_setup import setup_logging


def plot_pair(ref, hyp, title, path):
    """Save ref and hyp ([frames, n_mels]) one above the other."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    low, high = float(min(ref.min(), hyp.min())), float(max(ref.max(), hyp.max()))
    frames = max(len(ref), len(hyp))
    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, frames / 40), 5), sharex=True)
    for ax, mel, name in zip(axes, (ref, hyp), ("reference", "predicted")):
        image = ax.imshow(mel.T, origin="lower", aspect="auto", vmin=low, vmax=high, interpolation="none")
        ax.set_ylabel(f"{name}\nmel bin")
        ax.set_xlim(0, frames)
    axes[-1].set_xlabel("frame")
    fig.suptitle(title)
    fig.colorbar(image, ax=axes, label="log mel")
    fig.savefig(path, dpi=80)
    plt.close(fig)


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ref_feats_scp", required=True)
    parser.add_argument("--hyp_feats_scp", required=True)
    parser.add_argument("--num", type=int, default=3, help="utterances to plot")
    parser.add_argument("--out_prefix", required=True)
    args = parser.parse_args(argv)
    setup_logging()
    ref, hyp = read_table(args.ref_feats_scp), read_table(args.hyp_feats_scp)
    common = sorted(set(ref) & set(hyp))
    if not common:
        raise DataError(f"{args.ref_feats_scp} and {args.hyp_feats_scp} share no utterance")
    os.makedirs(os.path.dirname(args.out_prefix) or ".", exist_ok=True)
    for utt in common[:args.num]:
        path = f"{args.out_prefix}_{utt}.png"
        plot_pair(kaldiio.load_mat(ref[utt]), kaldiio.load_mat(hyp[utt]), utt, path)
        logging.info("wrote %s", path)


if __name__ == "__main__":
    main()
