"""egs/mini_synth/sep1 at ci size (8 kHz): every stage runs and leaves usable files."""
import json

import soundfile
import yaml

from toolkit.data.tables import read_table


def test_mini_synth_sep1_ci_all_stages(recipe, monkeypatch):
    workdir, run = recipe("mini_synth", "sep1")
    proc = run("--corpus_size", "ci", "--inference_args", "--chunk_seconds 2 --overlap_seconds 0.5")
    monkeypatch.chdir(workdir)  # scp files hold paths relative to the recipe dir
    data = workdir / "data_8000"
    for dset in ("train", "dev", "test"):
        mix = read_table(data / dset / "wav.scp")
        assert set(mix) == set(read_table(data / dset / "spk1.scp")) == set(read_table(data / dset / "spk2.scp"))
    assert (data / "train_filtered" / "removed.txt").exists()
    # dynamic mixing (conf/train_sep_ci.yaml) draws by the sources' speakers, carried from the corpus
    speakers = read_table(data / "train_filtered" / "utt2src_spk")
    assert set(speakers) == set(read_table(data / "train_filtered" / "wav.scp"))
    assert all(len(set(value.split())) == 2 for value in speakers.values())

    exp = workdir / "exp_8000" / "sep_train_sep_ci"
    assert (exp / "valid.si_snr.ave.pth").exists() and (exp / "images" / "si_snr.png").exists()
    assert yaml.safe_load((exp / "config.yaml").read_text())["dynamic_mixing"] == {"prob": 1.0}
    out = exp / "separate_valid.si_snr.ave" / "test"
    mixtures = read_table(data / "test" / "wav.scp")
    for spk in ("spk1", "spk2"):
        est = read_table(out / f"{spk}.scp")
        assert set(est) == set(mixtures)
        for utt, path in est.items():  # separated files are as long as the mixture, at its rate
            info, ref = soundfile.info(path), soundfile.info(mixtures[utt])
            assert (info.frames, info.samplerate) == (ref.frames, 8000)
    score = json.loads((out / "score.json").read_text())
    assert score["num_utts"] == len(mixtures)
    assert all(isinstance(score[k], float) for k in ("si_snr", "si_snri", "sdr", "sdri"))
    test_pairs = {" ".join(sorted(v.split())) for v in read_table(data / "test" / "utt2src_spk").values()}
    by_pair = (out / "by_pair.tsv").read_text().splitlines()[1:]  # stage 7 passes the test set's utt2src_spk
    assert {row.split("\t")[0].replace("+", " ") for row in by_pair} == test_pairs
    assert sum(int(row.split("\t")[1]) for row in by_pair) == len(mixtures)
    assert "| test valid.si_snr.ave |" in (exp / "RESULTS.md").read_text()
    assert "Stage 8" in proc.stdout

    rerun = run("--corpus_size", "ci", "--stage", "8", "--stop_stage", "8")
    assert "Stage 8" in rerun.stdout and "Stage 5" not in rerun.stdout
