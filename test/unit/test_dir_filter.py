"""filter_data_dir drops untrainable utterances and writes why."""
import subprocess
import sys

from toolkit.data.datadir import write_data_dir
from toolkit.data.tables import read_table


def test_filter_writes_kept_dir_and_reasons(tmp_path):
    utts = {"s-1": (50, 3), "s-2": (5, 1), "s-3": (5000, 10), "s-4": (40, 12), "s-5": (200, 20)}
    write_data_dir(str(tmp_path / "src"), {u: f"/audio/{u}.wav" for u in utts}, {u: "s" for u in utts},
                   text={u: "a b" for u in utts},
                   extra={"utt2num_frames": {u: n for u, (n, _) in utts.items()},
                          "token_int": {u: " ".join(["5"] * k) for u, (_, k) in utts.items()}})
    proc = subprocess.run([sys.executable, "-m", "toolkit.bin.filter_data_dir", "--min_frames", "10",
                           "--max_frames", "3000", "--subsampling", "4", str(tmp_path / "src"), str(tmp_path / "dst")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert sorted(read_table(tmp_path / "dst" / "utt2spk")) == ["s-1", "s-5"]
    assert sorted(read_table(tmp_path / "dst" / "wav.scp")) == ["s-1", "s-5"]
    removed = read_table(tmp_path / "dst" / "removed.txt")
    assert removed["s-2"] == "5 frames < min_frames 10"
    assert removed["s-3"] == "5000 frames > max_frames 3000"
    assert removed["s-4"].startswith("12 tokens > 10 frames after subsampling by 4")
    assert "kept 2 utterances, removed 3" in proc.stderr


def test_filter_by_samples_keeps_separation_references(tmp_path):
    lengths = {"m-1": 4000, "m-2": 16000, "m-3": 400000}
    write_data_dir(str(tmp_path / "src"), {u: f"/mix/{u}.wav" for u in lengths}, {u: u for u in lengths},
                   extra={"utt2num_samples": lengths, "spk1.scp": {u: f"/s1/{u}.wav" for u in lengths},
                          "spk2.scp": {u: f"/s2/{u}.wav" for u in lengths}})
    proc = subprocess.run([sys.executable, "-m", "toolkit.bin.filter_data_dir", "--min_samples", "8000",
                           "--max_samples", "240000", str(tmp_path / "src"), str(tmp_path / "dst")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert read_table(tmp_path / "dst" / "spk2.scp") == {"m-2": "/s2/m-2.wav"}
    removed = read_table(tmp_path / "dst" / "removed.txt")
    assert removed == {"m-1": "4000 samples < min_samples 8000", "m-3": "400000 samples > max_samples 240000"}


def test_filter_limit_without_its_table_is_an_error(tmp_path):
    write_data_dir(str(tmp_path / "src"), {"u": "/a.wav"}, {"u": "s"})
    proc = subprocess.run([sys.executable, "-m", "toolkit.bin.filter_data_dir", "--max_samples", "10",
                           str(tmp_path / "src"), str(tmp_path / "dst")], capture_output=True, text=True)
    assert proc.returncode != 0 and "utt2num_samples: missing, needed for --max_samples" in proc.stderr
