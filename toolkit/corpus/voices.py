"""Random espeak-ng voice variants and the espeak-ng data dir that holds them.

espeak-ng's own variants (voices/!v) are a few dozen fixed voices. A random
variant draws the things that make a voice a voice from ranges that span the
human-sounding ones: the pitch base and top (Hz), a vocal-tract length factor
that scales every formant's frequency (each jittered on its own), formant
heights and widths, voicing, consonant strength, flutter, roughness and
sometimes breath. Values are espeak-ng's variant-file units: percent of the
default voice for formants, voicing and consonants; Hz for pitch; espeak-ng's
own small scales for flutter, roughness and breath.

Unlike the fixed pool in speakers.py these voices are not screened one by one;
test_voices.py checks that random voices at the extremes of pitch and rate
reach full scale in fewer than 1 in 10^4 samples.
"""
import os
import shutil

from toolkit.utils.espeak import variant_path

PITCH_BASE = {"m": (60, 115), "f": (115, 215)}    # Hz
PITCH_SPAN = {"m": (25, 100), "f": (20, 150)}     # top - base, Hz
TRACT = {"m": (0.70, 1.05), "f": (0.95, 1.30)}    # formant frequency factor
FORMANT_JITTER = (0.85, 1.15)                     # per formant, on top of TRACT: 60..150 % in all
FORMANT_HEIGHT = (40, 150)
FORMANT_WIDTH = (40, 160)
VOICING = (30, 160)
CONSONANTS = (50, 130)
FLUTTER = (0, 15)
ROUGHNESS = (0, 4)
BREATH = (0, 4)                                   # each of the 8 breath values, when there is breath
BREATH_PROB = 0.25


def random_variant(rng, gender, name):
    """Text of an espeak-ng variant file for a random voice of `gender` ('m' or 'f'); rng: random.Random."""
    base = rng.randint(*PITCH_BASE[gender])
    tract = rng.uniform(*TRACT[gender])
    lines = ["language variant", f"name {name}", f"gender {'male' if gender == 'm' else 'female'}",
             f"pitch {base} {base + rng.randint(*PITCH_SPAN[gender])}"]
    for k in range(9):
        freq = round(100 * tract * rng.uniform(*FORMANT_JITTER))
        lines.append(f"formant {k} {freq} {rng.randint(*FORMANT_HEIGHT)} {rng.randint(*FORMANT_WIDTH)}")
    lines += [f"voicing {rng.randint(*VOICING)}",
              f"consonants {rng.randint(*CONSONANTS)} {rng.randint(*CONSONANTS)}",
              f"flutter {rng.randint(*FLUTTER)}", f"roughness {rng.randint(*ROUGHNESS)}"]
    if rng.random() < BREATH_PROB:
        lines.append("breath " + " ".join(str(rng.randint(*BREATH)) for _ in range(8)))
    return "\n".join(lines) + "\n"


def write_espeak_data(out_dir, variants):
    """Copy espeak-ng's data to out_dir/espeak-ng-data with extra variants {name: text}; return its path.

    Pass the path to toolkit.utils.espeak.synthesize(data_path=...) and use a
    voice such as 'en-us+<name>'.
    """
    import espeakng_loader

    data = os.path.join(out_dir, "espeak-ng-data")
    if os.path.isdir(data):
        shutil.rmtree(data)
    shutil.copytree(espeakng_loader.get_data_path(), data)
    for name, text in variants.items():
        with open(variant_path(data, name), "w") as f:
            f.write(text)
    return data
