"""Data dir manipulation: fix, subset, combine, split, copy, utt2spk_to_spk2utt."""
import logging
import os
import subprocess
from pathlib import Path

import kaldiio
import numpy as np
import pytest
import soundfile as sf

from toolkit.data.audio_io import read_audio
from toolkit.data.datadir import DataDir, write_data_dir
from toolkit.data.dir_ops import combine, read_dir, rename, write_dir
from toolkit.data.dir_subsets import partition, partition_by_speaker, per_speaker_utts, random_utts, split_dir
from toolkit.data.fix_dir import fix_dir
from toolkit.data.tables import read_table, utt2spk_to_spk2utt
from toolkit.utils.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
RATE = 8000
SPEAKERS = ("s1", "s2", "s3")


def run_tool(name, *args, stdin=None):
    """Run utils/<name> as a user would; returns the CompletedProcess."""
    return subprocess.run([str(ROOT / "utils" / name), *map(str, args)], input=stdin, capture_output=True,
                          text=True, timeout=60)


def make_dir(path, segmented=False, per_spk=3, feats=False):
    """A real data dir: 3 speakers x `per_spk` utterances, wavs on disk, text and utt2num_samples.

    Plain: one 0.1 s wav per utterance. Segmented: one 1 s recording per speaker (rec1..rec3),
    cut into 0.3 s segments. feats: a kaldiio feats.scp with one 2x3 matrix per utterance.
    """
    rng = np.random.default_rng(0)
    os.makedirs(path / "wav", exist_ok=True)
    utt2spk = {f"{s}-u{i}": s for s in SPEAKERS for i in range(1, per_spk + 1)}
    text = {u: f"words of {u}" for u in utt2spk}
    wav_scp, segments = {}, None
    if segmented:
        segments = {u: (f"rec{u[1]}", 0.3 * (int(u[-1]) - 1), 0.3 * int(u[-1])) for u in utt2spk}
        lengths = {u: round(0.3 * RATE) for u in utt2spk}
        names = sorted({r for r, _, _ in segments.values()})
        samples = RATE
    else:
        names, samples = sorted(utt2spk), RATE // 10
        lengths = {u: samples for u in utt2spk}
    for name in names:
        wav_scp[name] = str(path / "wav" / f"{name}.wav")
        sf.write(wav_scp[name], rng.uniform(-0.5, 0.5, samples), RATE, subtype="PCM_16")
    extra = {"utt2num_samples": lengths}
    if feats:
        kaldiio.save_ark(str(path / "feats.ark"), {u: rng.standard_normal((2, 3)).astype(np.float32)
                                                   for u in utt2spk}, scp=str(path / "feats.scp"))
    write_data_dir(path, wav_scp, utt2spk, text=text, segments=segments, extra=extra)
    return path


def assert_consistent(path):
    """Every utterance file has utt2spk's keys, recordings are exactly those used, files sorted."""
    d = DataDir(str(path))
    utts = set(d.utts)
    names = [n for n in os.listdir(path) if os.path.isfile(path / n)]
    for name in names:
        keys = [line.split()[0] for line in (path / name).read_text().splitlines()]
        assert keys == sorted(keys), f"{name} not sorted"
    for name in ("text", "utt2num_samples", "feats.scp", "spk1.scp", "segments"):
        if name in names:
            assert set(read_table(path / name, allow_empty=True)) == utts, name
    recos = {r for r, _, _ in d.segments.values()} if d.segments else utts
    assert set(d.table("wav.scp")) == recos
    assert {s: v.split() for s, v in d.table("spk2utt").items()} == utt2spk_to_spk2utt(d.table("utt2spk"))


def keys(path, name="utt2spk"):
    return sorted(read_table(path / name, allow_empty=True))


# ---------------------------------------------------------------- fix_data_dir

def test_fix_removes_inconsistent_keys_with_reasons_and_backup(tmp_path):
    d = make_dir(tmp_path / "d")
    text = (d / "text").read_text().replace("s1-u2 words of s1-u2\n", "").replace("s2-u1 words of s2-u1", "s2-u1")
    (d / "text").write_text(text)
    with open(d / "utt2spk", "a") as f:
        f.write("s3-u3 s3\n")
    with open(d / "wav.scp", "a") as f:
        f.write(f"orphan {d}/wav/s1-u1.wav\n")
    (d / "utt2num_samples").write_text("".join(line for line in open(d / "utt2num_samples")
                                               if not line.startswith("s3-u1 ")))
    (d / "spk2gender").write_text("s1 m\ns2 f\ns3 m\ns9 f\n")
    originals = {n: (d / n).read_bytes() for n in ("text", "utt2spk", "wav.scp", "spk2utt")}

    proc = run_tool("fix_data_dir.sh", d)

    assert proc.returncode == 0, proc.stderr
    assert "kept 6 of 10 utterances, 6 of 10 recordings, 3 of 3 speakers" in proc.stdout
    assert (d / ".backup" / "removed.txt").read_text().splitlines() == [
        "s3-u3 duplicate in utt2spk (line 10 dropped)",
        "orphan missing in text, utt2num_samples, utt2spk",
        "s1-u2 missing in text",
        "s2-u1 empty in text",
        "s3-u1 missing in utt2num_samples",
        "s9 speaker without kept utterances",
    ]
    for name, content in originals.items():
        assert (d / ".backup" / name).read_bytes() == content
    assert keys(d) == ["s1-u1", "s1-u3", "s2-u2", "s2-u3", "s3-u2", "s3-u3"]
    assert read_table(d / "spk2gender") == {"s1": "m", "s2": "f", "s3": "m"}
    assert_consistent(d)

    mtime = (d / ".backup" / "text").stat().st_mtime_ns
    again = fix_dir(str(d))
    assert not again.changed and again.removed == []
    assert (d / ".backup" / "text").stat().st_mtime_ns == mtime


def test_fix_with_segments_drops_bad_segments_recordings_and_unused_recordings(tmp_path):
    d = make_dir(tmp_path / "d", segmented=True)
    segments = (d / "segments").read_text()
    segments = segments.replace("s1-u3 rec1 0.600 0.900", "s1-u3 rec1 0.600 0.200")
    (d / "segments").write_text(segments.replace("s2-u1 rec2", "s2-u1 recX"))
    with open(d / "wav.scp", "a") as f:
        f.write(f"rec9 {d}/wav/rec1.wav\n")
    (d / "reco2dur").write_text("rec1 1.0\nrec2 1.0\nrec9 1.0\n")

    report = fix_dir(str(d))

    assert report.removed == [
        "s1-u3 invalid in segments",
        "rec3 recording missing in reco2dur",
        "s2-u1 recording recX missing in reco2dur, wav.scp",
        "s3-u1 recording rec3 missing in reco2dur",
        "s3-u2 recording rec3 missing in reco2dur",
        "s3-u3 recording rec3 missing in reco2dur",
        "rec9 recording without kept utterances",
    ]
    assert report.counts == {"utterances": (9, 4), "recordings": (4, 2), "speakers": (3, 2)}
    assert keys(d, "wav.scp") == ["rec1", "rec2"] and keys(d, "reco2dur") == ["rec1", "rec2"]
    assert keys(d) == ["s1-u1", "s1-u2", "s2-u2", "s2-u3"]
    assert_consistent(d)


# ---------------------------------------------------------------- subset_data_dir

@pytest.mark.parametrize("args, expected", [
    (["--first", "4"], ["s1-u1", "s1-u2", "s1-u3", "s2-u1"]),
    (["--last", "2"], ["s3-u2", "s3-u3"]),
    (["--per_spk", "2"], ["s1-u1", "s1-u2", "s2-u1", "s2-u2", "s3-u1", "s3-u2"]),
])
def test_subset_count_modes(tmp_path, args, expected):
    src = make_dir(tmp_path / "src", feats=True)
    proc = run_tool("subset_data_dir.sh", *args, src, tmp_path / "dest")
    assert proc.returncode == 0, proc.stderr
    assert keys(tmp_path / "dest") == expected
    assert_consistent(tmp_path / "dest")


def test_subset_kaldi_flag_form_and_random_mode(tmp_path):
    src = make_dir(tmp_path / "src")
    assert run_tool("subset_data_dir.sh", "--first", src, 2, tmp_path / "first").returncode == 0
    assert keys(tmp_path / "first") == ["s1-u1", "s1-u2"]

    tables = read_dir(str(src))
    assert random_utts(tables, 4, seed=3) == random_utts(tables, 4, seed=3)
    assert random_utts(tables, 4, seed=3) != random_utts(tables, 4, seed=4)
    assert run_tool("subset_data_dir.sh", "--seed", 3, src, 4, tmp_path / "rand").returncode == 0
    assert keys(tmp_path / "rand") == random_utts(tables, 4, seed=3)
    assert_consistent(tmp_path / "rand")

    too_many = run_tool("subset_data_dir.sh", "--first", 10, src, tmp_path / "x")
    assert too_many.returncode == 1 and "cannot select 10 utterances: the data dir has 9" in too_many.stderr


def test_subset_by_lists_reduces_recordings_and_keeps_feats_readable(tmp_path):
    src = make_dir(tmp_path / "src", segmented=True, feats=True)
    (tmp_path / "spks").write_text("s2\nnobody\n")
    proc = run_tool("subset_data_dir.sh", "--spk_list", tmp_path / "spks", src, tmp_path / "by_spk")
    assert proc.returncode == 0, proc.stderr
    assert "1 of 2 speakers not in the data dir, skipped: nobody" in proc.stderr
    dest = tmp_path / "by_spk"
    assert keys(dest) == ["s2-u1", "s2-u2", "s2-u3"]
    assert keys(dest, "wav.scp") == ["rec2"]
    assert_consistent(dest)
    original = kaldiio.load_scp(str(src / "feats.scp"))
    for utt, mat in kaldiio.load_scp(str(dest / "feats.scp")).items():
        np.testing.assert_array_equal(mat, original[utt])

    (tmp_path / "utts").write_text("s1-u3\ns3-u1 extra columns are ignored\n")
    assert run_tool("subset_data_dir.sh", "--utt-list", tmp_path / "utts", src, tmp_path / "by_utt").returncode == 0
    assert keys(tmp_path / "by_utt") == ["s1-u3", "s3-u1"]
    assert keys(tmp_path / "by_utt", "wav.scp") == ["rec1", "rec3"]


def test_per_speaker_picks_evenly_spaced_utterances(tmp_path):
    tables = read_dir(str(make_dir(tmp_path / "d", per_spk=6)))
    assert [u for u in per_speaker_utts(tables, 3) if u.startswith("s1")] == ["s1-u1", "s1-u3", "s1-u5"]


# ---------------------------------------------------------------- combine_data

def test_combine_unions_and_drops_files_missing_in_some_sources(tmp_path, caplog):
    a = make_dir(tmp_path / "a", feats=True)
    run_tool("copy_data_dir.sh", "--utt_prefix", "B-", "--spk_prefix", "B-", a, tmp_path / "b")
    os.remove(tmp_path / "b" / "feats.scp")
    proc = run_tool("combine_data.sh", tmp_path / "ab", a, tmp_path / "b")
    assert proc.returncode == 0, proc.stderr
    assert f"dropping feats.scp: missing in {tmp_path / 'b'}" in proc.stderr
    dest = tmp_path / "ab"
    assert keys(dest) == sorted(keys(a) + [f"B-{u}" for u in keys(a)])
    assert not (dest / "feats.scp").exists()
    assert_consistent(dest)

    with caplog.at_level(logging.WARNING):
        combined = combine([("a", read_dir(str(a))), ("a-again", read_dir(str(a)))])
    assert combined.files == read_dir(str(a)).files and not caplog.records


def test_combine_conflicting_duplicate_names_the_key(tmp_path):
    a = make_dir(tmp_path / "a")
    b = make_dir(tmp_path / "b")
    (b / "text").write_text((b / "text").read_text().replace("words of s2-u2", "other words"))
    proc = run_tool("combine_data.sh", tmp_path / "ab", a, b)
    assert proc.returncode == 1
    assert f"ERROR: text: key 's2-u2' is 'words of s2-u2' in {a} but 'other words' in {b}" in proc.stderr


def test_combine_plain_with_segmented_gives_whole_recording_segments(tmp_path):
    plain = read_dir(str(make_dir(tmp_path / "plain", per_spk=1)))
    seg = rename(read_dir(str(make_dir(tmp_path / "seg", segmented=True))), utt=lambda u: f"S{u}")
    combined = combine([("plain", plain), ("seg", seg)])
    assert combined.files["segments"]["s1-u1"] == "s1-u1 0 -1"
    assert combined.files["segments"]["Ss2-u2"] == "Srec2 0.300 0.600"
    write_dir(combined, str(tmp_path / "both"))
    assert_consistent(tmp_path / "both")
    d = DataDir(str(tmp_path / "both"))
    assert len(read_audio(*d.audio_spec("s1-u1"))[0]) == RATE // 10
    assert len(read_audio(*d.audio_spec("Ss2-u2"))[0]) == round(0.3 * RATE)


# ---------------------------------------------------------------- split_data

def test_split_sizes_contiguous_and_reused(tmp_path):
    d = make_dir(tmp_path / "d")
    proc = run_tool("split_data.sh", d, 4)
    assert proc.returncode == 0, proc.stderr
    assert "wrote 4 parts of 3, 2, 2, 2 utterances" in proc.stdout
    parts = [keys(d / "split4" / str(i)) for i in range(1, 5)]
    assert sum(parts, []) == keys(d)
    for i in range(1, 5):
        assert_consistent(d / "split4" / str(i))

    assert split_dir(str(d), 4)[1] is True
    (d / "text").write_text((d / "text").read_text().replace("words", "new words"))
    assert split_dir(str(d), 4)[1] is False
    assert "new words" in (d / "split4" / "1" / "text").read_text()
    assert split_dir(str(d), 3, per_spk=True)[1] is False
    assert split_dir(str(d), 3, per_spk=False)[1] is False


def test_split_per_speaker_keeps_speakers_whole(tmp_path):
    d = make_dir(tmp_path / "d", per_spk=4)
    with open(d / "utt2spk", "a") as f:
        f.write("s4-u1 s4\n")
    tables = read_dir(str(d))
    tables.files = {n: t for n, t in tables.files.items() if n == "utt2spk"}
    groups = partition_by_speaker(tables, 3)
    assert [sorted({u.split("-")[0] for u in g}) for g in groups] == [["s1"], ["s2"], ["s3", "s4"]]
    assert partition(list(range(10)), 3) == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]
    with pytest.raises(DataError, match="cannot select 5 splits of speakers: the data dir has 4"):
        partition_by_speaker(tables, 5)

    d2 = make_dir(tmp_path / "d2", per_spk=2)
    assert run_tool("split_data.sh", "--per-spk", d2, 2).returncode == 0
    spk_sets = [set(read_table(d2 / "split2" / str(i) / "utt2spk").values()) for i in (1, 2)]
    assert spk_sets == [{"s1", "s2"}, {"s3"}] or spk_sets == [{"s1"}, {"s2", "s3"}]


# ---------------------------------------------------------------- copy_data_dir, utt2spk_to_spk2utt

def test_copy_with_prefixes_maps_utterances_speakers_and_recordings(tmp_path):
    src = make_dir(tmp_path / "src", segmented=True)
    proc = run_tool("copy_data_dir.sh", "--utt_prefix", "A-", "--utt-suffix", "-x", "--spk_prefix", "A-",
                    src, tmp_path / "dest")
    assert proc.returncode == 0, proc.stderr
    dest = DataDir(str(tmp_path / "dest"))
    assert dest.utts == [f"A-{u}-x" for u in DataDir(str(src)).utts]
    assert sorted(dest.table("wav.scp")) == ["A-rec1-x", "A-rec2-x", "A-rec3-x"]
    assert dest.segments["A-s2-u3-x"] == ("A-rec2-x", 0.6, 0.9)
    assert dest.table("utt2spk")["A-s2-u3-x"] == "A-s2"
    assert dest.table("text")["A-s2-u3-x"] == "words of s2-u3"
    np.testing.assert_array_equal(read_audio(*dest.audio_spec("A-s2-u3-x"))[0],
                                  read_audio(*DataDir(str(src)).audio_spec("s2-u3"))[0])
    assert_consistent(tmp_path / "dest")
    assert run_tool("copy_data_dir.sh", src, src).returncode == 1


def test_utt2spk_to_spk2utt_keeps_input_order(tmp_path):
    proc = run_tool("utt2spk_to_spk2utt.pl", stdin="b-2 b\na-1 a\nb-1 b\n\na-2 a\n")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "b b-2 b-1\na a-1 a-2\n"
    bad = run_tool("utt2spk_to_spk2utt.pl", stdin="u1 s1\nu2\n")
    assert bad.returncode == 1 and "utt2spk line 2: expected 'utterance speaker'" in bad.stderr
