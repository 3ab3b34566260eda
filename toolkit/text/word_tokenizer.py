"""Whitespace-separated word tokens."""
from toolkit.text.cleaners import get_cleaner


class WordTokenizer:
    """'a  b c' -> ['a', 'b', 'c']."""

    def __init__(self, cleaner="none"):
        self.cleaner = get_cleaner(cleaner)

    def text2tokens(self, text):
        return self.cleaner(text).split()

    def tokens2text(self, tokens):
        return " ".join(tokens)
