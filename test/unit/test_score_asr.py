"""ASR scoring: alignments and error counts against jiwer, the CLI's outputs, RESULTS.md rows."""
import json
import logging
import random

import jiwer
import pytest

from toolkit.bin.score_asr import main as score_asr
from toolkit.metrics.asr_scores import char_tokens, read_pair, word_tokens
from toolkit.metrics.edit_distance import align
from toolkit.metrics.results_md import update_results_table
from toolkit.text.sentencepiece_tokenizer import SentencepieceTokenizer, train_sentencepiece
from toolkit.utils.errors import DataError

CASES = [
    ("the cat sat on the mat", "the cat sat on the mat"),
    ("the cat sat on the mat", "the cat set on mat now"),
    ("a b", "b a"),  # tie: two substitutions or a deletion and an insertion
    ("a b c d", "b a d c"),
    ("hello world", ""),  # empty hypothesis: all deletions
    ("one", "one two three four"),
    ("we will meet at three pm", "well meet at three"),
    ("我们 的 世界", "我门 的 世界 啊"),  # Mandarin words
    ("我们的世界很大", "我门的世界大啊"),  # Mandarin characters
    ("naïve café déjà vu", "naive cafe deja vu"),
]
JIWER_OPS = {"equal": "C", "substitute": "S", "replace": "S", "delete": "D", "insert": "I"}


def jiwer_pairs(output, index=0):
    """jiwer's alignment of sentence `index` as our (op, ref, hyp) pairs."""
    ref, hyp = output.references[index], output.hypotheses[index]
    pairs = []
    for chunk in output.alignments[index]:
        op = JIWER_OPS[chunk.type]
        refs = ref[chunk.ref_start_idx:chunk.ref_end_idx]
        hyps = hyp[chunk.hyp_start_idx:chunk.hyp_end_idx]
        if op == "D":
            pairs += [(op, r, None) for r in refs]
        elif op == "I":
            pairs += [(op, None, h) for h in hyps]
        else:
            pairs += [(op, r, h) for r, h in zip(refs, hyps)]
    return pairs


def assert_same(ours, theirs, ref_len):
    assert (ours.sub, ours.dels, ours.ins, ours.correct) == (
        theirs.substitutions, theirs.deletions, theirs.insertions, theirs.hits)
    assert ours.ref_len == ref_len
    assert ours.pairs == jiwer_pairs(theirs)


def no_space(text):
    return "".join(text.split())


@pytest.mark.parametrize("ref,hyp", CASES)
def test_word_and_char_alignment_equal_jiwer(ref, hyp):
    words = align(word_tokens(ref), word_tokens(hyp))
    theirs = jiwer.process_words(ref, hyp)
    assert_same(words, theirs, len(ref.split()))
    assert 100 * words.errors / len(ref.split()) == pytest.approx(100 * theirs.wer)
    # our CER drops whitespace: compare with jiwer on the same text without it
    chars = align(char_tokens(ref), char_tokens(hyp))
    theirs = jiwer.process_characters(no_space(ref), no_space(hyp))
    assert_same(chars, theirs, len(no_space(ref)))
    assert 100 * chars.errors / len(no_space(ref)) == pytest.approx(100 * theirs.cer)


def test_mandarin_cer_counts_each_character():
    assert char_tokens("我们 的世界") == ["我", "们", "的", "世", "界"]
    chars = align(char_tokens("我们的世界很大"), char_tokens("我门的世界大"))
    assert (chars.ref_len, chars.sub, chars.dels, chars.ins) == (7, 1, 1, 0)
    assert chars.pairs[1] == ("S", "们", "门") and chars.pairs[5] == ("D", "很", None)


def test_random_sequences_equal_jiwer():
    rng = random.Random(1234)
    vocab = ["a", "b", "c", "ab", "ba", "世", "界", "é"]
    refs, hyps = [], []
    for _ in range(200):
        ref = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 14)))
        hyp = " ".join(rng.choice(vocab) for _ in range(rng.randint(0, 14)))
        refs.append(ref)
        hyps.append(hyp)
        assert_same(align(word_tokens(ref), word_tokens(hyp)), jiwer.process_words(ref, hyp), len(ref.split()))
        assert_same(align(char_tokens(ref), char_tokens(hyp)),
                    jiwer.process_characters(no_space(ref), no_space(hyp)), len(no_space(ref)))
    # corpus level: totals over all 200 pairs
    words = [align(word_tokens(r), word_tokens(h)) for r, h in zip(refs, hyps)]
    theirs = jiwer.process_words(refs, hyps)
    assert sum(a.errors for a in words) / sum(a.ref_len for a in words) == pytest.approx(theirs.wer)
    assert sum(a.sub for a in words) == theirs.substitutions


def write_text(path, lines):
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return str(path)


@pytest.fixture
def texts(tmp_path):
    refs = {"u1": "the cat sat on the mat", "u2": "hello world", "u3": "a b c", "u4": "我们的世界",
            "u5": "we will meet", "u6": "good morning"}
    hyps = {"u1": "the cat set on mat now", "u2": "hello", "u4": "我门的世界啊", "u5": "we will meet", "u6": ""}
    ref = write_text(tmp_path / "ref", [f"{u} {t}" for u, t in refs.items()])
    hyp = write_text(tmp_path / "hyp", [f"{u} {t}".strip() for u, t in hyps.items()])
    return ref, hyp, refs, hyps


def test_cli_scores_equal_jiwer_and_warn_about_missing_hyps(tmp_path, texts, capsys):
    ref, hyp, refs, hyps = texts
    out = tmp_path / "score"
    score_asr(["--ref", ref, "--hyp", hyp, "--out_dir", str(out), "--token_type", "char"])
    err = capsys.readouterr().err
    assert "1 of 6 reference utterances have no hypothesis; scored as all deletions: u3" in err
    score = json.loads((out / "score.json").read_text())
    ref_list = [refs[u] for u in sorted(refs)]
    hyp_list = [hyps.get(u, "") for u in sorted(refs)]  # the missing hypothesis is empty
    words = jiwer.process_words(ref_list, hyp_list)
    assert score["wer"] == pytest.approx(100 * words.wer)
    assert (score["sub"], score["del"], score["ins"]) == (words.substitutions, words.deletions, words.insertions)
    assert (score["num_utts"], score["ref_words"], score["missing_hyps"]) == (6, 17, 1)
    chars = jiwer.process_characters([no_space(t) for t in ref_list], [no_space(t) for t in hyp_list])
    assert score["cer"] == pytest.approx(100 * chars.cer)
    assert score["cer_detail"] == {"ref_chars": sum(len(no_space(t)) for t in ref_list),
                                   "sub": chars.substitutions, "del": chars.deletions, "ins": chars.insertions}
    # char tokens keep spaces as <space>: the same counts as jiwer's CER over the raw text
    assert score["ter"] == pytest.approx(100 * jiwer.cer(ref_list, hyp_list))
    assert score["ter_detail"]["token_type"] == "char"


def test_report_is_sclite_style(tmp_path, texts):
    ref, hyp, _, _ = texts
    score_asr(["--ref", ref, "--hyp", hyp, "--out_dir", str(tmp_path)])
    words = (tmp_path / "result.wrd.txt").read_text(encoding="utf-8")
    assert ("id: (u1)\n"
            "Scores: (#C #S #D #I) 3 3 0 0\n"
            "REF:  the cat SAT on THE MAT\n"
            "HYP:  the cat SET on MAT NOW\n"
            "Eval:         S      S   S\n") in words
    assert ("id: (u2)\n"
            "Scores: (#C #S #D #I) 1 0 1 0\n"
            "REF:  hello WORLD\n"
            "HYP:  hello *****\n"
            "Eval:       D\n") in words
    assert "Scores: (#C #S #D #I) 3 0 0 0\nREF:  we will meet\nHYP:  we will meet\nEval:\n" in words
    assert "Scores: (#C #S #D #I) 0 0 2 0\nREF:  GOOD MORNING\nHYP:  **** *******\nEval: D    D\n" in words
    assert "reference words   : 17\n" in words
    assert "utterances        : 6 (5 with errors, 83.33%)\n" in words
    assert "errors            : 10 (58.82%)\n" in words
    assert "missing hypotheses: 1, scored as all deletions: u3\n" in words
    assert "   1:     1  ->  mat ==> now\n" in words
    chars = (tmp_path / "result.chr.txt").read_text(encoding="utf-8")
    # wide characters take two columns: the insertion's gap is `**`, the Eval letters stay aligned
    assert ("REF:  我 们 的 世 界 **\n"
            "HYP:  我 门 的 世 界 啊\n"
            "Eval:    S           I\n") in chars
    assert "->  们 ==> 门" in chars


def test_hyp_without_reference_is_an_error(tmp_path, texts, capsys):
    ref, _, _, _ = texts
    hyp = write_text(tmp_path / "bad_hyp", ["u1 the cat", "x9 stray", "x7 other"])
    with pytest.raises(SystemExit) as exit_info:
        score_asr(["--ref", ref, "--hyp", hyp, "--out_dir", str(tmp_path / "out")])
    assert exit_info.value.code == 1
    assert "2 hypothesis utterance(s) have no reference" in capsys.readouterr().err
    with pytest.raises(DataError, match="x7 x9"):
        read_pair(ref, hyp)


def test_missing_hyps_are_named_in_the_warning(tmp_path, caplog):
    ref = write_text(tmp_path / "ref", [f"u{i:02d} w{i}" for i in range(15)])
    hyp = write_text(tmp_path / "hyp", ["u00 w0", "u01"])
    with caplog.at_level(logging.WARNING):
        refs, hyps, missing = read_pair(ref, hyp)
    assert missing == [f"u{i:02d}" for i in range(2, 15)]
    assert hyps["u01"] == "" and hyps["u14"] == "" and len(hyps) == len(refs) == 15
    assert "13 of 15 reference utterances have no hypothesis" in caplog.text
    assert "u02 u03 u04 u05 u06 u07 u08 u09 u10 u11 ... (3 more)" in caplog.text


def test_cleaner_applies_to_both_texts(tmp_path):
    ref = write_text(tmp_path / "ref", ["u1 Hello, World! It's <unk> here."])
    hyp = write_text(tmp_path / "hyp", ["u1 hello world it's <unk> HERE"])
    score_asr(["--ref", ref, "--hyp", hyp, "--out_dir", str(tmp_path / "asr"), "--cleaner", "asr"])
    assert json.loads((tmp_path / "asr" / "score.json").read_text())["wer"] == 0.0
    score_asr(["--ref", ref, "--hyp", hyp, "--out_dir", str(tmp_path / "none")])
    assert json.loads((tmp_path / "none" / "score.json").read_text())["sub"] == 4


def test_results_md_row_is_appended_then_replaced(tmp_path, texts):
    ref, hyp, _, _ = texts
    results = tmp_path / "exp" / "RESULTS.md"
    results.parent.mkdir()
    results.write_text("# My experiment\n\nnotes kept as they are\n")
    rtf = tmp_path / "rtf.json"
    rtf.write_text('{"rtf": 0.0421, "num_utts": 6, "audio_seconds": 10.0, "decode_seconds": 0.421}')
    for name, extra in (("decode_test beam10", []), ("decode_dev beam10", []),
                        ("decode_test beam10", ["--rtf_json", str(rtf)])):
        score_asr(["--ref", ref, "--hyp", hyp, "--out_dir", str(tmp_path / "s"),
                   "--results_md", str(results), "--name", name, *extra])
    lines = results.read_text().splitlines()
    assert lines[:4] == ["# My experiment", "", "notes kept as they are", ""]
    header = lines.index("| name | WER | CER | Sub | Del | Ins | #utts | #words | RTF |")
    assert lines[header + 1] == "|---|---|---|---|---|---|---|---|---|"
    assert lines[header + 2:] == ["| decode_test beam10 | 58.82 | 50.00 | 23.53 | 35.29 | 0.00 | 6 | 17 | 0.042 |",
                                  "| decode_dev beam10 | 58.82 | 50.00 | 23.53 | 35.29 | 0.00 | 6 | 17 | - |"]
    assert json.loads((tmp_path / "s" / "score.json").read_text())["rtf"] == 0.0421


def test_results_md_generic_tables(tmp_path):
    path = tmp_path / "RESULTS.md"
    update_results_table(path, ["name", "WER"], ["a", "1.0"], title="ASR")
    update_results_table(path, ["name", "SI-SNRi"], ["sep|x", "12.0"])  # another table in the same file
    update_results_table(path, ["name", "WER"], ["b", "2.0"])
    update_results_table(path, ["name", "WER"], ["a", "0.5"])
    update_results_table(path, ["name", "SI-SNRi"], ["sep|x", "13.0"])
    assert path.read_text().splitlines() == [
        "## ASR", "",
        "| name | WER |", "|---|---|", "| a | 0.5 |", "| b | 2.0 |", "",
        "| name | SI-SNRi |", "|---|---|", "| sep\\|x | 13.0 |"]
    with pytest.raises(ValueError):
        update_results_table(path, ["name", "WER"], ["a"])


def test_token_error_rate_with_a_sentencepiece_model(tmp_path, texts):
    ref, hyp, refs, hyps = texts
    model = str(tmp_path / "bpe.model")
    train_sentencepiece([t for t in refs.values() if t] * 20, model, vocab_size=30)
    out = tmp_path / "score"
    score_asr(["--ref", ref, "--hyp", hyp, "--out_dir", str(out), "--token_type", "bpe", "--bpemodel", model])
    pieces = SentencepieceTokenizer(model)
    ref_list = [" ".join(pieces.text2tokens(refs[u])) for u in sorted(refs)]
    hyp_list = [" ".join(pieces.text2tokens(hyps.get(u, ""))) for u in sorted(refs)]
    theirs = jiwer.process_words(ref_list, hyp_list)
    score = json.loads((out / "score.json").read_text())
    assert score["ter"] == pytest.approx(100 * theirs.wer)
    assert score["ter_detail"] == {"token_type": "bpe", "ref_tokens": sum(len(r.split()) for r in ref_list),
                                   "sub": theirs.substitutions, "del": theirs.deletions, "ins": theirs.insertions}
    assert "unit: token (bpe)" in (out / "result.tok.txt").read_text(encoding="utf-8")
