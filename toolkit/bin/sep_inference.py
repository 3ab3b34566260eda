"""Separate mixtures with a trained (or imported) separation model.

    python -m toolkit.bin.sep_inference --model_dir DIR --wav_scp MIX --out_dir OUT
        [--model_file model.pth] [--chunk_seconds 10 --overlap_seconds 2] [--device cpu]

DIR holds config.yaml and the weights (a training output dir, or import_clearvoice's
output). Mixtures of any length: longer than --chunk_seconds, they are separated in
overlapping windows whose sources are aligned to the previous window's before the
overlap-add (toolkit.decode.long_audio); --chunk_seconds 0 separates whole files.
Writes OUT/wavs/<utt>_spk<n>.wav (32-bit float, nothing clipped), OUT/spk1.scp ..
OUT/spkN.scp and OUT/rtf.json (separation seconds / audio seconds). A file whose rate
is not the model's is an error.
"""
import logging
import os
import time

import torch

from toolkit.data.audio_io import read_audio, write_audio
from toolkit.data.tables import read_table, write_table
from toolkit.decode.long_audio import separate_long
from toolkit.metrics.rtf import write_rtf
from toolkit.tasks.experiment import load_experiment
from toolkit.utils.config import get_parser, parse_args
from toolkit.utils.errors import DataError, cli_main
from toolkit.utils.logging_setup import setup_logging


def build_parser():
    parser = get_parser(__doc__)
    parser.add_argument("--model_dir", required=True, help="config.yaml + weights")
    parser.add_argument("--model_file", default="model.pth", help="weights file inside --model_dir")
    parser.add_argument("--wav_scp", required=True, help="utt -> mixture audio")
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--chunk_seconds", type=float, default=10.0, help="window length; 0: whole files")
    parser.add_argument("--overlap_seconds", type=float, default=2.0, help="overlap of consecutive windows")
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", default="cpu")
    return parser


@cli_main
def main(argv=None):
    args = parse_args(build_parser(), argv)
    setup_logging()
    torch.set_num_threads(args.num_threads)
    model, conf = load_experiment(args.model_dir, args.model_file, args.device)
    fs = getattr(conf, "fs", None)
    wav_dir = os.path.join(args.out_dir, "wavs")
    os.makedirs(wav_dir, exist_ok=True)
    scps = [{} for _ in range(model.num_spks)]
    audio_seconds, start = 0.0, time.time()
    for utt, spec in read_table(args.wav_scp).items():
        mix, rate = read_audio(spec)
        if fs is not None and rate != fs:
            raise DataError(f"{args.wav_scp}: utterance {utt}: {rate} Hz, the model is {fs} Hz; "
                            f"resample the input (toolkit.bin.prepare_audio --fs {fs})")
        if mix.ndim != 1:
            raise DataError(f"{args.wav_scp}: utterance {utt}: {mix.shape[1]} channels; separation needs mono")
        chunk = int(args.chunk_seconds * rate) or len(mix)
        overlap = int(args.overlap_seconds * rate) if args.chunk_seconds else 0
        est = separate_long(model.separate, torch.as_tensor(mix, device=args.device), chunk, overlap)
        for i, source in enumerate(est.cpu().numpy()):
            path = os.path.join(wav_dir, f"{utt}_spk{i + 1}.wav")
            write_audio(path, source, rate, subtype="FLOAT")
            scps[i][utt] = os.path.abspath(path)
        audio_seconds += len(mix) / rate
    elapsed = time.time() - start
    for i, scp in enumerate(scps):
        write_table(os.path.join(args.out_dir, f"spk{i + 1}.scp"), scp)
    rtf = write_rtf(args.out_dir, len(scps[0]), audio_seconds, elapsed)
    logging.info("separated %d mixtures (%.1f s of audio) in %.1f s: RTF %.3f", rtf["num_utts"], audio_seconds,
                 elapsed, rtf["rtf"])


if __name__ == "__main__":
    main()
