"""Decode a dumped data dir with a trained ASR model.

    python -m toolkit.bin.asr_inference --model_dir exp/asr_x --checkpoint valid.acc.ave.pth \\
        --data_dir dump/fbank/test --out_dir exp/asr_x/decode/test [--config conf/decode_asr.yaml]
        [--mode attention|ctc_greedy|ctc_prefix_beam|attention_rescoring] [--beam 10] [--ctc_weight 0.3]
        [--lm_dir exp/lm --lm_weight 0.3] [--penalty 0.0] [--maxlenratio 0.0] [--batch_size 16]

Writes OUT_DIR/text (hypotheses), OUT_DIR/token and OUT_DIR/rtf.json (decoding seconds,
audio seconds from utt2num_frames x --frame_shift_ms, real-time factor). Parallel jobs
over split data dirs are merged by toolkit.bin.merge_inference.
"""
import logging
import os
import time

import torch
from torch.utils.data import DataLoader

from toolkit.data.collate import PadCollate
from toolkit.data.dataset import DataDirDataset
from toolkit.data.tables import read_table, write_table
from toolkit.decode.speech2text import MODES, Speech2Text
from toolkit.metrics.rtf import write_rtf
from toolkit.utils.config import get_parser, parse_args, str_or_none
from toolkit.utils.errors import cli_main
from toolkit.utils.logging_setup import setup_logging


def build_parser():
    parser = get_parser(__doc__)
    parser.add_argument("--model_dir", required=True, help="ASR training output dir (config.yaml, checkpoints)")
    parser.add_argument("--checkpoint", default="valid.acc.ave.pth", help="model file inside --model_dir")
    parser.add_argument("--data_dir", required=True, help="dump dir with feats.scp and utt2num_frames")
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
    parser.add_argument("--frame_shift_ms", type=float, default=10.0, help="feature frame shift, for the RTF")
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", default="cpu")
    return parser


@cli_main
def main(argv=None):
    args = parse_args(build_parser(), argv)
    setup_logging()
    torch.set_num_threads(args.num_threads)
    speech2text = Speech2Text(args.model_dir, args.checkpoint, mode=args.mode, beam=args.beam,
                              ctc_weight=args.ctc_weight, lm_dir=args.lm_dir, lm_checkpoint=args.lm_checkpoint,
                              lm_weight=args.lm_weight, penalty=args.penalty, maxlenratio=args.maxlenratio,
                              minlenratio=args.minlenratio, device=args.device)
    dataset = DataDirDataset(args.data_dir, {"speech": ("feats.scp", "feats")})
    frames = {u: int(n) for u, n in read_table(os.path.join(args.data_dir, "utt2num_frames")).items()}
    keys = sorted(dataset.keys, key=lambda u: frames[u])  # similar lengths batch with little padding
    batches = [keys[i:i + args.batch_size] for i in range(0, len(keys), args.batch_size)]
    loader = DataLoader(dataset, batch_sampler=batches, collate_fn=PadCollate())
    texts, tokens, start = {}, {}, time.time()
    for utts, batch in loader:
        for utt, ids in zip(utts, speech2text.decode(batch["speech"], batch["speech_lengths"])):
            tokens[utt] = " ".join(speech2text.tokens[i] for i in ids)
            texts[utt] = speech2text.to_text(ids)
            logging.info("%s: %s", utt, texts[utt])
    elapsed = time.time() - start
    os.makedirs(args.out_dir, exist_ok=True)
    write_table(os.path.join(args.out_dir, "text"), texts)
    write_table(os.path.join(args.out_dir, "token"), tokens)
    audio = sum(frames[u] for u in keys) * args.frame_shift_ms / 1000
    rtf = write_rtf(args.out_dir, len(keys), audio, elapsed)
    logging.info("decoded %d utterances (%.1f s of audio) in %.1f s: RTF %.3f (%s, beam %d)",
                 len(keys), audio, elapsed, rtf["rtf"], args.mode, args.beam)


if __name__ == "__main__":
    main()
