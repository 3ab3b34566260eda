"""Speed-perturb a data dir, writing the new audio (Kaldi's utils/perturb_data_dir_speed.sh).

    utils/perturb_data_dir_speed.sh [--nj N] [--audio_dir D] FACTOR SRC DEST
    utils/perturb_data_dir_speed.sh [--nj N] [--audio_dir D] --factors 0.9,1.0,1.1 SRC DEST

FACTOR f: ids get the prefix `sp{f}-`, audio is resampled from round(rate*f) to rate
Hz (pitch changes, like sox `speed`) and written to D (default DEST/audio), segments
times, utt2num_samples, utt2dur and reco2dur are scaled. --factors writes one combined
dir in which factor 1.0 keeps the original ids and audio. feats.scp, utt2num_frames,
durations and cmvn.scp are dropped (warning): recompute them. See toolkit/data/speed_perturb.py.
"""
import argparse

from toolkit.data.dir_ops import check_distinct
from toolkit.data.speed_perturb import perturb_dir
from toolkit.utils.errors import ConfigError, cli_main
from toolkit.utils.logging_setup import setup_logging


def _factor(text):
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise ConfigError(f"speed factor must be a positive number, got {text!r}")
    return value


@cli_main
def main(argv=None):
    parser = argparse.ArgumentParser(usage="%(prog)s [options] (FACTOR | --factors F1,F2,...) SRC DEST", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--factors", help="comma-separated factors for one combined dir, e.g. 0.9,1.0,1.1")
    parser.add_argument("--audio_dir", "--audio-dir", help="where the perturbed wavs go (default DEST/audio)")
    parser.add_argument("--nj", type=int, default=1, help="parallel processes for the audio")
    parser.add_argument("positional", nargs="+", metavar="[FACTOR] SRC DEST")
    args = parser.parse_args(argv)
    setup_logging()
    expected = 2 if args.factors else 3
    if len(args.positional) != expected:
        raise ConfigError("usage: perturb_data_dir_speed.sh FACTOR SRC DEST, or --factors F1,F2,... SRC DEST")
    src, dest = args.positional[-2:]
    check_distinct(src, dest)
    factors = [_factor(f) for f in (args.factors.split(",") if args.factors else args.positional[:1])]
    perturb_dir(src, dest, factors, args.audio_dir, args.nj, keep_ids_at_1=bool(args.factors))
    print(f"perturb_data_dir_speed: {src} -> {dest}: speed factors {' '.join(map(str, factors))}")


if __name__ == "__main__":
    main()
