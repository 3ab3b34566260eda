"""merge_inference: tables (text, spkN.scp) and real-time factors of parallel jobs."""
import json

import pytest

from toolkit.bin.merge_inference import merge
from toolkit.data.tables import read_table, write_table
from toolkit.metrics.rtf import write_rtf
from toolkit.utils.errors import DataError


def _job(path, utts, seconds):
    path.mkdir()
    for n in (1, 2):
        write_table(path / f"spk{n}.scp", {u: f"/out/{u}_spk{n}.wav" for u in utts})
    write_table(path / "text", {u: f"words of {u}" for u in utts})
    write_rtf(str(path), len(utts), audio_seconds=10.0 * len(utts), decode_seconds=seconds)


def test_jobs_merge_tables_and_sum_rtf(tmp_path):
    _job(tmp_path / "output.1", ["a", "c"], 2.0)
    _job(tmp_path / "output.2", ["b"], 4.0)
    totals = merge([str(tmp_path / "output.1"), str(tmp_path / "output.2")], str(tmp_path / "merged"))
    assert totals == {"num_utts": 3, "audio_seconds": 30.0, "decode_seconds": 6.0, "rtf": 0.2}
    assert json.loads((tmp_path / "merged" / "rtf.json").read_text()) == totals
    assert read_table(tmp_path / "merged" / "spk2.scp") == {u: f"/out/{u}_spk2.wav" for u in "abc"}
    assert list(read_table(tmp_path / "merged" / "text")) == ["a", "b", "c"]


def test_an_utterance_in_two_jobs_or_a_missing_rtf_is_an_error(tmp_path):
    _job(tmp_path / "output.1", ["a"], 1.0)
    _job(tmp_path / "output.2", ["a"], 1.0)
    with pytest.raises(DataError, match="'a' was decoded by two jobs"):
        merge([str(tmp_path / "output.1"), str(tmp_path / "output.2")], str(tmp_path / "merged"))
    (tmp_path / "output.2" / "rtf.json").unlink()
    write_table(tmp_path / "output.2" / "text", {"b": "x"})
    for n in (1, 2):
        write_table(tmp_path / "output.2" / f"spk{n}.scp", {"b": "/b.wav"})
    with pytest.raises(DataError, match="rtf.json: missing; did decoding job"):
        merge([str(tmp_path / "output.1"), str(tmp_path / "output.2")], str(tmp_path / "merged"))
