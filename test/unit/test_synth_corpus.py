"""The mini_synth corpus end to end at --size tiny: determinism, splits, data dirs, mixtures, TTS, noise."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from toolkit.bin.synth_corpus import main
from toolkit.corpus.build import finished_report
from toolkit.corpus.mixtures import active_level_db
from toolkit.corpus.speakers import make_speakers, split_variants
from toolkit.data.datadir import DataDir, utt_files
from toolkit.data.tables import utt2spk_to_spk2utt
from toolkit.utils.espeak import MAX_DATA_PATH, checked_data_path, synthesize, variant_path

FS = 8000
SPEECH_SETS = ("train", "dev", "test", "tts_train", "tts_dev", "tts_test")
SEP_SETS = ("sep_train", "sep_dev", "sep_test")


def _build(path, nj, seed=0, tasks="asr,sep,tts,noise"):
    main(["--out_dir", str(path), "--size", "tiny", "--fs", str(FS), "--seed", str(seed), "--nj", str(nj),
          "--tasks", tasks])
    return str(path)


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """The same tiny corpus built with one and with three jobs.

    This process synthesises first: its engine state must not leak into the
    corpus (test_audio_is_exactly_the_text_spoken compares with a fresh process).
    """
    synthesize("the parent speaks first", voice="en-us+m3")
    base = tmp_path_factory.mktemp("corpus")
    return _build(base / "nj1", nj=1), _build(base / "nj3", nj=3)


def _files(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def _int16(path):
    audio, rate = sf.read(path, dtype="int16")
    assert rate == FS
    return audio


def test_same_seed_same_bytes_whatever_nj(corpora):
    one, three = corpora
    files = _files(one)
    assert files == _files(three) and sum(name.endswith(".wav") for name in files) > 50
    assert "espeak-ng-data/voices/!v/syn_tr02" in files
    for name in files:
        if name == "corpus_report.json":  # holds timings
            continue
        with open(os.path.join(one, name), "rb") as a, open(os.path.join(three, name), "rb") as b:
            assert a.read().replace(one.encode(), b"DIR") == b.read().replace(three.encode(), b"DIR"), name


def test_reuse_keeps_a_finished_corpus_of_the_same_settings_only(corpora, tmp_path):
    report = os.path.join(corpora[0], "corpus_report.json")
    before = os.stat(report).st_mtime_ns
    main(["--out_dir", corpora[0], "--size", "tiny", "--fs", str(FS), "--seed", "0", "--tasks", "sep,tts",
          "--reuse"])
    assert os.stat(report).st_mtime_ns == before  # not rebuilt
    assert finished_report(corpora[0], "tiny", FS, 0, ["asr", "noise"]) is not None
    assert finished_report(corpora[0], "tiny", FS, 1, ["asr"]) is None
    assert finished_report(corpora[0], "ci", FS, 0, ["asr"]) is None
    assert finished_report(str(tmp_path), "tiny", FS, 0, ["asr"]) is None
    with open(report) as f:
        older = json.load(f)
    older["settings"].pop("version")  # a corpus from before VERSION
    (tmp_path / "corpus_report.json").write_text(json.dumps(older))
    assert finished_report(str(tmp_path), "tiny", FS, 0, ["asr"]) is None
    one_task = _build(tmp_path / "tts_only", nj=1, tasks="tts")
    assert finished_report(one_task, "tiny", FS, 0, ["tts"]) is not None
    assert finished_report(one_task, "tiny", FS, 0, ["asr"]) is None


def test_another_seed_gives_other_speakers_and_texts(corpora, tmp_path):
    other = _build(tmp_path / "seed1", nj=2, seed=1, tasks="asr")
    assert sorted(os.listdir(os.path.join(other, "data"))) == ["dev", "test", "train"]
    assert DataDir(os.path.join(other, "data", "train")).table("text") != \
        DataDir(os.path.join(corpora[0], "data", "train")).table("text")


def test_report(corpora):
    with open(os.path.join(corpora[0], "corpus_report.json")) as f:
        report = json.load(f)
    assert set(report["sets"]) == set(SPEECH_SETS + SEP_SETS + ("noise",))
    assert report["sets"]["train"]["utterances"] == 9 and report["sets"]["train"]["speakers"] == 3
    assert report["settings"]["fs"] == FS and report["seconds"]["total"] > 0


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("counts", [{"train": 3, "dev": 2, "test": 2}, {"train": 10, "dev": 2, "test": 2},
                                    {"train": 5, "dev": 3, "test": 3}, {"train": 40, "dev": 4, "test": 4}])
def test_speaker_disjoint_and_test_voices_unseen_in_training(seed, counts):
    speakers = make_speakers(seed, counts)
    ids = {split: {s.spk_id for s in spks} for split, spks in speakers.items()}
    assert sum(map(len, ids.values())) == len(set.union(*ids.values()))
    variants = {split: {s.variant for s in spks} for split, spks in speakers.items()}
    assert not variants["train"] & (variants["dev"] | variants["test"]) and not variants["dev"] & variants["test"]
    assert {s.gender for s in speakers["test"]} == {"m", "f"}
    assert len({s.voice for s in speakers["train"]}) == len(speakers["train"])  # no two alike in accent+variant
    assert not {v for v, _ in split_variants(seed, counts)["train"]} & variants["test"]
    for split in ("dev", "test"):  # no two dev/test speakers share a voice
        assert len(variants[split]) == counts[split] and not any(s.variant_text for s in speakers[split])
    random_voices = speakers["train"][1::2]
    assert all(s.variant == f"syn_{s.spk_id}" and f"name syn_{s.spk_id}" in s.variant_text for s in random_voices)
    assert len({s.variant_text for s in random_voices}) == len(random_voices)
    assert [s.gender for s in random_voices] == ["fm"[j % 2] for j in range(len(random_voices))]
    assert not any(s.variant_text for s in speakers["train"][0::2])


def test_too_many_dev_test_speakers_for_the_variants_is_a_clear_error():
    with pytest.raises(ValueError, match="no female variant for training"):
        make_speakers(0, {"train": 4, "dev": 10, "test": 10})


def test_written_splits_are_speaker_and_voice_disjoint(corpora):
    with open(os.path.join(corpora[0], "speakers.json")) as f:
        speakers = {s["spk_id"]: s for s in json.load(f)}
    used = {}
    for split in ("train", "dev", "test"):
        spks = set(DataDir(os.path.join(corpora[0], "data", split)).table("utt2spk").values())
        used[split] = {speakers[s]["variant"] for s in spks}
        assert all(speakers[s]["split"] == split for s in spks)
    assert not used["train"] & (used["dev"] | used["test"])


def _check_data_dir(path):
    """Kaldi contract: sorted unique keys, same key set in every per-utterance file, spk2utt from utt2spk."""
    data = DataDir(path)
    keys = None
    for name in utt_files(path):
        with open(os.path.join(path, name)) as f:
            file_keys = [line.split(" ", 1)[0] for line in f]
        assert file_keys == sorted(set(file_keys)), f"{path}/{name} not sorted or not unique"
        assert keys is None or file_keys == keys, f"{path}/{name} has other keys"
        keys = file_keys
    spk2utt = {k: v.split() for k, v in data.table("spk2utt").items()}
    assert spk2utt == utt2spk_to_spk2utt(data.table("utt2spk"))
    for utt, spec in data.table("wav.scp").items():
        assert os.path.isabs(spec) and len(_int16(spec)) == int(data.table("utt2num_samples")[utt])
    return data


@pytest.mark.parametrize("name", SPEECH_SETS)
def test_speech_dirs_text_audio_and_durations(corpora, name):
    data = _check_data_dir(os.path.join(corpora[0], "data", name))
    for utt, text in data.table("text").items():
        assert utt.startswith(data.table("utt2spk")[utt] + "-")
        assert re.fullmatch(r"[a-z]+( [a-z]+)*", text), text
        seconds = int(data.table("utt2num_samples")[utt]) / FS
        assert 1.0 <= seconds <= 8.0
        assert 0.12 < seconds / len(text.split()) < 0.8, (utt, text, seconds)
    if name.startswith("tts"):
        assert set(data.table("utt2spk").values()) == {"tts01"}


def test_audio_is_exactly_the_text_spoken(corpora):
    """The first utterance of a speaker, resynthesised from its text in a fresh process, is byte-identical.

    tr02 has a random voice: its variant file is in the corpus's espeak-ng-data.
    """
    root = corpora[0]
    with open(os.path.join(root, "speakers.json")) as f:
        spk = {s["spk_id"]: s for s in json.load(f)}["tr02"]
    with open(variant_path(os.path.join(root, "espeak-ng-data"), spk["variant"])) as f:
        assert f.read() == spk["variant_text"]
    text = DataDir(os.path.join(root, "data", "train")).table("text")["tr02-0001"]
    script = (
        "import sys\n"
        "from toolkit.utils.espeak import synthesize\n"
        "from toolkit.corpus.rng import int_seed\n"
        "from toolkit.corpus.synthesis import resample_speech, to_int16\n"
        f"audio, rate = synthesize({text!r}, voice={spk['voice']!r}, rate={spk['rate']}, pitch={spk['pitch']},"
        f" pitch_range={spk['pitch_range']}, seed=int_seed(0, 'text', 'tr02-0001', 0),"
        f" data_path={os.path.join(root, 'espeak-ng-data')!r})\n"
        f"sys.stdout.buffer.write(to_int16(resample_speech(audio, rate, {FS})[0]).tobytes())\n")
    spoken = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True).stdout
    assert spoken == _int16(os.path.join(root, "wav", "train", "tr02-0001.wav")).tobytes()


@pytest.mark.parametrize("name", SEP_SETS)
def test_mixtures(corpora, name):
    root = corpora[0]
    data = _check_data_dir(os.path.join(root, "data", name))
    split = name[len("sep_"):]
    for mix_id, mix_path in data.table("wav.scp").items():
        assert data.table("utt2spk")[mix_id] == mix_id
        utt1, half, utt2, minus_half = mix_id.split("_")
        assert utt1.split("-")[0] != utt2.split("-")[0] and float(minus_half) == -float(half)
        assert data.table("utt2src_spk")[mix_id] == f"{utt1.split('-')[0]} {utt2.split('-')[0]}"
        mix, s1, s2 = (_int16(p).astype(np.int32) for p in
                       (mix_path, data.table("spk1.scp")[mix_id], data.table("spk2.scp")[mix_id]))
        assert np.array_equal(mix, s1 + s2)
        assert max(np.abs(x).max() for x in (mix, s1, s2)) == pytest.approx(0.9 * 32768, abs=2)
        relative = active_level_db(s1 / 32768, FS) - active_level_db(s2 / 32768, FS)
        assert 0 <= 2 * float(half) <= 5 and relative == pytest.approx(2 * float(half), abs=0.02)
        sources = [_int16(os.path.join(root, "wav", split, f"{u}.wav")) for u in (utt1, utt2)]
        assert len(mix) == min(map(len, sources))
        for written, source in zip((s1, s2), sources):
            source = source[:len(mix)].astype(np.float64)
            assert abs(np.corrcoef(written, source)[0, 1]) > 0.9999


def test_noise_dir(corpora):
    data = _check_data_dir(os.path.join(corpora[0], "data", "noise"))
    assert sorted(set(data.table("utt2category").values())) == ["babble", "brown", "hum", "pink", "white"]
    for spec in data.table("wav.scp").values():
        x = _int16(spec) / 32768
        assert np.abs(x).max() <= 0.9 + 1 / 32768 and np.sqrt(np.mean(x ** 2)) > 0.01


def test_bad_task_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--out_dir", str(tmp_path), "--size", "tiny", "--tasks", "asr,dance"])
    assert exit_info.value.code == 1 and "unknown task(s) dance" in capsys.readouterr().err


def test_out_dir_too_long_for_espeak_is_a_clear_error(tmp_path, capsys):
    root = os.path.realpath(tmp_path)
    deep = tmp_path / ("d" * (MAX_DATA_PATH - len(root) - len("/espeak-ng-data")))  # 1 byte over
    with pytest.raises(SystemExit) as exit_info:
        main(["--out_dir", str(deep), "--size", "tiny"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 1 and "is too long" in err and f"longer than {MAX_DATA_PATH} bytes" in err
    assert not deep.exists()  # refused before anything is written
    with pytest.raises(ValueError, match=f"longer than {MAX_DATA_PATH} bytes"):  # what synthesize() checks too
        checked_data_path(str(deep) + "/espeak-ng-data")
    fits = str(deep)[:-1] + "/espeak-ng-data"
    assert checked_data_path(fits) == os.path.join(root, os.path.basename(str(deep)[:-1]), "espeak-ng-data")
