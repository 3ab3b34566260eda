"""Score ASR hypotheses against references: WER, CER (and TER), alignment reports, RESULTS.md row.

    python -m toolkit.bin.score_asr --ref data/test/text --hyp exp/asr/decode_test/text \
        --out_dir exp/asr/decode_test/score [--cleaner asr] \
        [--token_type bpe --bpemodel data/token_list/bpe_unigram300/bpe.model] \
        [--results_md exp/asr/RESULTS.md --name "decode_test conformer ctc_att beam10"]

Both files are Kaldi text files (`utt words...`, empty texts allowed). A reference
utterance without a hypothesis is scored as all deletions and named in a warning; a
hypothesis without a reference is an error. --cleaner is applied to both texts.
CER counts the characters without whitespace (see toolkit/metrics/asr_scores.py);
--token_type also scores the tokens of that tokenizer (TER; `char` gives ESPnet's
CER with `<space>` tokens).

Writes in out_dir: score.json (wer, cer in percent; num_utts, ref_words and word-level
sub/del/ins counts; cer_detail; ter and ter_detail with --token_type; missing_hyps),
result.wrd.txt and result.chr.txt (and result.tok.txt): sclite-style per-utterance
alignments, a summary and the top confusion pairs.
"""
import json
import logging
import os

from toolkit.metrics.alignment_report import write_report
from toolkit.metrics.asr_scores import char_tokens, read_pair, score_utterances, totals, word_tokens
from toolkit.metrics.results_md import update_results_table
from toolkit.text.build import add_tokenizer_args, build_tokenizer, tokenizer_conf
from toolkit.text.cleaners import get_cleaner
from toolkit.utils.config import get_parser, parse_args
from toolkit.utils.errors import ConfigError, cli_main
from toolkit.utils.logging_setup import setup_logging

RESULTS_HEADER = ("name", "WER", "CER", "Sub", "Del", "Ins", "#utts", "#words", "RTF")


def get_args(argv):
    parser = get_parser(description=__doc__.split("\n")[0])
    parser.add_argument("--ref", help="reference Kaldi text file")
    parser.add_argument("--hyp", help="hypothesis Kaldi text file")
    parser.add_argument("--out_dir", help="writes score.json and result.*.txt here")
    add_tokenizer_args(parser)
    parser.add_argument("--bpemodel", help="token_type bpe: the sentencepiece model")
    parser.add_argument("--results_md", help="add or replace this run's row in this markdown file")
    parser.add_argument("--name", help="the row's key in --results_md; --out_dir when not given")
    parser.add_argument("--rtf_json", help="rtf.json of the decoding (toolkit.bin.merge_inference): adds the "
                        "real-time factor to score.json and the RESULTS.md row")
    parser.add_argument("--verbose", action="store_true")
    args = parse_args(parser, argv)
    for name in ("ref", "hyp", "out_dir"):
        if not getattr(args, name):
            raise ConfigError(f"--{name} is required")
    return args


def detail(total):
    return {"sub": total["sub"], "del": total["dels"], "ins": total["ins"]}


def results_row(name, word, char, num_utts):
    """| name | WER | CER | Sub | Del | Ins | #utts | #words |: rates and Sub/Del/Ins in percent of words."""
    share = [100.0 * word[k] / max(word["ref_len"], 1) for k in ("sub", "dels", "ins")]
    return [name, *(f"{v:.2f}" for v in (word["rate"], char["rate"], *share)), num_utts, word["ref_len"]]


@cli_main
def main(argv=None):
    args = get_args(argv)
    setup_logging(args.verbose)
    units = {"word": ("wrd", word_tokens), "char": ("chr", char_tokens)}
    if args.token_type:
        conf = {**tokenizer_conf(args, bpemodel=args.bpemodel), "cleaner": "none"}  # texts are cleaned below
        units["token"] = ("tok", build_tokenizer(args.token_type, **conf).text2tokens)
    refs, hyps, missing = read_pair(args.ref, args.hyp)
    cleaner = get_cleaner(args.cleaner)
    refs = {utt: cleaner(text) for utt, text in refs.items()}
    hyps = {utt: cleaner(text) for utt, text in hyps.items()}
    os.makedirs(args.out_dir, exist_ok=True)
    header = [f"REF: {args.ref}", f"HYP: {args.hyp}", f"cleaner: {args.cleaner}"]
    result = {}
    for unit, (suffix, tokenize) in units.items():
        scores = score_utterances(refs, hyps, tokenize)
        result[unit] = totals(scores)
        write_report(os.path.join(args.out_dir, f"result.{suffix}.txt"), scores, result[unit], unit,
                     header + [f"unit: {unit}" + (f" ({args.token_type})" if unit == "token" else "")], missing)
    word, char = result["word"], result["char"]
    score = {"wer": word["rate"], "cer": char["rate"], "num_utts": len(refs), "ref_words": word["ref_len"],
             **detail(word), "cer_detail": {"ref_chars": char["ref_len"], **detail(char)},
             "missing_hyps": len(missing)}
    rtf = None
    if args.rtf_json:
        with open(args.rtf_json, encoding="utf-8") as f:
            rtf = json.load(f)["rtf"]
        score["rtf"] = rtf
    if "token" in result:
        score["ter"] = result["token"]["rate"]
        score["ter_detail"] = {"token_type": args.token_type, "ref_tokens": result["token"]["ref_len"],
                               **detail(result["token"])}
    with open(os.path.join(args.out_dir, "score.json"), "w", encoding="utf-8") as f:
        json.dump(score, f, indent=2, ensure_ascii=False)
        f.write("\n")
    logging.info("%s: WER %.2f%% (%d words), CER %.2f%% (%d chars)%s over %d utterances", args.out_dir,
                 word["rate"], word["ref_len"], char["rate"], char["ref_len"],
                 f", TER {score['ter']:.2f}%" if "ter" in score else "", len(refs))
    if args.results_md:
        update_results_table(args.results_md, RESULTS_HEADER,
                             results_row(args.name or args.out_dir, word, char, len(refs))
                             + ["-" if rtf is None else f"{rtf:.3f}"],
                             title="ASR (score_asr; WER/CER/Sub/Del/Ins in %)")


if __name__ == "__main__":
    main()
