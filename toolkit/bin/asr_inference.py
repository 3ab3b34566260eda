"""Decode a data dir (or a wav.scp) with a trained ASR model.

    python -m toolkit.bin.asr_inference --model_dir exp/asr_x --checkpoint valid.acc.ave.pth \\
        (--data_dir dump/fbank/test | --wav_scp data/test/wav.scp) --out_dir exp/asr_x/decode/test
        [--config conf/decode_asr.yaml]
        [--mode attention|ctc_greedy|ctc_prefix_beam|attention_rescoring] [--beam 10] [--ctc_weight 0.3]
        [--lm_dir exp/lm --lm_weight 0.3] [--penalty 0.0] [--maxlenratio 0.0] [--batch_size 16]

A model trained on dumped features decodes a dump dir's feats.scp (sorted by
utt2num_frames). A model with a frontend (trained with --frontend_conf) computes its
features from audio: the data dir's wav.scp (segments honoured; sorted by
utt2num_samples when present) or, with --wav_scp, every entry of that wav.scp (with
--segments, those utterances); the audio must have the frontend's sample rate.
Writes OUT_DIR/text (hypotheses), OUT_DIR/token and OUT_DIR/rtf.json (decoding seconds,
audio seconds from the feature frames x --frame_shift_ms or from the samples,
real-time factor). Parallel jobs over split data dirs are merged by toolkit.bin.merge_inference.
"""
import logging
import os
import time

import torch
from torch.utils.data import DataLoader, Dataset

from toolkit.data.audio_io import read_audio
from toolkit.data.collate import PadCollate
from toolkit.data.datadir import DataDir
from toolkit.data.dataset import DataDirDataset
from toolkit.data.tables import read_table, write_table
from toolkit.decode.speech2text import MODES, Speech2Text
from toolkit.layers.frontend import audio_items
from toolkit.metrics.rtf import write_rtf
from toolkit.utils.config import get_parser, parse_args, str_or_none
from toolkit.utils.errors import ConfigError, DataError, cli_main
from toolkit.utils.logging_setup import setup_logging


def build_parser():
    parser = get_parser(__doc__)
    parser.add_argument("--model_dir", required=True, help="ASR training output dir (config.yaml, checkpoints)")
    parser.add_argument("--checkpoint", default="valid.acc.ave.pth", help="model file inside --model_dir")
    parser.add_argument("--data_dir", help="dump dir with feats.scp and utt2num_frames (a model with a frontend: "
                                           "a data dir with wav.scp)")
    parser.add_argument("--wav_scp", help="instead of --data_dir, for a model with a frontend: decode this wav.scp")
    parser.add_argument("--segments", help="with --wav_scp: decode these segments of its recordings")
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--mode", choices=MODES, default="attention")
    parser.add_argument("--beam", type=int, default=10)
    parser.add_argument("--ctc_weight", type=float, default=0.3, help="joint decoding / rescoring CTC weight")
    parser.add_argument("--penalty", type=float, default=0.0, help="length bonus per token (attention)")
    parser.add_argument("--maxlenratio", type=float, default=0.0, help="max output length / encoder frames (0: frames)")
    parser.add_argument("--minlenratio", type=float, default=0.0)
    parser.add_argument("--lm_dir", type=str_or_none, default=None, help="LM training output dir (shallow fusion)")
    parser.add_argument("--lm_checkpoint", default="valid.loss.best.pth")
    parser.add_argument("--lm_weight", type=float, default=0.0)
    parser.add_argument("--batch_size", type=int, default=16, help="utterances per encoder batch")
    parser.add_argument("--frame_shift_ms", type=float, default=10.0,
                        help="feature frame shift, for the RTF of dumped features")
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", default="cpu")
    return parser


class AudioDataset(Dataset):
    """`dataset[utt] -> (utt, {"speech": samples})` for (utt, wav.scp value, start, end) items at `rate` Hz."""

    def __init__(self, items, rate):
        self.items = {utt: (spec, start, end) for utt, spec, start, end in items}
        self.keys = sorted(self.items)
        self.rate = rate

    def __len__(self):
        return len(self.items)

    def __getitem__(self, utt):
        spec, start, end = self.items[utt]
        samples, rate = read_audio(spec, start, end)
        if rate != self.rate:
            raise DataError(f"utterance {utt!r}: {spec} is {rate} Hz but the model's frontend expects {self.rate} Hz; "
                            f"resample it (e.g. a `sox ... -r {self.rate} - |` pipe in wav.scp)")
        return utt, {"speech": samples}


def feats_input(args):
    """(dataset, keys sorted by length) of a dump dir's feats.scp, for a model without a frontend."""
    if not args.data_dir:
        raise ConfigError(f"--wav_scp: the model in {args.model_dir} has no frontend (it was trained on dumped "
                          f"features); dump features of the audio with make_feats and the training's feature config, "
                          f"then decode that dump dir with --data_dir (or train with --frontend_conf)")
    if not os.path.isfile(os.path.join(args.data_dir, "feats.scp")):
        raise ConfigError(f"{args.data_dir}/feats.scp: missing; the model in {args.model_dir} has no frontend and "
                          f"decodes dumped features: give a dump dir made with its feature config (make_feats)")
    dataset = DataDirDataset(args.data_dir, {"speech": ("feats.scp", "feats")})
    frames = {u: int(n) for u, n in read_table(os.path.join(args.data_dir, "utt2num_frames")).items()}
    return dataset, sorted(dataset.keys, key=lambda u: frames[u])  # similar lengths batch with little padding


def audio_input(args, rate):
    """(dataset, keys) of the audio of --wav_scp, or of --data_dir sorted by utt2num_samples when it has one."""
    if args.wav_scp:
        dataset = AudioDataset(audio_items(args.wav_scp, args.segments), rate)
        return dataset, dataset.keys
    data = DataDir(args.data_dir)
    try:
        dataset = AudioDataset([(utt, *data.audio_spec(utt)) for utt in data.utts], rate)
    except KeyError as err:
        raise DataError(f"{args.data_dir}: {err.args[0]!r} is missing from its wav.scp or segments; "
                        f"run utils/fix_data_dir.sh {args.data_dir}") from None
    if not data.has("utt2num_samples"):
        return dataset, dataset.keys
    samples = {u: int(n) for u, n in data.table("utt2num_samples").items()}
    return dataset, sorted(dataset.keys, key=lambda u: samples[u])


@cli_main
def main(argv=None):
    parser = build_parser()
    args = parse_args(parser, argv)
    if bool(args.data_dir) == bool(args.wav_scp):
        parser.error("give one of --data_dir and --wav_scp")
    if args.segments and not args.wav_scp:
        parser.error("--segments goes with --wav_scp (a data dir's own segments are used anyway)")
    setup_logging()
    torch.set_num_threads(args.num_threads)
    speech2text = Speech2Text(args.model_dir, args.checkpoint, mode=args.mode, beam=args.beam,
                              ctc_weight=args.ctc_weight, lm_dir=args.lm_dir, lm_checkpoint=args.lm_checkpoint,
                              lm_weight=args.lm_weight, penalty=args.penalty, maxlenratio=args.maxlenratio,
                              minlenratio=args.minlenratio, device=args.device)
    if speech2text.sample_rate is None:  # dumped features
        dataset, keys = feats_input(args)
    else:
        dataset, keys = audio_input(args, speech2text.sample_rate)
    batches = [keys[i:i + args.batch_size] for i in range(0, len(keys), args.batch_size)]
    loader = DataLoader(dataset, batch_sampler=batches, collate_fn=PadCollate())
    texts, tokens, length, start = {}, {}, 0, time.time()
    for utts, batch in loader:
        length += batch["speech_lengths"].sum().item()
        for utt, ids in zip(utts, speech2text.decode(batch["speech"], batch["speech_lengths"])):
            tokens[utt] = " ".join(speech2text.tokens[i] for i in ids)
            texts[utt] = speech2text.to_text(ids)
            logging.info("%s: %s", utt, texts[utt])
    elapsed = time.time() - start
    os.makedirs(args.out_dir, exist_ok=True)
    write_table(os.path.join(args.out_dir, "text"), texts)
    write_table(os.path.join(args.out_dir, "token"), tokens)
    if speech2text.sample_rate is None:  # length in frames
        audio = length * args.frame_shift_ms / 1000
    else:  # in samples
        audio = length / speech2text.sample_rate
    rtf = write_rtf(args.out_dir, len(keys), audio, elapsed)
    logging.info("decoded %d utterances (%.1f s of audio) in %.1f s: RTF %.3f (%s, beam %d)",
                 len(keys), audio, elapsed, rtf["rtf"], args.mode, args.beam)


if __name__ == "__main__":
    main()
