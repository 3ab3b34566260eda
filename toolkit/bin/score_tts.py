"""Score synthesised speech against recordings: MCD, log-F0 RMSE, V/UV error and ASR CER; RESULTS.md row.

    python -m toolkit.bin.score_tts --ref_scp data/test/wav.scp --hyp_scp exp/tts/decode_test/wav.scp \
        --out_dir exp/tts/decode_test/score [--nj 4] [--f0_method harvest|dio] \
        [--text data/test/text --asr_model_dir ../asr1/exp/asr_train_asr [--asr_checkpoint valid.acc.ave.pth] \
         [--asr_feat_conf ../asr1/dump/fbank/train_sp/feat_conf.yaml] [--asr_mode attention] [--cleaner asr]] \
        [--results_md exp/tts/RESULTS.md --results_name "decode_test vits" --rtf_json exp/tts/decode_test/rtf.json]

Both scps map utterance -> mono audio (path or `cmd |`). Every --ref_scp utterance needs a
synthesised one (a missing one is an error naming it); synthesised utterances without a
recording are left out with a warning. A synthesised file at another rate is resampled to
its recording's rate. MCD (dB), log-F0 RMSE (natural-log units) and the V/UV error rate
(fraction of aligned frames) follow toolkit/metrics/tts_scores.py (WORLD analysis, DTW on
mel-cepstra, no silence trimming); score.json holds their means over utterances (the
log-F0 RMSE over the `f0_utts` utterances with a frame voiced in both).

Intelligibility: with --asr_model_dir, the synthesised audio is decoded by that ASR experiment
(toolkit.decode.speech2text) and asr_cer is the CER (percent; characters without whitespace,
toolkit.metrics.asr_scores) of the hypotheses against --text, both passed through --cleaner.
A model with a frontend (trained with --frontend_conf) gets the audio resampled to its rate. For
a model trained on dumped features, they are computed in memory with its feature config:
--asr_feat_conf, or the feat_conf.yaml that make_feats wrote beside the training CMVN stats
(asr.sh: dump/<feats>/<train set>/) or in the training data dir; the audio is resampled to
the config's rate.
Relative paths in the experiment's config.yaml are resolved from the directory it was trained
in (--asr_model_dir without the config's output_dir), so any recipe can use another's model.
Without --asr_model_dir there is no asr_cer in score.json (the log says so).

Writes in out_dir: score.json (mcd, f0_rmse, vuv_error, [asr_cer,] num_utts, f0_utts[, rtf from --rtf_json]),
utt_scores.txt (tab-separated, one line per utterance with a header; `-` where a value is
undefined) and, with ASR, asr_text (the hypotheses).
"""
import contextlib
import json
import logging
import multiprocessing
import os

import numpy as np
import torch

from toolkit.audio.resample import resample
from toolkit.data.audio_io import read_audio
from toolkit.data.collate import pad_list
from toolkit.data.tables import read_table, write_table
from toolkit.decode.speech2text import MODES, Speech2Text
from toolkit.features.extractor import build_extractor
from toolkit.metrics.asr_scores import char_tokens, error_rate, named_utts, score_utterances, totals
from toolkit.metrics.results_md import update_results_table
from toolkit.features.pitch import F0_METHODS
from toolkit.metrics.tts_scores import Analysis, score_pair
from toolkit.text.cleaners import CLEANERS, get_cleaner
from toolkit.utils.config import get_parser, load_config, parse_args, str_or_none
from toolkit.utils.errors import ConfigError, DataError, cli_main
from toolkit.utils.logging_setup import setup_logging

RESULTS_HEADER = ("name", "MCD", "log-F0 RMSE", "V/UV err", "ASR CER", "#utts", "RTF")
RESULTS_TITLE = "TTS (score_tts; MCD in dB, log-F0 RMSE in ln units, V/UV error as a fraction, CER in %)"


def get_args(argv):
    parser = get_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--ref_scp", help="scp of the recordings")
    parser.add_argument("--hyp_scp", help="scp of the synthesised speech")
    parser.add_argument("--text", help="Kaldi text of the synthesised sentences (needed with --asr_model_dir)")
    parser.add_argument("--out_dir", help="writes score.json, utt_scores.txt (and asr_text) here")
    parser.add_argument("--nj", type=int, default=1, help="parallel processes for the WORLD analysis")
    group = parser.add_argument_group("WORLD analysis")
    group.add_argument("--f0_method", choices=F0_METHODS, default="harvest")
    group.add_argument("--f0_floor", type=float, default=40.0, help="Hz")
    group.add_argument("--f0_ceil", type=float, default=800.0, help="Hz")
    group.add_argument("--frame_period", type=float, default=5.0, help="ms")
    group.add_argument("--mcep_order", type=int, help="mel-cepstrum order; None: by sample rate")
    group.add_argument("--mcep_alpha", type=float, help="all-pass constant; None: by sample rate")
    group = parser.add_argument_group("intelligibility (ASR CER)")
    group.add_argument("--asr_model_dir", type=str_or_none, help="ASR experiment dir (config.yaml, checkpoints)")
    group.add_argument("--asr_checkpoint", "--asr_model_file", default="valid.acc.ave.pth",
                       help="model file in --asr_model_dir")
    group.add_argument("--asr_feat_conf", type=str_or_none,
                       help="feature config of the ASR model; None: found from its config.yaml")
    group.add_argument("--asr_mode", choices=MODES, default="attention")
    group.add_argument("--asr_beam", type=int, default=10)
    group.add_argument("--asr_ctc_weight", type=float, default=0.3)
    group.add_argument("--asr_batch_size", type=int, default=8, help="utterances per encoder batch")
    group.add_argument("--asr_device", default="cpu")
    group.add_argument("--cleaner", choices=sorted(CLEANERS), default="none",
                       help="applied to --text and the ASR hypotheses before the CER")
    parser.add_argument("--results_md", help="add or replace this run's row in this markdown file")
    parser.add_argument("--results_name", "--name", help="the row's key in --results_md; --out_dir when not given")
    parser.add_argument("--rtf_json", help="rtf.json of the synthesis (toolkit.bin.merge_inference): adds its "
                        "real-time factor to score.json and the RESULTS.md row")
    parser.add_argument("--verbose", action="store_true")
    args = parse_args(parser, argv)
    for name in ("ref_scp", "hyp_scp", "out_dir"):
        if not getattr(args, name):
            raise ConfigError(f"--{name} is required")
    if args.asr_model_dir and not args.text:
        raise ConfigError("--asr_model_dir needs --text (the sentences that were synthesised) for the CER")
    if args.nj < 1:
        raise ConfigError(f"--nj must be at least 1, got {args.nj}")
    return args


def read_scps(ref_scp, hyp_scp):
    """(refs, hyps) restricted to the ref utterances; DataError naming ref utterances without a hyp."""
    refs, hyps = read_table(ref_scp), read_table(hyp_scp)
    missing = sorted(refs.keys() - hyps.keys())
    if missing:
        raise DataError(f"{hyp_scp}: no synthesised audio for {len(missing)} utterance(s) of {ref_scp}: "
                        f"{named_utts(missing)}; synthesise them or score a subset of {ref_scp}")
    extra = sorted(hyps.keys() - refs.keys())
    if extra:
        logging.warning("%s: %d utterance(s) have no recording in %s and are not scored: %s",
                        hyp_scp, len(extra), ref_scp, named_utts(extra))
    return refs, {utt: hyps[utt] for utt in refs}


def read_mono(utt, scp, spec):
    """(float64 samples, rate) of one utterance's mono audio; DataError naming it otherwise."""
    try:
        samples, rate = read_audio(spec, dtype="float64")
    except DataError as err:
        raise DataError(f"utt {utt} (from {scp}): {err}") from None
    if samples.ndim != 1:
        raise DataError(f"utt {utt}: {spec!r} (from {scp}) has {samples.shape[1]} channels; "
                        f"TTS scoring needs mono files")
    return samples, rate


def score_utterance(job):
    """(utt, compare() scores) of one (utt, ref spec, hyp spec, ref_scp, hyp_scp, Analysis) job."""
    utt, ref_spec, hyp_spec, ref_scp, hyp_scp, analysis = job
    ref, rate = read_mono(utt, ref_scp, ref_spec)
    hyp, hyp_rate = read_mono(utt, hyp_scp, hyp_spec)
    hyp = resample(hyp, hyp_rate, rate).astype(np.float64)
    if min(len(ref), len(hyp)) == 0:
        raise DataError(f"utt {utt}: empty audio ({ref_spec!r} from {ref_scp}, {hyp_spec!r} from {hyp_scp})")
    return utt, score_pair(ref, hyp, rate, analysis)


def signal_scores(args, refs, hyps):
    """{utt: compare() scores}, over --nj processes."""
    analysis = Analysis(args.f0_method, args.f0_floor, args.f0_ceil, args.frame_period, args.mcep_order,
                        args.mcep_alpha)
    jobs = [(utt, refs[utt], hyps[utt], args.ref_scp, args.hyp_scp, analysis) for utt in sorted(refs)]
    if args.nj == 1:
        return dict(map(score_utterance, jobs))
    with multiprocessing.get_context("spawn").Pool(min(args.nj, len(jobs))) as pool:
        return dict(pool.imap_unordered(score_utterance, jobs))


@contextlib.contextmanager
def working_dir(path):
    """Run the body in directory `path`, then return to the current one."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def training_dir(model_dir, output_dir):
    """Where an experiment was trained from: model_dir without its config's relative output_dir, else cwd."""
    model_dir = os.path.abspath(model_dir)
    output_dir = os.path.normpath(output_dir or "")
    if not os.path.isabs(output_dir) and model_dir.endswith(os.sep + output_dir):
        return model_dir[: -len(output_dir) - 1]
    return os.getcwd()


def find_feat_conf(config, root, config_path):
    """The feature config make_feats saved for the training data, searched as the module doc says."""
    candidates = [os.path.join(os.path.dirname(config["cmvn"]), "feat_conf.yaml")] if config.get("cmvn") else []
    if config.get("train_data_dir"):
        candidates.append(os.path.join(config["train_data_dir"], "feat_conf.yaml"))
    for path in candidates:
        if os.path.isfile(os.path.join(root, path)):
            return os.path.join(root, path)
    raise ConfigError(f"no feature config found for the ASR model of {config_path} (looked for "
                      f"{', '.join(os.path.join(root, p) for p in candidates) or 'nothing: no cmvn/train_data_dir'}); "
                      f"give --asr_feat_conf (the feat_conf.yaml in the ASR recipe's dump dir)")


def load_asr(args):
    """(Speech2Text, function (mono samples, rate) -> the model's input for one utterance)."""
    config_path = os.path.join(args.asr_model_dir, "config.yaml")
    if not os.path.isfile(config_path):
        raise ConfigError(f"{config_path}: missing; --asr_model_dir must be an ASR training output dir")
    config = load_config(config_path)
    root = training_dir(args.asr_model_dir, config.get("output_dir"))
    model_dir = os.path.abspath(args.asr_model_dir)
    with working_dir(root):  # config.yaml's token_list, cmvn, ... are relative to where it was trained
        speech2text = Speech2Text(model_dir, args.asr_checkpoint, mode=args.asr_mode, beam=args.asr_beam,
                                  ctc_weight=args.asr_ctc_weight, device=args.asr_device)
    if speech2text.sample_rate is not None:  # the model computes its features from audio
        rate = speech2text.sample_rate
        if args.asr_feat_conf:
            logging.warning("--asr_feat_conf %s is not used: the ASR model computes its own features",
                            args.asr_feat_conf)
        logging.info("ASR: %s/%s (%s decoding), audio at %d Hz", args.asr_model_dir, args.asr_checkpoint,
                     args.asr_mode, rate)
        return speech2text, lambda samples, orig: resample(samples, orig, rate).astype(np.float32)
    feat_conf = args.asr_feat_conf or find_feat_conf(config, root, config_path)
    extractor = build_extractor(load_config(feat_conf), feat_conf)
    rate = extractor.sample_rate
    logging.info("ASR: %s/%s (%s decoding), features: %s (%d Hz)", args.asr_model_dir, args.asr_checkpoint,
                 args.asr_mode, feat_conf, rate)
    return speech2text, lambda samples, orig: extractor(resample(samples, orig, rate), rate)


def transcribe(args, hyps):
    """{utt: ASR text} of the synthesised audio."""
    speech2text, model_input = load_asr(args)
    inputs = {}
    for utt, spec in hyps.items():
        samples, rate = read_mono(utt, args.hyp_scp, spec)
        try:
            inputs[utt] = model_input(samples, rate)
        except DataError as err:
            raise DataError(f"utt {utt} (from {args.hyp_scp}): {err}") from None
    keys = sorted(inputs, key=lambda u: len(inputs[u]))
    texts = {}
    for start in range(0, len(keys), args.asr_batch_size):
        utts = keys[start:start + args.asr_batch_size]
        batch = [inputs[u] for u in utts]
        lengths = torch.tensor([len(x) for x in batch])
        for utt, ids in zip(utts, speech2text.decode(pad_list(batch), lengths)):
            texts[utt] = speech2text.to_text(ids)
            logging.debug("%s: %s", utt, texts[utt])
    return texts


def asr_cer(args, hyps, asr_texts):
    """(corpus CER in percent, {utt: CER}) of the ASR texts against --text, after --cleaner."""
    text = read_table(args.text)
    missing = sorted(hyps.keys() - text.keys())
    if missing:
        raise DataError(f"{args.text}: no text for {len(missing)} scored utterance(s): {named_utts(missing)}")
    cleaner = get_cleaner(args.cleaner)
    scores = score_utterances({u: cleaner(text[u]) for u in hyps}, {u: cleaner(t) for u, t in asr_texts.items()},
                              char_tokens)
    per_utt = {s.utt: error_rate(s.alignment.errors, s.alignment.ref_len) for s in scores}
    return totals(scores)["rate"], per_utt


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _cell(value, fmt):
    return "-" if value is None else fmt.format(value)


def write_outputs(out_dir, results, cers, asr_texts, corpus_cer, rtf):
    """score.json, utt_scores.txt (and asr_text); returns the score dict."""
    utts = sorted(results)
    score = {name: _mean([results[u][name] for u in utts]) for name in ("mcd", "f0_rmse", "vuv_error")}
    if corpus_cer is not None:
        score["asr_cer"] = corpus_cer
    score.update(num_utts=len(utts), f0_utts=sum(results[u]["f0_rmse"] is not None for u in utts))
    if rtf is not None:
        score["rtf"] = rtf
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "score.json"), "w", encoding="utf-8") as f:
        json.dump(score, f, indent=2)
        f.write("\n")
    columns = ["utt", "mcd", "f0_rmse", "vuv_error", "frames", "voiced_frames"] + (["asr_cer"] if cers else [])
    with open(os.path.join(out_dir, "utt_scores.txt"), "w", encoding="utf-8") as f:
        f.write("\t".join(columns) + "\n")
        for utt in utts:
            r = results[utt]
            cells = [utt, f"{r['mcd']:.4f}", _cell(r["f0_rmse"], "{:.5f}"), f"{r['vuv_error']:.4f}", r["frames"],
                     r["voiced_frames"]] + ([f"{cers[utt]:.2f}"] if cers else [])
            f.write("\t".join(map(str, cells)) + "\n")
    if asr_texts:
        write_table(os.path.join(out_dir, "asr_text"), asr_texts)
    return score


def results_row(name, score):
    """| name | MCD | log-F0 RMSE | V/UV err | ASR CER | #utts | RTF |; '-' for what was not computed."""
    return [name, _cell(score["mcd"], "{:.2f}"), _cell(score["f0_rmse"], "{:.4f}"),
            _cell(score["vuv_error"], "{:.3f}"), _cell(score.get("asr_cer"), "{:.2f}"), score["num_utts"],
            _cell(score.get("rtf"), "{:.3f}")]


@cli_main
def main(argv=None):
    args = get_args(argv)
    setup_logging(args.verbose)
    refs, hyps = read_scps(args.ref_scp, args.hyp_scp)
    if not refs:
        raise DataError(f"{args.ref_scp}: no utterances to score")
    results = signal_scores(args, refs, hyps)
    corpus_cer, cers, asr_texts = None, {}, {}
    if args.asr_model_dir:
        asr_texts = transcribe(args, hyps)
        corpus_cer, cers = asr_cer(args, hyps, asr_texts)
    rtf = None
    if args.rtf_json:
        with open(args.rtf_json, encoding="utf-8") as f:
            rtf = json.load(f)["rtf"]
    score = write_outputs(args.out_dir, results, cers, asr_texts, corpus_cer, rtf)
    logging.info("%s: MCD %s dB, log-F0 RMSE %s (%d of %d utterances voiced in both), V/UV error %s, %s",
                 args.out_dir, _cell(score["mcd"], "{:.2f}"), _cell(score["f0_rmse"], "{:.4f}"), score["f0_utts"],
                 score["num_utts"], _cell(score["vuv_error"], "{:.3f}"),
                 f"ASR CER {corpus_cer:.2f}%" if corpus_cer is not None
                 else "no ASR CER (no --asr_model_dir; asr_cer is absent from score.json)")
    if args.results_md:
        update_results_table(args.results_md, RESULTS_HEADER, results_row(args.results_name or args.out_dir, score),
                             title=RESULTS_TITLE)


if __name__ == "__main__":
    main()
