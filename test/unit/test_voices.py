"""Random espeak-ng voice variants: seeded, within their ranges, spoken from a corpus's own data dir."""
import random
import subprocess
import sys

import pytest

from toolkit.corpus import voices


def _fields(text):
    return [line.split() for line in text.splitlines()]


@pytest.mark.parametrize("gender", ["m", "f"])
def test_random_variant_is_seeded_and_within_ranges(gender):
    texts = [voices.random_variant(random.Random(seed), gender, "syn_x") for seed in range(50)]
    assert texts[0] == voices.random_variant(random.Random(0), gender, "syn_x") and len(set(texts)) == 50
    for text in texts:
        fields = {f[0]: f[1:] for f in _fields(text)}
        assert fields["language"] == ["variant"] and fields["name"] == ["syn_x"]
        assert fields["gender"] == [{"m": "male", "f": "female"}[gender]]
        base, top = map(int, fields["pitch"])
        assert voices.PITCH_BASE[gender][0] <= base <= voices.PITCH_BASE[gender][1] and top > base
        formants = [list(map(int, f[1:])) for f in _fields(text) if f[0] == "formant"]
        assert [f[0] for f in formants] == list(range(9))
        assert all(voices.FORMANT_FREQ[0] <= f[1] <= voices.FORMANT_FREQ[1] for f in formants)
        assert voices.VOICING[0] <= int(fields["voicing"][0]) <= voices.VOICING[1]
    # the vocal-tract factor separates the genders on average
    mean_freq = {g: sum(int(f[2]) for seed in range(50)
                        for f in _fields(voices.random_variant(random.Random(seed), g, "v")) if f[0] == "formant")
                 for g in "mf"}
    assert mean_freq["m"] < mean_freq["f"]


_SPEAK = """
import hashlib, sys
from toolkit.utils.espeak import synthesize
data = sys.argv[1] if len(sys.argv) > 1 else None
for voice in ("en-us", "en-us+syn_a", "en-us+syn_b", "en-us+nonexistent"):
    try:
        audio, _ = synthesize("the seven red boats", voice, data_path=data)
        print(voice, hashlib.sha1(audio.tobytes()).hexdigest())
    except ValueError as e:
        print(voice, "error", e)
"""


def test_variants_in_the_written_data_dir_change_the_voice(tmp_path):
    rng = random.Random(0)
    data = voices.write_espeak_data(str(tmp_path), {name: voices.random_variant(rng, g, name)
                                                    for name, g in (("syn_a", "m"), ("syn_b", "f"))})
    assert data == str(tmp_path / "espeak-ng-data")
    out = subprocess.run([sys.executable, "-c", _SPEAK, data], capture_output=True, text=True, check=True).stdout
    digests = dict(line.split(" ", 1) for line in out.splitlines())
    assert len({digests["en-us"], digests["en-us+syn_a"], digests["en-us+syn_b"]}) == 3
    # espeak-ng itself would speak an unknown variant with the plain voice; we refuse
    assert digests["en-us+nonexistent"].startswith("error") and "'nonexistent'" in digests["en-us+nonexistent"]
    default = subprocess.run([sys.executable, "-c", _SPEAK], capture_output=True, text=True, check=True).stdout
    default = dict(line.split(" ", 1) for line in default.splitlines())
    assert default["en-us"] == digests["en-us"] and default["en-us+syn_a"].startswith("error")
