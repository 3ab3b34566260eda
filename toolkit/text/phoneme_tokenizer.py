"""IPA phoneme tokens from espeak-ng (toolkit.utils.espeak.phonemize)."""
from toolkit.text.cleaners import get_cleaner
from toolkit.text.token_list import SPACE
from toolkit.utils.errors import ConfigError
from toolkit.utils.espeak import phonemize

PAUSE = "<pause>"


class PhonemeTokenizer:
    """'hello, world' -> ['h', 'ə', 'l', 'ˈoʊ', '<pause>', 'w', 'ˈɜː', 'l', 'd'] (voice en-us).

    Phonemes keep their stress and length marks. `word_boundary` goes between the
    words of a clause and `clause_boundary` between clauses (espeak-ng ends a clause at
    punctuation); an empty boundary is left out (a missing clause boundary falls back
    to the word boundary). espeak-ng spells out numbers and abbreviations itself.
    """

    def __init__(self, voice="en-us", word_boundary=SPACE, clause_boundary=PAUSE, cleaner="none"):
        self.voice = voice
        self.word_boundary = word_boundary or None
        self.clause_boundary = clause_boundary or word_boundary or None
        self.cleaner = get_cleaner(cleaner)
        try:
            phonemize("", voice)  # checks the voice
        except ValueError as err:
            raise ConfigError(str(err)) from None

    def text2tokens(self, text):
        tokens = []
        for c, clause in enumerate(phonemize(self.cleaner(text), self.voice)):
            for w, word in enumerate(clause):
                boundary = self.clause_boundary if c and not w else self.word_boundary if w else None
                if boundary:
                    tokens.append(boundary)
                tokens.extend(word)
        return tokens

    def tokens2text(self, tokens):
        """A readable phoneme string: 'həlˈoʊ, wˈɜːld' (not the original spelling)."""
        marks = {self.clause_boundary: ", ", self.word_boundary: " "}  # equal boundaries: a space
        return "".join(marks.get(t, t) for t in tokens)
