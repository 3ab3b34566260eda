"""Real-corpus data preparation (toolkit/corpus/real, egs/{an4,librispeech,librispeech_100,aishell}/asr1).

Tiny fake corpora in each published layout, with real audio in the release's format
(AN4 NIST SPHERE in both byte orders, LibriSpeech FLAC, AISHELL wav), go through each
recipe's `run.sh --stage 1 --stop_stage 1` (local/data.sh, then utils/validate_data_dir.sh
on every set) in a temporary copy of the recipe; the data dirs are then checked with
validate_data_dir and against what the fake corpus holds.
"""
import os
import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from toolkit.bin.prepare_corpus import main as prepare_corpus_main
from toolkit.corpus.real import aishell, an4, librispeech
from toolkit.data.audio_io import read_audio
from toolkit.data.tables import read_table
from toolkit.data.validate import validate_data_dir
from toolkit.utils.errors import DataError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FS = 16000


def tone(seed, seconds=0.25):
    """int16 test signal: a seeded sine plus noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(FS * seconds)) / FS
    return (3000 * np.sin(2 * np.pi * (200 + 50 * seed) * t) + rng.normal(0, 300, t.size)).astype(np.int16)


def write(path, seed, **kwargs):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    samples = tone(seed)
    sf.write(path, samples, FS, subtype="PCM_16", **kwargs)
    return samples


def make_an4(base):
    """base/an4 as in an4_sphere.tar.gz: train big-endian, test little-endian SPHERE.

    Train: 3 speakers x 2 utterances, plus a transcript whose audio is missing; test:
    2 utterances plus a .sph without a transcript. -> {fileid: samples}.
    """
    root = os.path.join(base, "an4")
    samples = {}
    lines = {"train": [], "test": []}
    utts = {"train": [("an251", "fash", "b", "RUBOUT G M E F THREE NINE"), ("an253", "fash", "b", "YES"),
                      ("cen1", "mgah", "b", "H E R B E R T"), ("cen2", "mgah", "b", "ENTER SIX"),
                      ("an10", "fbbh", "b", "NO"), ("cen7", "fbbh", "b", "ERASE C Q Q F SEVEN")],
            "test": [("an406", "fcaw", "b", "STOP"), ("cen8", "mjwl", "b", "TWO SIX EIGHT FOUR")]}
    folders = {"train": "an4_clstk", "test": "an4test_clstk"}
    for split, items in utts.items():
        for i, (prompt, spk, session, words) in enumerate(items):
            fileid = f"{prompt}-{spk}-{session}"
            path = os.path.join(root, "wav", folders[split], spk, f"{fileid}.sph")
            samples[fileid] = write(path, i + len(samples), format="NIST",
                                    endian="BIG" if split == "train" else "LITTLE")
            lines[split].append(f"<s> {words} </s> ({fileid})")
    lines["train"].append("<s> GO </s> (an99-fash-b)")  # no audio
    write(os.path.join(root, "wav", "an4test_clstk", "mjwl", "cen9-mjwl-b.sph"), 9, format="NIST")  # no text
    os.makedirs(os.path.join(root, "etc"))
    for split, split_lines in lines.items():
        with open(os.path.join(root, "etc", f"an4_{split}.transcription"), "w") as f:
            f.write("\n".join(reversed(split_lines)) + "\n")
    return samples


# Two utterances per part; train-clean-100 has two readers. Reader 8888 is not in SPEAKERS.TXT.
LIBRI_READERS = {"train-clean-100": ["103", "1034"], "train-clean-360": ["1001"], "train-other-500": ["1006"],
                 "dev-clean": ["1272"], "dev-other": ["116"], "test-clean": ["1089"], "test-other": ["8888"]}
GENDERS = {"103": "F", "1034": "M", "1001": "F", "1006": "F", "1272": "M", "116": "M", "1089": "M"}


def make_librispeech(base):
    """base/LibriSpeech with all seven parts, FLAC audio, trans.txt and SPEAKERS.TXT -> {utt: words}."""
    root = os.path.join(base, "LibriSpeech")
    text = {}
    for p, (part, readers) in enumerate(LIBRI_READERS.items()):
        for reader in readers:
            chapter = str(1240 + p)
            folder = os.path.join(root, part, reader, chapter)
            lines = []
            for n in range(2):
                utt = f"{reader}-{chapter}-{n:04d}"
                write(os.path.join(folder, f"{utt}.flac"), len(text), format="FLAC")
                text[utt] = f"CHAPTER {p} LINE {n} OF READER {reader}"
                lines.append(f"{utt} {text[utt]}")
            with open(os.path.join(folder, f"{reader}-{chapter}.trans.txt"), "w") as f:
                f.write("\n".join(lines) + "\n")
    with open(os.path.join(root, "SPEAKERS.TXT"), "w") as f:
        f.write(";ID  |SEX| SUBSET           |MINUTES| NAME\n")
        for reader, sex in GENDERS.items():
            f.write(f"{reader:<5}| {sex} | train-clean-100  | 25.00 | Reader |{reader}|\n")
    return text


def make_aishell(base):
    """base/data_aishell with extracted wav/{train,dev,test}/SPK/UTT.wav and the v0.8 transcript.

    One train wav has no transcript and one transcript has no wav. -> {utt: words with spaces}.
    """
    root = os.path.join(base, "data_aishell")
    words = {"BAC009S0002W0122": "而 对 楼市 成交 抑制 作用 最 大 的 限 购", "BAC009S0002W0123": "也 成为 地方",
             "BAC009S0003W0121": "一 线 城市", "BAC009S0724W0121": "甚至 出现 交易 几乎 停滞 的 情况",
             "BAC009S0764W0121": "二 是 政策 因素", "BAC009S0764W0122": "房价 上涨"}
    splits = {"S0002": "train", "S0003": "train", "S0724": "dev", "S0764": "test"}
    for i, utt in enumerate(sorted(words) + ["BAC009S0003W0999"]):
        spk = utt[6:11]
        write(os.path.join(root, "wav", splits[spk], spk, f"{utt}.wav"), i)
    os.makedirs(os.path.join(root, "transcript"))
    with open(os.path.join(root, "transcript", "aishell_transcript_v0.8.txt"), "w", encoding="utf-8") as f:
        for utt in sorted(words) + ["BAC009S0916W0001"]:
            f.write(f"{utt} {words.get(utt, '没有 音频')}\n")
    return words


def recipe_copy(tmp_path, corpus):
    """A copy of egs/<corpus>/asr1 in a tree linking to this checkout (as test/recipes/conftest.py)."""
    os.makedirs(tmp_path, exist_ok=True)
    for name in ("tools", "utils", "toolkit"):
        os.symlink(os.path.join(ROOT, name), tmp_path / name)
    os.makedirs(tmp_path / "egs" / corpus)
    os.symlink(os.path.join(ROOT, "egs", "TEMPLATE"), tmp_path / "egs" / "TEMPLATE")
    workdir = tmp_path / "egs" / corpus / "asr1"
    shutil.copytree(os.path.join(ROOT, "egs", corpus, "asr1"), workdir, symlinks=True,
                    ignore=shutil.ignore_patterns("data", "dump", "exp", "downloads"))
    return workdir


def run_stage1(workdir, local_data_opts):
    """./run.sh --stage 1 --stop_stage 1: local/data.sh, then validate_data_dir.sh of every set."""
    return subprocess.run(["./run.sh", "--stage", "1", "--stop_stage", "1", "--local_data_opts", local_data_opts],
                          cwd=workdir, capture_output=True, text=True, timeout=300)


def checked_dir(path):
    """Validate a data dir (audio decoded, 16 kHz, text required) and return its tables."""
    report = validate_data_dir(str(path), fs=FS, require_text=True)
    assert report.errors == [], report.errors
    return {name: read_table(os.path.join(path, name)) for name in ("wav.scp", "text", "utt2spk", "spk2utt")}


def dropped_rows(data):
    with open(os.path.join(data, "local", os.listdir(os.path.join(data, "local"))[0]), encoding="utf-8") as f:
        return [line.split()[:3] for line in f if not line.startswith("#")]


def test_an4_recipe(tmp_path):
    samples = make_an4(tmp_path / "corpus")
    workdir = recipe_copy(tmp_path / "tree", "an4")
    proc = run_stage1(workdir, f"--corpus_dir {tmp_path / 'corpus'} --ndev_utts 2")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = workdir / "data"
    train, dev, nodev, test = (checked_dir(data / s) for s in ("train", "train_dev", "train_nodev", "test"))
    assert sorted(train["text"]) == ["fash-an251-b", "fash-an253-b", "fbbh-an10-b", "fbbh-cen7-b",
                                     "mgah-cen1-b", "mgah-cen2-b"]
    assert train["text"]["fash-an251-b"] == "RUBOUT G M E F THREE NINE"
    assert train["utt2spk"]["mgah-cen1-b"] == "mgah"
    assert list(dev["text"]) == ["fash-an251-b", "fash-an253-b"]  # ESPnet: the first N sorted utterances
    assert sorted(nodev["text"]) == sorted(train["text"])[2:]
    assert test["text"] == {"fcaw-an406-b": "STOP", "mjwl-cen8-b": "TWO SIX EIGHT FOUR"}
    # wav.scp names the .sph files; both byte orders decode to the samples written
    for utt, spec in {**train["wav.scp"], **test["wav.scp"]}.items():
        prompt_spk_session = "-".join(utt.split("-")[i] for i in (1, 0, 2))
        assert spec.endswith(f"{prompt_spk_session}.sph") and os.path.isabs(spec)
        audio, rate = read_audio(spec, dtype="int16")
        assert rate == FS and np.array_equal(audio, samples[prompt_spk_session])
    assert sorted(dropped_rows(data)) == [["test", "mjwl-cen9-b", "no_transcript"],
                                          ["train", "fash-an99-b", "no_audio"]]


def test_librispeech_recipes(tmp_path):
    text = make_librispeech(tmp_path / "corpus")
    part_utts = {part.replace("-", "_"): sorted(u for u in text if u.split("-")[0] in readers)
                 for part, readers in LIBRI_READERS.items()}
    for corpus, train_set, train_parts in (("librispeech", "train_960", ["train_clean_100", "train_clean_360",
                                                                         "train_other_500"]),
                                           ("librispeech_100", "train_clean_100", ["train_clean_100"])):
        workdir = recipe_copy(tmp_path / corpus, corpus)
        proc = run_stage1(workdir, f"--corpus_dir {tmp_path / 'corpus' / 'LibriSpeech'}")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        data = workdir / "data"
        train = checked_dir(data / train_set)
        assert sorted(train["text"]) == sorted(u for p in train_parts for u in part_utts[p])
        assert train["text"]["103-1240-0001"] == "CHAPTER 0 LINE 1 OF READER 103"
        assert train["utt2spk"]["1034-1240-0000"] == "1034-1240"  # speaker = reader-chapter, as in Kaldi
        assert read_table(data / "train_clean_100" / "spk2gender") == {"103-1240": "f", "1034-1240": "m"}
        assert sorted(checked_dir(data / "dev")["text"]) == sorted(part_utts["dev_clean"] + part_utts["dev_other"])
        for test_set in ("test_clean", "test_other", "dev_clean", "dev_other"):
            assert sorted(checked_dir(data / test_set)["text"]) == part_utts[test_set]
        assert not (data / "test_other" / "spk2gender").exists()  # reader 8888 is not in SPEAKERS.TXT
        assert (data / "train_clean_360").exists() == (corpus == "librispeech")
        assert dropped_rows(data) == []


def test_aishell_recipe(tmp_path):
    words = make_aishell(tmp_path / "corpus")
    workdir = recipe_copy(tmp_path / "tree", "aishell")
    proc = run_stage1(workdir, f"--corpus_dir {tmp_path / 'corpus'}")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = workdir / "data"
    sets = {name: checked_dir(data / name) for name in ("train", "dev", "test")}
    assert sets["train"]["text"] == {utt: words[utt].replace(" ", "") for utt in
                                     ("BAC009S0002W0122", "BAC009S0002W0123", "BAC009S0003W0121")}
    assert sets["train"]["text"]["BAC009S0002W0122"] == "而对楼市成交抑制作用最大的限购"
    assert sets["dev"]["utt2spk"] == {"BAC009S0724W0121": "S0724"}
    assert sorted(sets["test"]["text"]) == ["BAC009S0764W0121", "BAC009S0764W0122"]
    assert sorted(dropped_rows(data)) == [["-", "BAC009S0916W0001", "no_audio"],
                                          ["train", "BAC009S0003W0999", "no_transcript"]]
    assert "dropped 2 utterance(s)" in proc.stderr


def test_missing_corpus_says_where_to_download(tmp_path):
    workdir = recipe_copy(tmp_path / "tree", "an4")
    proc = run_stage1(workdir, f"--corpus_dir {tmp_path / 'nowhere'}")
    assert proc.returncode != 0
    assert "ERROR: an4 not found" in proc.stderr and "http://www.speech.cs.cmu.edu/databases/an4/" in proc.stderr
    with pytest.raises(DataError, match="https://www.openslr.org/12"):
        librispeech.prepare(str(tmp_path), str(tmp_path / "data"))
    with pytest.raises(DataError, match="https://www.openslr.org/33"):
        aishell.prepare(str(tmp_path), str(tmp_path / "data"))


def test_missing_librispeech_part_is_named(tmp_path):
    make_librispeech(tmp_path)
    shutil.rmtree(tmp_path / "LibriSpeech" / "dev-other")
    with pytest.raises(DataError, match="part dev-other not found"):
        librispeech.prepare(str(tmp_path), str(tmp_path / "data"), parts=("dev-clean", "dev-other"))


def test_packed_aishell_audio_is_reported(tmp_path):
    make_aishell(tmp_path)
    wav = tmp_path / "data_aishell" / "wav"
    for split in ("train", "dev", "test"):
        shutil.rmtree(wav / split)
    (wav / "S0002.tar.gz").write_bytes(b"")
    with pytest.raises(DataError, match=r"still packed \(1 .tar.gz files\).*tar xzf"):
        aishell.prepare(str(tmp_path), str(tmp_path / "data"))


def test_bad_an4_transcription_line_is_located(tmp_path):
    make_an4(tmp_path)
    path = tmp_path / "an4" / "etc" / "an4_test.transcription"
    path.write_text("<s> STOP </s> (an406-fcaw-b)\n<s> NO FILE ID </s>\n")
    with pytest.raises(DataError, match=r"an4_test.transcription:2: expected"):
        an4.prepare(str(tmp_path), str(tmp_path / "data"))


def test_cli_refuses_an_option_of_another_corpus(tmp_path, capsys):
    with pytest.raises(SystemExit):
        prepare_corpus_main(["--corpus", "aishell", "--src", str(tmp_path), "--parts", "dev-clean"])
    assert "ERROR: --parts applies to librispeech, not aishell" in capsys.readouterr().err
