"""Speakers: an espeak-ng English accent + voice variant + pitch, pitch range and speaking rate.

Variants come from espeakng-loader's `espeak-ng-data/voices/!v`. The pools keep
human-sounding variants only: no robot, whisper, klatt, strong-echo or novelty
voices, one member of each family of near-copies, and none that reaches full
scale in more than 1 in 10^4 samples (checked over all accents at the extremes
of pitch and rate). Dev and test speakers use variants held out from training
(one male and one female each), so test voices are unseen in training.
"""
from dataclasses import asdict, dataclass

from toolkit.corpus.rng import py_rng

ACCENTS = ("en-us", "en", "en-gb-scotland", "en-029", "en-us-nyc", "en-gb-x-rp", "en-gb-x-gbclan",
           "en-gb-x-gbcwmd")
MALE_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "Alex", "Denis", "Diogo", "Mario", "Mike", "boris",
                 "marcelo", "max", "quincy")
FEMALE_VARIANTS = ("f1", "f2", "f3", "f4", "f5", "Annie", "anika", "steph", "aunty", "grandma")
SPLIT_PREFIX = {"train": "tr", "dev": "dv", "test": "ts"}
PITCH = (35, 65)          # espeak pitch 0..100, relative to the variant's own base pitch
PITCH_RANGE = (30, 70)    # espeak pitch range 0..100
RATE = (145, 195)         # words per minute


@dataclass(frozen=True)
class Speaker:
    spk_id: str
    split: str
    accent: str
    variant: str
    gender: str           # 'm' or 'f'
    pitch: int
    pitch_range: int
    rate: int

    @property
    def voice(self):
        """espeak-ng voice name, e.g. 'en-gb-scotland+m3'."""
        return f"{self.accent}+{self.variant}"

    def to_dict(self):
        return dict(asdict(self), voice=self.voice)


def split_variants(seed):
    """{split: [(variant, gender), ...]}: one male and one female variant each held out for dev and test."""
    rng = py_rng(seed, "variants")
    male = rng.sample([(name, "m") for name in MALE_VARIANTS], len(MALE_VARIANTS))
    female = rng.sample([(name, "f") for name in FEMALE_VARIANTS], len(FEMALE_VARIANTS))
    train_male, train_female = male[2:], female[2:]
    alternating = [v for pair in zip(train_male, train_female) for v in pair]
    return {"dev": [male[0], female[0]], "test": [male[1], female[1]],
            "train": alternating + train_male[len(train_female):]}


def make_speakers(seed, counts):
    """Seeded speakers for {split: number of speakers}; returns {split: [Speaker, ...]}.

    Speaker i of a split uses the split's variants in turn (alternating male and
    female where both remain) with a random pitch, range, rate and accent, the
    accent differing from those of earlier speakers with the same variant.
    """
    variants = split_variants(seed)
    speakers = {}
    for split, count in counts.items():
        rng, pool, accents_used = py_rng(seed, "speakers", split), variants[split], {}
        speakers[split] = []
        for i in range(count):
            variant, gender = pool[i % len(pool)]
            used = accents_used.setdefault(variant, set())
            accent = rng.choice([a for a in ACCENTS if a not in used] or ACCENTS)
            used.add(accent)
            speakers[split].append(Speaker(
                spk_id=f"{SPLIT_PREFIX[split]}{i + 1:02d}", split=split, accent=accent, variant=variant,
                gender=gender, pitch=rng.randint(*PITCH), pitch_range=rng.randint(*PITCH_RANGE),
                rate=rng.randint(*RATE)))
    return speakers
