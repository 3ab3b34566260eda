"""A seeded English sentence generator: a small grammar over the word lists in vocabulary.py.

Sentences are lowercase words without punctuation, numbers spelled out
("forty two"), so the text is exactly what espeak-ng says.
"""
from toolkit.corpus import vocabulary as V

_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n):
    """Cardinal 0 <= n < 1,000,000 in words: 342 -> 'three hundred forty two'."""
    if not 0 <= n < 1_000_000:
        raise ValueError(f"number_words supports 0..999999, got {n}")
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        return _ONES[n // 100] + " hundred" + ("" if n % 100 == 0 else " " + number_words(n % 100))
    return number_words(n // 1000) + " thousand" + ("" if n % 1000 == 0 else " " + number_words(n % 1000))


def _pick(rng, items):
    return items[rng.randrange(len(items))]


def _count(rng):
    """A count for a plural noun: mostly small, sometimes hundreds or thousands."""
    kind = rng.random()
    if kind < 0.6:
        return rng.randint(2, 20)
    if kind < 0.9:
        return rng.randint(21, 999)
    return rng.randint(1000, 99999)


def _noun_phrase(rng):
    """(words, is_plural) of a noun phrase."""
    kind = rng.random()
    adjective = [_pick(rng, V.ADJECTIVES)] if rng.random() < 0.5 else []
    noun = _pick(rng, V.NOUNS)
    if kind < 0.15:
        return [_pick(rng, V.NAMES)], False
    if kind < 0.3:
        return number_words(_count(rng)).split() + adjective + [V.plural(noun)], True
    if kind < 0.45:
        return ["the"] + adjective + [V.plural(noun)], True
    if kind < 0.6:
        first = (adjective or [noun])[0]
        return ["an" if first[0] in "aeiou" else "a"] + adjective + [noun], False
    if kind < 0.75:
        return [_pick(rng, V.POSSESSIVES)] + adjective + [noun], False
    if kind < 0.85:
        return ["the", noun, "of", "the", _pick(rng, V.NOUNS)], False
    return ["the"] + adjective + [noun], False


def _prepositional_phrase(rng):
    return [_pick(rng, V.PREPOSITIONS)] + _noun_phrase(rng)[0]


def _clause(rng, depth=0):
    """One clause as a list of words."""
    subject, is_plural = _noun_phrase(rng)
    kind = rng.random()
    if kind < 0.3:
        words = subject + [_pick(rng, V.TRANSITIVE_VERBS)[1]] + _noun_phrase(rng)[0]
        if rng.random() < 0.4:
            words += _prepositional_phrase(rng)
    elif kind < 0.5:
        words = subject + [_pick(rng, V.INTRANSITIVE_VERBS)[1]]
        if rng.random() < 0.5:
            words.append(_pick(rng, V.ADVERBS))
        if rng.random() < 0.5:
            words += _prepositional_phrase(rng)
    elif kind < 0.65:
        verb = _pick(rng, V.TRANSITIVE_VERBS + V.INTRANSITIVE_VERBS)
        words = subject + _pick(rng, V.MODALS).split() + [verb[0]]
        words += _noun_phrase(rng)[0] if verb in V.TRANSITIVE_VERBS else [_pick(rng, V.ADVERBS)]
    elif kind < 0.75:
        words = subject + ["were" if is_plural else "was"] + (["very"] if rng.random() < 0.3 else [])
        words.append(_pick(rng, V.ADJECTIVES))
    elif kind < 0.85:
        count = _count(rng)
        words = ["there", "were"] + number_words(count).split() + [V.plural(_pick(rng, V.NOUNS))]
        words += _prepositional_phrase(rng)
    elif kind < 0.92 and depth == 0:
        words = [_pick(rng, V.NAMES)] + _pick(rng, V.REPORT_VERBS).split() + _clause(rng, depth + 1)
    else:
        words = ["the", _pick(rng, V.NOUNS), "number", "was"] + number_words(rng.randint(1, 9999)).split()
    if rng.random() < 0.15:
        words = _pick(rng, V.TIME_PHRASES).split() + words
    return words


def make_sentence(rng, min_words=3, max_words=18):
    """A sentence of min_words..max_words words from `rng` (a random.Random).

    Aims at a length drawn uniformly from the range by joining clauses with
    conjunctions; a draw outside the range is redrawn from the same stream.
    """
    while True:
        target = rng.randint(min_words, max_words)
        words = _clause(rng)
        while len(words) < target:
            words += [_pick(rng, V.CONJUNCTIONS)] + _clause(rng)
        if min_words <= len(words) <= max_words:
            return " ".join(words)
