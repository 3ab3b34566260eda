"""Word lists of the sentence grammar, grouped by part of speech (lowercase, letters only)."""

NOUNS = """
apple artist baby bag ball basket bean bed bell bicycle bird blanket boat book bottle box boy bread
bridge brother bucket bus butter button cake camera candle car carpet castle cat chair cheese cherry
clock cloud coat coin computer cook cookie corner cousin cow cup curtain desk doctor dog doll door
dragon drawer dress driver duck egg elephant engine farmer feather field flower forest fork friend
frog garden gate girl glass goat hammer hat hill horse house island jacket kettle key king kitten
ladder lake lamp lemon letter lion map market melon mirror monkey moon mountain nurse ocean onion
orange painter pencil piano picture pillow pilot plate pocket pony potato queen rabbit radio river
road robot rocket sailor sandwich school shadow shelf ship shirt shoe shop singer sister soldier
spoon star station stone store street student sugar table teacher teapot ticket tiger tomato tower
town toy train tree truck tunnel turtle umbrella village violin wagon wall watch whale window
wizard worker child man woman mouse foot sheep leaf wolf knife goose
""".split()

IRREGULAR_PLURALS = {"child": "children", "man": "men", "woman": "women", "mouse": "mice", "foot": "feet",
                     "sheep": "sheep", "leaf": "leaves", "wolf": "wolves", "knife": "knives", "goose": "geese"}

ADJECTIVES = """
angry bright broken busy calm careful cheap clean clever cold cozy curious dark dirty dry dusty eager
early empty famous fancy fast friendly funny gentle giant golden good green grey happy heavy honest
huge hungry kind large late lazy light little lonely loud lucky modern narrow new nice noisy old
orange pink plain polite proud purple quick quiet rare red rich round rusty sad shiny short silent
silver simple slow small smooth soft sour strange strong sunny sweet tall tiny tired warm wet white
wild wise wooden yellow young
""".split()

# (base form, past tense); transitive verbs take an object.
TRANSITIVE_VERBS = [tuple(pair.split("/")) for pair in """
bake/baked borrow/borrowed bring/brought build/built buy/bought carry/carried catch/caught clean/cleaned
close/closed cook/cooked count/counted cover/covered draw/drew drop/dropped fill/filled find/found
fix/fixed follow/followed grab/grabbed hide/hid hold/held kick/kicked lift/lifted like/liked move/moved
need/needed open/opened paint/painted pick/picked pull/pulled push/pushed read/read
sell/sold send/sent share/shared show/showed take/took throw/threw touch/touched visit/visited
wash/washed watch/watched want/wanted wrap/wrapped
""".split()]

INTRANSITIVE_VERBS = [tuple(pair.split("/")) for pair in """
arrive/arrived dance/danced fall/fell laugh/laughed listen/listened rest/rested run/ran shout/shouted
sing/sang sit/sat sleep/slept smile/smiled stay/stayed swim/swam travel/travelled wait/waited
walk/walked whistle/whistled work/worked wave/waved jump/jumped
""".split()]

ADVERBS = """
again carefully quickly quietly slowly loudly happily sadly gently suddenly early late together
outside inside yesterday today tonight soon finally nearly almost
""".split()

PREPOSITIONS = "near behind under above beside inside across around beyond below past toward".split()

NAMES = """
alice bob carol david emma frank grace henry irene jack julia kevin laura martin nina oliver paula
peter rachel sam sarah thomas victor wendy anna daniel helen james lucy mary
""".split()

POSSESSIVES = "my your his her our their".split()

TIME_PHRASES = ["in the morning", "in the evening", "at night", "last week", "next year", "on monday",
                "on friday", "after lunch", "before dinner", "every day", "on sunday", "last summer",
                "this winter"]

CONJUNCTIONS = ["and", "but", "because", "so", "while", "when", "after", "before"]

REPORT_VERBS = ["said that", "thought that", "knew that", "heard that", "told us that", "wrote that"]

MODALS = ["will", "can", "could", "should", "must", "might", "would", "did not", "will not"]


def plural(noun):
    """English plural of a noun from the lists above."""
    if noun in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[noun]
    if noun.endswith(("s", "x", "z", "ch", "sh")) or noun in ("potato", "tomato"):
        return noun + "es"
    if noun.endswith("y") and noun[-2] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def vocabulary():
    """Every word the grammar can produce, besides number words."""
    words = set(NOUNS) | {plural(n) for n in NOUNS}
    words |= set(ADJECTIVES) | set(ADVERBS) | set(PREPOSITIONS) | set(NAMES) | set(POSSESSIVES)
    for pairs in (TRANSITIVE_VERBS, INTRANSITIVE_VERBS):
        words |= {w for pair in pairs for w in pair}
    for phrases in (TIME_PHRASES, CONJUNCTIONS, REPORT_VERBS, MODALS):
        words |= {w for phrase in phrases for w in phrase.split()}
    return words | {"the", "a", "an", "was", "were", "there", "of", "and", "very", "number"}
