"""Text cleaners: a named function str -> str applied before tokenisation.

- `none`: the text as it is.
- `asr`: lowercase, punctuation replaced by spaces (an apostrophe between two
  letters or digits stays: "don't"; so does a point or comma between digits:
  "3.5", "1,000"), whitespace collapsed. Words wrapped in
  `<...>` or `[...]` (`<unk>`, `[noise]`) are kept exactly.
- `tts_en`: Unicode NFKC, whitespace collapsed, digits spelled out in English
  ("1,250" -> "one thousand two hundred fifty", "2.5" -> "two point five"; no
  ordinals, currencies or dates). Case and punctuation stay: they carry prosody.

The same cleaner must be used to train a tokenizer and to tokenise with it.
"""
import re
import unicodedata

from toolkit.utils.errors import ConfigError

_TAG = re.compile(r"[<\[].*[>\]]")
_APOSTROPHES = "'\u2019"
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))


def _strip_punctuation(word):
    chars = []
    for i, char in enumerate(word):
        before, after = (word[i - 1], word[i + 1]) if 0 < i < len(word) - 1 else ("", "")
        if char in _APOSTROPHES and before.isalnum() and after.isalnum():
            chars.append("'")
        elif char in ".," and before.isdigit() and after.isdigit():
            chars.append(char)
        elif unicodedata.category(char).startswith("P"):
            chars.append(" ")
        else:
            chars.append(char)
    return "".join(chars)


def asr_cleaner(text):
    """Lowercase and strip punctuation; keep `<tag>`/`[tag]` words as they are."""
    words = (w if _TAG.fullmatch(w) else _strip_punctuation(w.lower()) for w in text.split())
    return " ".join(" ".join(words).split())


def _integer_words(n):
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + (_integer_words(n % 10) if n % 10 else [])
    if n < 1000:
        return [_ONES[n // 100], "hundred"] + (_integer_words(n % 100) if n % 100 else [])
    for scale, name in _SCALES:
        if n >= scale:
            return _integer_words(n // scale) + [name] + (_integer_words(n % scale) if n % scale else [])
    raise AssertionError(n)


def number_to_words(number):
    """English words for '123', '1,250' or '2.05' (digits after the point read one by one)."""
    whole, _, fraction = number.replace(",", "").partition(".")
    if int(whole) >= 1000 * _SCALES[0][0]:  # too large to name: read digit by digit
        words = [_ONES[int(d)] for d in whole]
    else:
        words = _integer_words(int(whole))
    if fraction:
        words += ["point"] + [_ONES[int(d)] for d in fraction]
    return " ".join(words)


def tts_en_cleaner(text):
    """NFKC, collapsed whitespace, numbers spelled out in English."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(_NUMBER.sub(lambda m: f" {number_to_words(m.group())} ", text).split())


def no_cleaner(text):
    """The text unchanged."""
    return text


CLEANERS = {"none": no_cleaner, "asr": asr_cleaner, "tts_en": tts_en_cleaner}


def get_cleaner(name):
    """The cleaner function called `name`; ConfigError listing the choices otherwise."""
    if name not in CLEANERS:
        raise ConfigError(f"unknown text cleaner {name!r}; choose one of {', '.join(CLEANERS)}")
    return CLEANERS[name]
