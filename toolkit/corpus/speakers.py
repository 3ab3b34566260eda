"""Speakers: an espeak-ng English accent + voice variant + pitch, pitch range and speaking rate.

Variants come from espeakng-loader's `espeak-ng-data/voices/!v`. The pools keep
human-sounding variants only: no robot, whisper, klatt, strong-echo or novelty
voices, one member of each family of near-copies, and none that reaches full
scale in more than 1 in 10^4 samples (checked over all accents at the extremes
of pitch and rate). Every dev and test speaker has a variant of its own, held
out from training, so test voices are unseen in training and no two test
speakers share a voice. Every second training speaker (tr02, tr04, ...) has a
random variant (toolkit/corpus/voices.py) instead of one of the few fixed ones,
so training covers a continuum of voices.
"""
import math
from dataclasses import asdict, dataclass

from toolkit.corpus.rng import py_rng
from toolkit.corpus.voices import random_variant

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
    variant_text: str = ""  # the variant file of a random variant ("" for espeak-ng's own)

    @property
    def voice(self):
        """espeak-ng voice name, e.g. 'en-gb-scotland+m3'."""
        return f"{self.accent}+{self.variant}"

    def to_dict(self):
        return dict(asdict(self), voice=self.voice)


def split_variants(seed, counts):
    """{split: [(variant, gender), ...]} alternating male and female; one variant per dev/test speaker.

    counts: {split: number of speakers}; dev and test each hold out ceil(count / 2)
    male and female variants, training gets the rest.
    """
    rng = py_rng(seed, "variants")
    male = rng.sample([(name, "m") for name in MALE_VARIANTS], len(MALE_VARIANTS))
    female = rng.sample([(name, "f") for name in FEMALE_VARIANTS], len(FEMALE_VARIANTS))
    variants, start = {}, 0
    for split in ("dev", "test"):
        n = math.ceil(counts.get(split, 0) / 2)
        variants[split] = [v for pair in zip(male[start:start + n], female[start:start + n]) for v in pair]
        start += n
    if len(female) - start < 1:
        raise ValueError(f"{counts} leaves no female variant for training: use fewer dev/test speakers")
    train_male, train_female = male[start:], female[start:]
    variants["train"] = [v for pair in zip(train_male, train_female) for v in pair] + train_male[len(train_female):]
    return variants


def make_speakers(seed, counts):
    """Seeded speakers for {split: number of speakers}; returns {split: [Speaker, ...]}.

    Dev/test speaker i uses the split's variant i. Training speakers alternate:
    tr01, tr03, ... use the training variants in turn; tr02, tr04, ... each a
    random variant of its own (female and male in turn). Each speaker has a random
    pitch, range, rate and accent, the accent differing from those of earlier
    speakers with the same variant.
    """
    variants = split_variants(seed, counts)
    speakers = {}
    for split, count in counts.items():
        rng, pool, accents_used = py_rng(seed, "speakers", split), variants[split], {}
        speakers[split] = []
        for i in range(count):
            spk_id, variant_text = f"{SPLIT_PREFIX[split]}{i + 1:02d}", ""
            if split == "train" and i % 2:
                variant, gender = f"syn_{spk_id}", "fm"[(i // 2) % 2]
                variant_text = random_variant(py_rng(seed, "voice", spk_id), gender, variant)
            else:
                variant, gender = pool[(i // 2 if split == "train" else i) % len(pool)]
            used = accents_used.setdefault(variant, set())
            accent = rng.choice([a for a in ACCENTS if a not in used] or ACCENTS)
            used.add(accent)
            speakers[split].append(Speaker(
                spk_id=spk_id, split=split, accent=accent, variant=variant, gender=gender,
                pitch=rng.randint(*PITCH), pitch_range=rng.randint(*PITCH_RANGE), rate=rng.randint(*RATE),
                variant_text=variant_text))
    return speakers
