"""Synthesise speech with a trained acoustic model and a vocoder (or Griffin-Lim).

    python -m toolkit.bin.tts_inference --model_dir exp/tts_x [--model_file valid.loss.ave.pth] \
        (--text TEXT | --token_int TOKEN_INT) --out_dir OUT \
        (--vocoder_dir exp/vocoder_x [--vocoder_file F] | --vocoder griffin_lim) \
        [--speed 1.0 --pitch_scale 1.0 --energy_scale 1.0] [--batch_size 8]

--text holds "utt words ..." lines, phonemised with the tokenizer saved beside the
model's token list; --token_int holds phoneme ids already. Utterances are synthesised in
batches of similar length (padding frames are silence, so a batch vocodes each utterance as
it would alone, up to the vocoder's receptive field). A HiFi-GAN whose log-mel settings differ
from the acoustic model's is an error. Writes OUT/wavs/<utt>.wav (16-bit PCM at the model's rate),
OUT/wav.scp, OUT/feats.scp (+ark: the predicted log-mel), OUT/durations (predicted frames
per phoneme) and OUT/rtf.json (synthesis seconds, vocoder included, / audio seconds).
"""
import logging
import math
import os
import time

import kaldiio
import numpy as np
import torch

from toolkit.data.audio_io import write_audio
from toolkit.data.tables import read_int_table, read_table, write_table
from toolkit.decode.speech2text import load_tokenizer
from toolkit.features.extractor import logmel_options
from toolkit.metrics.rtf import write_rtf
from toolkit.models.vocoder import GriffinLim
from toolkit.tasks.experiment import load_experiment
from toolkit.text.token_list import read_token_list
from toolkit.utils.config import get_parser, load_config, parse_args
from toolkit.utils.errors import ConfigError, DataError, cli_main
from toolkit.utils.logging_setup import setup_logging


def build_parser():
    parser = get_parser(__doc__)
    parser.add_argument("--model_dir", required=True, help="acoustic model experiment dir (config.yaml + weights)")
    parser.add_argument("--model_file", default="valid.loss.ave.pth")
    parser.add_argument("--text", help="utt -> text to phonemise")
    parser.add_argument("--token_int", help="utt -> phoneme ids")
    parser.add_argument("--out_dir", required=True)
    parser.add_argument("--vocoder", choices=("hifigan", "griffin_lim"), default="hifigan")
    parser.add_argument("--vocoder_dir", help="vocoder experiment dir (--vocoder hifigan)")
    parser.add_argument("--vocoder_file", default="valid.mel_loss.best.pth")
    parser.add_argument("--griffin_lim_iters", type=int, default=32)
    parser.add_argument("--speed", type=float, default=1.0, help="> 1 speaks faster")
    parser.add_argument("--pitch_scale", type=float, default=1.0, help="F0 multiplied by this")
    parser.add_argument("--energy_scale", type=float, default=1.0)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--num_threads", type=int, default=1, help="torch threads")
    parser.add_argument("--device", default="cpu")
    return parser


def read_inputs(args, conf):
    """{utt: phoneme ids (int64 array)} from --token_int or --text."""
    if bool(args.text) == bool(args.token_int):
        raise ConfigError("give exactly one of --text and --token_int")
    if args.token_int:
        return read_int_table(args.token_int, "phoneme ids", allow_empty=False)
    tokenizer = load_tokenizer(conf.token_list)
    index = {token: i for i, token in enumerate(read_token_list(conf.token_list))}
    inputs = {}
    for utt, text in read_table(args.text, allow_empty=True).items():
        tokens = tokenizer.text2tokens(text)
        unknown = sorted({t for t in tokens if t not in index})
        if unknown or not tokens:
            raise DataError(f"{args.text}: utterance {utt}: " + (
                f"phonemes {unknown} are not in {conf.token_list}" if unknown else "no phonemes"))
        inputs[utt] = np.array([index[t] for t in tokens], dtype=np.int64)
    return inputs


def mel_options(feat_conf):
    """The LogMel options of a feature config, defaults filled in."""
    return {**logmel_options(), **{k: v for k, v in feat_conf.items() if k in logmel_options()}}


def build_vocoder(args, conf, feat_conf):
    """mel [B, T, n_mels] -> wave [B, samples] callable; a HiFi-GAN must use the acoustic model's mel."""
    if args.vocoder == "griffin_lim":
        return GriffinLim(n_iter=args.griffin_lim_iters, **mel_options(feat_conf)).to(args.device).inference
    if not args.vocoder_dir:
        raise ConfigError("--vocoder hifigan needs --vocoder_dir (or use --vocoder griffin_lim)")
    vocoder, vocoder_conf = load_experiment(args.vocoder_dir, args.vocoder_file, args.device)
    ours, theirs = mel_options(feat_conf), mel_options(load_config(vocoder_conf.feat_conf))
    differ = sorted(k for k in ours if ours[k] != theirs[k])
    if differ:
        raise ConfigError(f"{args.vocoder_dir} was trained on other log-mels than {args.model_dir} "
                          f"({conf.feat_conf} vs {vocoder_conf.feat_conf} differ in {differ}); "
                          f"train the vocoder with the acoustic model's --feat_conf")
    vocoder.remove_weight_norm()
    return vocoder.inference


@cli_main
def main(argv=None):
    args = parse_args(build_parser(), argv)
    setup_logging()
    torch.set_num_threads(args.num_threads)
    model, conf = load_experiment(args.model_dir, args.model_file, args.device)
    feat_conf = load_config(conf.feat_conf)
    rate, hop = int(feat_conf.get("sample_rate", 22050)), int(feat_conf.get("hop_length", 256))
    vocode = build_vocoder(args, conf, feat_conf)
    silence = math.log(mel_options(feat_conf)["log_floor"])  # padding frames: silence, not log(1) = 0
    inputs = read_inputs(args, conf)
    wav_dir = os.path.join(args.out_dir, "wavs")
    os.makedirs(wav_dir, exist_ok=True)
    wav_scp, durations_table, audio_seconds = {}, {}, 0.0
    order = sorted(inputs, key=lambda u: len(inputs[u]))
    start = time.time()
    with torch.no_grad(), kaldiio.WriteHelper(f"ark,scp:{os.path.join(args.out_dir, 'feats.ark')},"
                                              f"{os.path.join(args.out_dir, 'feats.scp')}") as writer:
        for b in range(0, len(order), args.batch_size):
            utts = order[b:b + args.batch_size]
            lengths = torch.tensor([len(inputs[u]) for u in utts])
            text = torch.full((len(utts), int(lengths.max())), -1, dtype=torch.int64)
            for i, utt in enumerate(utts):
                text[i, :lengths[i]] = torch.from_numpy(inputs[utt])
            out = model.inference(text.to(args.device), lengths.to(args.device), speed=args.speed,
                                  pitch_scale=args.pitch_scale, energy_scale=args.energy_scale)
            feats = out["feats"].clone()
            for i, frames in enumerate(out["feats_lengths"].tolist()):
                feats[i, frames:] = silence
            waves = vocode(feats)
            for i, utt in enumerate(utts):
                frames = int(out["feats_lengths"][i])
                wave = waves[i, :frames * hop].float().cpu().numpy()
                wave = np.pad(wave, (0, frames * hop - len(wave)))  # Griffin-Lim ends one hop early
                path = os.path.abspath(os.path.join(wav_dir, f"{utt}.wav"))
                write_audio(path, np.clip(wave, -1.0, 1.0), rate)
                wav_scp[utt] = path
                writer(utt, out["feats"][i, :frames].float().cpu().numpy())
                durations_table[utt] = " ".join(map(str, out["durations"][i, :lengths[i]].tolist()))
                audio_seconds += len(wave) / rate
    elapsed = time.time() - start
    write_table(os.path.join(args.out_dir, "wav.scp"), wav_scp)
    write_table(os.path.join(args.out_dir, "durations"), durations_table)
    rtf = write_rtf(args.out_dir, len(wav_scp), audio_seconds, elapsed)
    logging.info("synthesised %d utterances (%.1f s of audio) in %.1f s: RTF %.3f", rtf["num_utts"],
                 audio_seconds, elapsed, rtf["rtf"])


if __name__ == "__main__":
    main()
