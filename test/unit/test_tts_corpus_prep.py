"""TTS corpus preparation: LJ Speech (toolkit/corpus/real/ljspeech.py, egs/ljspeech/tts1).

The fake LJSpeech-1.1 tree holds 505 real 22.05 kHz wav files of 0.05 s (about 1 MB in
all, written in well under a second): enough for the release's own split, 500 held out
as 250 dev + 250 test, to be checked through local/data.sh without a test-only size
option. Its metadata.csv has the release's three pipe-separated columns, unclosed double
quotes, one line without audio (the highest id, so a split over the file's lines instead
of the kept utterances would differ) and one wav without a line.
"""
import os
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from toolkit.corpus.real import ljspeech
from toolkit.data.audio_io import read_audio
from toolkit.data.tables import read_table
from toolkit.data.validate import validate_data_dir
from toolkit.features.extractor import build_extractor
from toolkit.utils.config import load_config
from toolkit.utils.errors import DataError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RECIPE = os.path.join(ROOT, "egs", "ljspeech", "tts1")
FS = 22050
NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def utt_id(i):
    return f"LJ{1 + i // 200:03d}-{1 + i % 200:04d}"


def lines_for(i):
    """(raw, normalized) transcription of utterance i: digits in the raw one, words in the other."""
    digit = NUMBERS[i % 10]
    if i % 7 == 0:  # a quote opened and never closed, as on some release lines
        return f'"Mr. Lee paid ${i % 10} on {i}', f'"Mister Lee paid {digit} dollars on {i // 10} {digit}'
    return f"Chapter {i}, Dr. Ray.", f"Chapter {i // 10} {digit}, Doctor Ray."


def make_ljspeech(base, num=505):
    """base/LJSpeech-1.1 with `num` utterances, plus a line without audio and a wav without a line.

    -> {utt: int16 samples}, {utt: normalized text} of the complete utterances.
    """
    root = os.path.join(base, "LJSpeech-1.1")
    os.makedirs(os.path.join(root, "wavs"))
    rng = np.random.default_rng(0)
    t = np.arange(int(0.05 * FS)) / FS
    samples, text, lines = {}, {}, []
    for i in range(num):
        utt = utt_id(i)
        samples[utt] = (4000 * np.sin(2 * np.pi * (150 + i) * t) + rng.normal(0, 200, t.size)).astype(np.int16)
        sf.write(os.path.join(root, "wavs", f"{utt}.wav"), samples[utt], FS, subtype="PCM_16")
        raw, text[utt] = lines_for(i)
        lines.append(f"{utt}|{raw}|{text[utt]}")
    lines.append("LJ050-0278|Last, 1963.|Last, nineteen sixty-three.")  # no audio
    sf.write(os.path.join(root, "wavs", "LJ000-0001.wav"), samples[utt_id(0)], FS, subtype="PCM_16")  # no line
    with open(os.path.join(root, "metadata.csv"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return samples, text


def recipe_copy(tmp_path):
    """egs/ljspeech/tts1 in a tree linking to this checkout (as test_corpus_prep.recipe_copy)."""
    os.makedirs(tmp_path, exist_ok=True)
    for name in ("tools", "utils", "toolkit"):
        os.symlink(os.path.join(ROOT, name), tmp_path / name)
    workdir = tmp_path / "egs" / "ljspeech" / "tts1"
    shutil.copytree(RECIPE, workdir, symlinks=True, ignore=shutil.ignore_patterns("data", "dump", "exp", "downloads"))
    return workdir


def run_data_sh(workdir, corpus_dir):
    return subprocess.run(["local/data.sh", "--corpus_dir", str(corpus_dir)], cwd=workdir, capture_output=True,
                          text=True, timeout=300, check=False)


def checked_dir(path):
    """Validate a data dir (audio decoded at 22.05 kHz, text required); -> its tables."""
    report = validate_data_dir(str(path), fs=FS, require_text=True)
    assert report.errors == [], report.errors
    return {name: read_table(os.path.join(path, name)) for name in ("wav.scp", "text", "utt2spk", "spk2utt")}


def test_ljspeech_data_sh(tmp_path):
    samples, text = make_ljspeech(tmp_path / "corpus")
    workdir = recipe_copy(tmp_path / "tree")
    proc = run_data_sh(workdir, tmp_path / "corpus")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "ljspeech: data/train 5 utts, data/dev 250 utts, data/test 250 utts" in proc.stdout
    assert "the release has 12600: is the download complete?" in proc.stderr
    data = workdir / "data"
    sets = {name: checked_dir(data / name) for name in ("train", "dev", "test")}
    utts = sorted(text)
    assert list(sets["train"]["text"]) == utts[:5]  # files in C-locale key order
    assert list(sets["dev"]["text"]) == utts[5:255]
    assert list(sets["test"]["text"]) == utts[255:]
    for tables in sets.values():
        assert tables["text"] == {u: text[u] for u in tables["text"]}  # the normalized column, as is
        assert set(tables["utt2spk"].values()) == {"LJ"}
        assert tables["spk2utt"] == {"LJ": " ".join(tables["text"])}
    assert sets["train"]["text"]["LJ001-0001"] == '"Mister Lee paid zero dollars on 0 zero'
    assert sets["train"]["text"]["LJ001-0002"] == "Chapter 0 one, Doctor Ray."
    for utt in ("LJ001-0001", "LJ003-0105"):
        cset = sets["train"] if utt in sets["train"]["wav.scp"] else sets["test"]
        spec = cset["wav.scp"][utt]
        assert os.path.isabs(spec) and spec.endswith(os.path.join("LJSpeech-1.1", "wavs", f"{utt}.wav"))
        audio, rate = read_audio(spec, dtype="int16")
        assert rate == FS and np.array_equal(audio, samples[utt])
    with open(data / "local" / "ljspeech_dropped.txt", encoding="utf-8") as f:
        rows = [line.split()[:3] for line in f if not line.startswith("#")]
    assert sorted(rows) == [["-", "LJ000-0001", "no_transcript"], ["-", "LJ050-0278", "no_audio"]]
    assert "dropped 2 utterance(s)" in proc.stderr


def test_missing_corpus_says_where_to_download(tmp_path):
    workdir = recipe_copy(tmp_path / "tree")
    proc = run_data_sh(workdir, tmp_path / "nowhere")
    assert proc.returncode != 0
    assert "ERROR: LJSpeech-1.1 not found" in proc.stderr
    assert "https://keithito.com/LJ-Speech-Dataset/" in proc.stderr and "LJSpeech-1.1.tar.bz2" in proc.stderr


def test_too_small_or_incomplete_tree_is_refused(tmp_path):
    make_ljspeech(tmp_path, num=20)
    with pytest.raises(DataError, match=r"20 utterances with audio and text; more than 500 are needed"):
        ljspeech.prepare(str(tmp_path), str(tmp_path / "data"))
    shutil.rmtree(tmp_path / "LJSpeech-1.1" / "wavs")
    with pytest.raises(DataError, match=r"wavs: no such directory.*LJSpeech-1.1.tar.bz2"):
        ljspeech.prepare(str(tmp_path / "LJSpeech-1.1"), str(tmp_path / "data"))


def test_metadata_without_normalized_text_falls_back_to_raw(tmp_path, caplog):
    path = tmp_path / "metadata.csv"
    path.write_text("LJ001-0001|In 1850.|In eighteen fifty.\nLJ001-0002|Mr. Ray.\nLJ001-0003|Dr. Lee.|\n"
                    "LJ001-0004| |\n", encoding="utf-8")
    assert ljspeech.read_metadata(str(path)) == {"LJ001-0001": "In eighteen fifty.", "LJ001-0002": "Mr. Ray.",
                                                 "LJ001-0003": "Dr. Lee.", "LJ001-0004": ""}
    assert "3 line(s) without a normalized transcription use the raw one: 2 (LJ001-0002), 3 (LJ001-0003)" \
        in caplog.text


@pytest.mark.parametrize("content,error", [
    ("LJ001-0001|a|b\nLJ001-0001|c|d\n", r"metadata.csv:2: utterance 'LJ001-0001' is transcribed twice"),
    ("LJ001-0001|a|b\nLJ001-0002 only an id\n", r"metadata.csv:2: expected 'ID\|raw transcription\|normalized"),
    ("LJ001-0001|a|b|c\n", r"metadata.csv:1: expected"),
    ("|a|b\n", r"metadata.csv:1: expected"),
])
def test_bad_metadata_line_is_located(tmp_path, content, error):
    path = tmp_path / "metadata.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataError, match=error):
        ljspeech.read_metadata(str(path))


def test_recipe_mel_config_builds_the_22khz_log_mel():
    conf = load_config(os.path.join(RECIPE, "conf", "mel.yaml"))
    assert conf == {"sample_rate": FS, "n_fft": 1024, "hop_length": 256, "win_length": 1024, "n_mels": 80,
                    "fmin": 0, "fmax": 8000}
    extractor = build_extractor({"feat_type": "logmel", **conf}, "conf/mel.yaml")
    wave = np.sin(2 * np.pi * 440 * np.arange(FS) / FS).astype(np.float32)
    feats = extractor(wave, FS)
    assert feats.shape == (1 + FS // 256, 80)
    # Slaney mel is linear below 1 kHz (200/3 Hz a mel): the loudest bin is centred within a bin of 440 Hz
    top_mel = 15 + 27 * np.log(8000 / 1000) / np.log(6.4)
    step_hz = top_mel / 81 * 200 / 3
    assert abs((feats.mean(axis=0).argmax() + 1) * step_hz - 440) < step_hz
