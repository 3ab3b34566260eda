"""Sentence generator of the mini_synth corpus: number words, grammar output, determinism."""
import re

import pytest

from toolkit.corpus.rng import py_rng
from toolkit.corpus.sentences import make_sentence, number_words
from toolkit.corpus.vocabulary import NOUNS, plural, vocabulary

NUMBER_WORDS = set("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
                   "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety "
                   "hundred thousand".split())


@pytest.mark.parametrize("n, words", [
    (0, "zero"), (7, "seven"), (13, "thirteen"), (20, "twenty"), (42, "forty two"), (100, "one hundred"),
    (105, "one hundred five"), (999, "nine hundred ninety nine"), (1000, "one thousand"),
    (1001, "one thousand one"), (12345, "twelve thousand three hundred forty five"),
    (700010, "seven hundred thousand ten"),
])
def test_number_words(n, words):
    assert number_words(n) == words


def test_number_words_rejects_out_of_range():
    with pytest.raises(ValueError):
        number_words(1_000_000)


def test_plurals():
    assert [plural(n) for n in ("box", "cherry", "key", "child", "tomato", "dog")] == \
        ["boxes", "cherries", "keys", "children", "tomatoes", "dogs"]


def test_vocabulary_is_several_hundred_plain_words():
    words = vocabulary()
    assert len(words) > 500 and len(NOUNS) == len(set(NOUNS))
    assert all(re.fullmatch(r"[a-z]+", w) for w in words)


def test_sentences_are_normalised_in_range_and_from_the_vocabulary():
    rng, known = py_rng(0, "test"), vocabulary() | NUMBER_WORDS
    sentences = [make_sentence(rng, 3, 18) for _ in range(500)]
    for s in sentences:
        words = s.split(" ")
        assert 3 <= len(words) <= 18 and set(words) <= known, s
    assert sum(any(w in NUMBER_WORDS for w in s.split()) for s in sentences) > 50  # numbers do occur
    assert len(set(sentences)) > 490


def test_sentences_are_deterministic_per_stream():
    first = [make_sentence(py_rng(1, "a", i)) for i in range(20)]
    assert first == [make_sentence(py_rng(1, "a", i)) for i in range(20)]
    assert first != [make_sentence(py_rng(2, "a", i)) for i in range(20)]
