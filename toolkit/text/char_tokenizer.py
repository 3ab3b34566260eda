"""Character tokens; a space becomes `<space>`; non-linguistic symbols stay whole."""
from toolkit.text.cleaners import get_cleaner
from toolkit.text.token_list import SPACE


class CharTokenizer:
    """'ab c' -> ['a', 'b', '<space>', 'c']. Runs of whitespace count as one space.

    `nonling_symbols` (e.g. ['[noise]', '<laugh>']) are single tokens wherever they occur.
    """

    def __init__(self, space_symbol=SPACE, nonling_symbols=(), cleaner="none"):
        self.space_symbol = space_symbol
        self.nonling_symbols = sorted(set(nonling_symbols), key=len, reverse=True)  # longest match first
        self.cleaner = get_cleaner(cleaner)

    def text2tokens(self, text):
        text = " ".join(self.cleaner(text).split())
        tokens, i = [], 0
        while i < len(text):
            symbol = next((s for s in self.nonling_symbols if text.startswith(s, i)), None)
            if symbol is None:
                symbol = self.space_symbol if text[i] == " " else text[i]
                i += 1
            else:
                i += len(symbol)
            tokens.append(symbol)
        return tokens

    def tokens2text(self, tokens):
        return "".join(" " if t == self.space_symbol else t for t in tokens)
