"""Tokenizers, token lists and the train_tokenizer / tokenize_text CLIs, on real text.

Sentencepiece models are trained here on Harvard sentences (IEEE 1969 lists 1-4);
phonemes come from the real espeak-ng.
"""
import pytest
import sentencepiece as spm

from toolkit.bin import tokenize_text, train_tokenizer
from toolkit.text.build import build_tokenizer
from toolkit.text.cleaners import asr_cleaner, tts_en_cleaner
from toolkit.text.text_file import unknown_report
from toolkit.text.token_list import BLANK, SOS_EOS, UNK, TokenIdConverter, build_token_list, read_token_list
from toolkit.utils.errors import ConfigError, DataError
from toolkit.utils.espeak import phonemize

HARVARD = """\
The birch canoe slid on the smooth planks.
Glue the sheet to the dark blue background.
It's easy to tell the depth of a well.
These days a chicken leg is a rare dish.
Rice is often served in round bowls.
The juice of lemons makes fine punch.
The box was thrown beside the parked truck.
The hogs were fed chopped corn and garbage.
Four hours of steady work faced us.
A large size in stockings is hard to sell.
The boy was there when the sun rose.
A rod is used to catch pink salmon.
The source of the huge river is the clear spring.
Kick the ball straight and follow through.
Help the woman get back to her feet.
A pot of tea helps to pass the evening.
Smoky fires lack flame and heat.
The soft cushion broke the man's fall.
The salt breeze came across from the sea.
The girl at the booth sold fifty bonds.
The small pup gnawed a hole in the sock.
The fish twisted and turned on the bent hook.
Press the pants and sew a button on the vest.
The swan dive was far short of perfect.
The beauty of the view stunned the young boy.
Two blue fish swam in the tank.
Her purse was full of useless trash.
The colt reared and threw the tall rider.
It snowed, rained, and hailed the same morning.
Read verse out loud for pleasure.
Hoist the load to your left shoulder.
Take the winding path to reach the lake.
Note closely the size of the gas tank.
Wipe the grease off his dirty face.
Mend the coat before you go out.
The wrist was badly strained and hung limp.
The stray cat gave birth to kittens.
The young girl gave no clear response.
The meal was cooked before the bell rang.
What joy there is in living.""".splitlines()


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("data") / "text"
    path.write_text("".join(f"utt{i:03d} {line}\n" for i, line in enumerate(HARVARD)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def bpe_dirs(text_file, tmp_path_factory):
    """{mode: out_dir} for a unigram and a bpe model trained by the CLI."""
    dirs = {}
    for mode in ("unigram", "bpe"):
        dirs[mode] = tmp_path_factory.mktemp(mode)
        train_tokenizer.main(["--token_type", "bpe", "--nbpe", "120", "--bpemode", mode,
                              "--text", str(text_file), "--out_dir", str(dirs[mode])])
    return dirs


def check_layout(tokens):
    assert tokens[0] == BLANK and tokens[1] == UNK and tokens[-1] == SOS_EOS
    assert len(set(tokens)) == len(tokens)


def test_build_token_list_order_and_filters():
    counts = {"b": 3, "a": 3, "c": 5, "d": 1, UNK: 7}
    tokens, dropped = build_token_list(counts)
    assert tokens == [BLANK, UNK, "c", "a", "b", "d", SOS_EOS]  # count down, then lexical
    assert dropped == {}
    tokens, dropped = build_token_list(counts, min_count=2, max_vocab=2)
    assert tokens == [BLANK, UNK, "c", "a", SOS_EOS]
    assert dropped == {"b": 3, "d": 1}


@pytest.mark.parametrize("token_type", ["char", "word", "phn"])
def test_counted_token_lists(text_file, tmp_path, token_type):
    train_tokenizer.main(["--token_type", token_type, "--text", str(text_file), "--out_dir", str(tmp_path),
                          "--cleaner", "asr"])
    tokens = read_token_list(tmp_path / "tokens.txt")
    check_layout(tokens)
    tokenizer = build_tokenizer(token_type, cleaner="asr")
    counts = {}
    for line in HARVARD:
        for token in tokenizer.text2tokens(line):
            counts[token] = counts.get(token, 0) + 1
    assert tokens[2:-1] == sorted(counts, key=lambda t: (-counts[t], t))


def test_word_max_vocab_and_min_count(text_file, tmp_path, capsys):
    train_tokenizer.main(["--token_type", "word", "--text", str(text_file), "--out_dir", str(tmp_path),
                          "--cleaner", "asr", "--min_count", "2", "--max_vocab", "5"])
    assert read_token_list(tmp_path / "tokens.txt") == [BLANK, UNK, "the", "of", "to", "a", "and", SOS_EOS]
    assert "WARNING: dropped" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="max_vocab"):
        train_tokenizer.get_args(["--token_type", "char", "--text", "t", "--out_dir", "o", "--max_vocab", "5"])


def test_char_and_word_round_trip():
    char = build_tokenizer("char", nonling_symbols=["[noise]"])
    assert char.text2tokens("ab  c[noise]") == ["a", "b", "<space>", "c", "[noise]"]
    word = build_tokenizer("word")
    for line in HARVARD:
        assert char.tokens2text(char.text2tokens(line)) == line
        assert word.tokens2text(word.text2tokens(line)) == line


def test_cleaners():
    assert asr_cleaner("Don't STOP, [noise] <unk> well-known 'quoted' 3.5.") == \
        "don't stop [noise] <unk> well known quoted 3.5"
    assert tts_en_cleaner("I owe  you 1,250 dollars!") == "I owe you one thousand two hundred fifty dollars!"
    # espeak-ng reads digits itself: our spelling must sound the same (stress marks aside)
    for text in ("21 apples", "1,250 dollars", "pi is 3.14", "405 or 7,000,013 or 90"):
        flat = ["".join(c for c in p if c not in "ˈˌ") for clause in phonemize(text) for w in clause for p in w]
        ours = ["".join(c for c in p if c not in "ˈˌ")
                for clause in phonemize(tts_en_cleaner(text)) for w in clause for p in w]
        assert ours == flat, text
    with pytest.raises(ConfigError, match="unknown text cleaner"):
        build_tokenizer("word", cleaner="nope")


@pytest.mark.parametrize("mode", ["unigram", "bpe"])
def test_sentencepiece_round_trip_and_token_list(bpe_dirs, mode):
    out_dir = bpe_dirs[mode]
    sp = spm.SentencePieceProcessor(model_file=str(out_dir / "bpe.model"))
    assert sp.get_piece_size() == 120
    tokens = read_token_list(out_dir / "tokens.txt")
    check_layout(tokens)
    assert tokens[1:-1] == [sp.id_to_piece(i) for i in range(sp.get_piece_size())]  # <unk> is piece 0
    tokenizer = build_tokenizer("bpe", bpemodel=out_dir / "bpe.model")
    converter = TokenIdConverter(tokens)
    for line in HARVARD + ["Quiet zebras jump over 7 boxes"]:  # Q, z, 7 and x are unseen
        pieces = tokenizer.text2tokens(line)
        assert tokenizer.tokens2text(pieces) == line
        assert [i - 1 for i in converter.tokens2ids(pieces)] == sp.encode(line)  # ids shifted by <blank>
    assert converter.tokens2ids(["zz"]) == [1] and converter.ids2tokens([0, 1]) == [BLANK, UNK]
    with pytest.raises(ValueError, match="outside"):
        converter.ids2tokens([len(tokens)])


def test_sentencepiece_training_is_deterministic(text_file, bpe_dirs, tmp_path):
    train_tokenizer.main(["--token_type", "bpe", "--nbpe", "120", "--bpemode", "unigram",
                          "--text", str(text_file), "--out_dir", str(tmp_path)])
    for name in ("bpe.model", "tokens.txt"):
        assert (tmp_path / name).read_bytes() == (bpe_dirs["unigram"] / name).read_bytes()


def test_sentencepiece_vocabulary_too_large(text_file, tmp_path):
    with pytest.raises(ConfigError, match="lower --nbpe"):
        train_tokenizer.main.__wrapped__(["--token_type", "bpe", "--nbpe", "5000", "--text", str(text_file),
                                          "--out_dir", str(tmp_path)])


def test_phonemes():
    tokenizer = build_tokenizer("phn", voice="en-us")
    tokens = tokenizer.text2tokens("Hello, big world")
    assert "ˈoʊ" in tokens
    assert tokens.count("<pause>") == 1 and tokens.count("<space>") == 1
    assert tokens.index("<pause>") < tokens.index("<space>")
    assert tokenizer.tokens2text(tokens).startswith("həlˈoʊ, ")
    bare = build_tokenizer("phn", word_boundary=None, clause_boundary=None)
    assert bare.text2tokens("Hello, big world") == [t for t in tokens if t not in ("<pause>", "<space>")]
    assert "ɡ" in build_tokenizer("phn", voice="de").text2tokens("guten Tag")
    with pytest.raises(ConfigError, match="no voice"):
        build_tokenizer("phn", voice="xx-nope")


def test_build_tokenizer_options():
    with pytest.raises(ConfigError, match="takes no option"):
        build_tokenizer("word", voice="en-us")
    with pytest.raises(ConfigError, match="needs option"):
        build_tokenizer("bpe")
    with pytest.raises(ConfigError, match="unknown token_type"):
        build_tokenizer("syllable")


def test_tokenize_text_phonemes_parallel_equals_serial(text_file, tmp_path):
    list_dir = tmp_path / "phn"
    train_tokenizer.main(["--token_type", "phn", "--text", str(text_file), "--out_dir", str(list_dir)])
    for nj in (1, 2):
        tokenize_text.main(["--token_dir", str(list_dir), "--text", str(text_file),
                            "--out", str(tmp_path / f"token{nj}"), "--out_ids", str(tmp_path / f"ids{nj}"),
                            "--nj", str(nj)])
    assert (tmp_path / "token1").read_bytes() == (tmp_path / "token2").read_bytes()
    assert (tmp_path / "ids1").read_bytes() == (tmp_path / "ids2").read_bytes()
    lines = (tmp_path / "token1").read_text(encoding="utf-8").splitlines()
    ids = (tmp_path / "ids1").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(HARVARD) and lines[0].split()[0] == "utt000"
    tokens = read_token_list(list_dir / "tokens.txt")
    assert ids[0].split()[1:] == [str(tokens.index(t)) for t in lines[0].split()[1:]]
    assert "<pause>" in lines[28]  # 'It snowed, rained, and hailed ...'
    with pytest.raises(ConfigError, match="not both"):
        tokenize_text.get_args(["--token_dir", str(list_dir), "--config", "x.yaml"])


def test_unknown_tokens_are_reported(bpe_dirs, tmp_path, capsys):
    out_dir = bpe_dirs["unigram"]
    text = tmp_path / "text"
    text.write_text("a1 the fish\nb2 QQQ the\nc3 the fish and the QQ boy\n", encoding="utf-8")
    tokenize_text.main(["--config", str(out_dir / "tokenizer.yaml"), "--text", str(text),
                        "--out", str(tmp_path / "token"), "--out_ids", str(tmp_path / "ids")])
    log = capsys.readouterr().err
    assert "WARNING" in log and "2 utterances map to <unk>" in log
    assert log.index("b2") < log.index("c3")  # b2 has the higher unknown rate
    ids = dict(line.split(maxsplit=1) for line in (tmp_path / "ids").read_text().splitlines())
    assert "1" not in ids["a1"].split() and "1" in ids["b2"].split()

    report = unknown_report([("u1", ["a", "x", "x"]), ("u2", ["a", UNK]), ("u3", ["a"])], {"a": 2, UNK: 1})
    assert report["tokens"] == 6 and report["unknown"] == 3 and report["utterances"] == 2
    assert report["by_token"] == {"x": 2, UNK: 1}
    assert [(utt, round(rate, 2)) for rate, utt, _ in report["worst"]] == [("u1", 0.67), ("u2", 0.5)]


def test_empty_text_is_an_error(bpe_dirs, tmp_path, capsys):
    text = tmp_path / "text"
    text.write_text("a1 the fish\nb2\nc3 ...\n", encoding="utf-8")
    with pytest.raises(DataError, match="utterance b2 has no tokens.*and 1 more: c3"):
        tokenize_text.main.__wrapped__(["--token_type", "word", "--cleaner", "asr",
                                        "--token_list", str(bpe_dirs["bpe"] / "tokens.txt"),
                                        "--text", str(text), "--out", str(tmp_path / "token")])
    with pytest.raises(SystemExit) as exit_info:
        train_tokenizer.main(["--token_type", "bpe", "--nbpe", "50", "--text", str(text),
                              "--out_dir", str(tmp_path / "bpe")])
    assert exit_info.value.code == 1
    assert "utterance b2 has no text after cleaning" in capsys.readouterr().err
    assert not (tmp_path / "token").exists()
