"""Kaldi tables, data dirs and audio I/O (paths, pipes, segments)."""
import subprocess

import kaldiio
import numpy as np
import pytest
import soundfile as sf

from toolkit.data.audio_io import audio_info, read_audio
from toolkit.data.datadir import DataDir, write_data_dir
from toolkit.data.tables import read_table, utt2spk_to_spk2utt, write_table
from toolkit.utils.errors import DataError


def test_write_table_sorts_in_c_order_and_reads_back(tmp_path):
    table = {"b": "2", "B": "1", "a_1": "x y", "a-1": "z", "é": "accent"}
    write_table(tmp_path / "t", table)
    lines = (tmp_path / "t").read_text(encoding="utf-8").splitlines()
    keys = [line.split()[0] for line in lines]
    c_sorted = subprocess.run(["sort"], input="\n".join(keys) + "\n", capture_output=True, text=True,
                              env={"LC_ALL": "C"}).stdout.split()
    assert keys == c_sorted
    assert read_table(tmp_path / "t") == table


def test_read_table_names_duplicate_line(tmp_path):
    (tmp_path / "text").write_text("u1 hello\nu2 world\nu1 again\n")
    with pytest.raises(DataError, match=r"text:3: duplicate key 'u1'"):
        read_table(tmp_path / "text")


def test_read_table_names_non_utf8_line(tmp_path):
    (tmp_path / "text").write_bytes(b"u1 ok\nu2 caf\xe9\n")
    with pytest.raises(DataError, match=r"text:2: not valid UTF-8"):
        read_table(tmp_path / "text")


def test_spk2utt_from_utt2spk():
    assert utt2spk_to_spk2utt({"s1-b": "s1", "s2-a": "s2", "s1-a": "s1"}) == {"s1": ["s1-a", "s1-b"], "s2": ["s2-a"]}


def test_read_audio_path_pipe_and_segment(tmp_path):
    rate = 8000
    signal = (np.sin(np.arange(rate * 2) * 0.05) * 0.5).astype(np.float32)
    sf.write(tmp_path / "a.wav", signal, rate, subtype="PCM_16")
    path = str(tmp_path / "a.wav")
    from_path, sr = read_audio(path)
    from_pipe, sr_pipe = read_audio(f"cat {path} |")
    assert sr == sr_pipe == rate
    np.testing.assert_array_equal(from_path, from_pipe)
    part, _ = read_audio(path, start=0.5, end=1.25)
    np.testing.assert_array_equal(part, from_path[4000:10000])
    assert audio_info(path) == (2 * rate, rate, 1)
    # kaldiio reads the same pipe (int16 scale) as our reader (float scale)
    _, ints = kaldiio.load_mat(f"cat {path} |")
    np.testing.assert_allclose(ints / 32768.0, from_path, atol=1e-7)


def test_read_audio_errors_name_the_source(tmp_path):
    with pytest.raises(DataError, match="missing.wav"):
        read_audio(str(tmp_path / "missing.wav"))
    with pytest.raises(DataError, match="pipe command failed"):
        read_audio("false |")


def test_data_dir_resolves_segments(tmp_path):
    rate = 16000
    sf.write(tmp_path / "rec.wav", np.zeros(rate * 3, dtype=np.float32), rate)
    d = tmp_path / "data"
    write_data_dir(d, {"rec": str(tmp_path / "rec.wav")}, {"spk-u1": "spk", "spk-u2": "spk"},
                   text={"spk-u1": "a b", "spk-u2": "c"},
                   segments={"spk-u1": ("rec", 0.0, 1.0), "spk-u2": ("rec", 1.5, 2.5)})
    data = DataDir(str(d))
    assert data.utts == ["spk-u1", "spk-u2"]
    assert read_table(d / "spk2utt") == {"spk": "spk-u1 spk-u2"}
    spec, start, end = data.audio_spec("spk-u2")
    assert (spec, start, end) == (str(tmp_path / "rec.wav"), 1.5, 2.5)
    assert read_audio(spec, start, end)[0].shape == (rate,)
