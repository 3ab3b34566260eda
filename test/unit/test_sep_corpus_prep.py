"""Separation corpus preparation: WSJ0-2mix, Libri2Mix and ClearerVoice-Studio list import.

Tiny fake trees in each corpus' layout hold real audio (voiced syllables with pauses; WSJ0 as
wav, as a wav-content .wv1 and as NIST SPHERE; LibriSpeech FLAC; WHAM! noise as 2-channel wav),
with mix lists and metadata CSVs in the published formats. The written mixtures are checked
against the documented recipe: references recomputed from the inputs with scipy's resample_poly
(a peer) or our P.56 level (checked against pyvoicebox's activlev port and analytic cases), int16
by round(32768 x), mixture = exact int16 sum of the written sources.
"""
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import scipy.signal
import soundfile as sf

from toolkit.bin.import_sep_lists import main as import_main
from toolkit.bin.prepare_sep_corpus import main as prepare_main
from toolkit.corpus.real import libri2mix, wsj0_2mix
from toolkit.corpus.real.mixing import downsample
from toolkit.corpus.real.wsj0_2mix import active_level, highpass, mixture_id, num2str
from toolkit.corpus.synthesis import to_int16
from toolkit.data.tables import read_table
from toolkit.data.validate import validate_data_dir
from toolkit.utils.errors import ConfigError, DataError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FS = 16000
LSB = 1 / 32768


def speechlike(seed, seconds, fs=FS):
    """int16 test speech: voiced syllables (7 harmonics of a gliding f0, Hann envelopes) between pauses."""
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    x = rng.normal(0, 3e-4, n)
    f0, pos = rng.uniform(100, 220), int(rng.uniform(0.05, 0.15) * fs)
    while pos < n:
        t = np.arange(min(int(rng.uniform(0.08, 0.25) * fs), n - pos)) / fs
        voiced = sum(np.sin(2 * np.pi * k * f0 * (1 + 0.1 * t) * t) / k for k in range(1, 8))
        x[pos:pos + len(t)] += rng.uniform(0.05, 0.3) * np.hanning(len(t)) * voiced / 3
        pos += len(t) + int(rng.uniform(0.03, 0.2) * fs)
    return to_int16(x)


def read_int16(path):
    data, rate = sf.read(path, dtype="int16")
    return data, rate


def checked_dir(path, fs, num_spks=2):
    """Validate a separation data dir at `fs` and return its tables."""
    report = validate_data_dir(str(path), fs=fs)
    assert report.errors == [], report.errors
    names = ["wav.scp", "utt2spk", "spk2utt", "utt2num_samples"] + [f"spk{i}.scp" for i in range(1, num_spks + 1)]
    names += ["utt2src_spk"] if os.path.isfile(os.path.join(path, "utt2src_spk")) else []
    return {name: read_table(os.path.join(path, name)) for name in names}


# --- signal steps against peers and analytic cases ---

@pytest.mark.parametrize("factor,n", [(2, 16001), (2, 16000), (3, 9001)])
def test_downsample_is_scipy_resample_poly(factor, n):
    x = np.random.default_rng(n).normal(size=n)
    ours, theirs = downsample(x, 8000 * factor, 8000), scipy.signal.resample_poly(x, 1, factor)
    assert ours.shape == theirs.shape and np.abs(ours - theirs).max() < 1e-12
    with pytest.raises(ConfigError, match="only downsampling by an integer factor"):
        downsample(x, 8000, 16000)


def test_active_level_of_a_steady_tone_is_its_power():
    t = np.arange(2 * 8000) / 8000
    level, activity = active_level(0.3 * np.sin(2 * np.pi * 1000 * t), 8000)
    assert abs(10 * math.log10(level / (0.3 ** 2 / 2))) < 0.1  # the envelope's 0.1 s rise is not active
    assert 0.95 < activity <= 1
    assert active_level(np.zeros(8000), 8000) == (0.0, 0.0)


def test_active_level_ignores_silence_around_speech():
    """Once the 0.2 s hangover has run out, more silence changes the activity, not the level."""
    x = np.concatenate([speechlike(1, 2.0, 8000) / 32768, np.zeros(4000)])
    padded = np.concatenate([np.zeros(8000), x, np.zeros(16000)])
    level, activity = active_level(x, 8000)
    level_padded, activity_padded = active_level(padded, 8000)
    assert abs(10 * math.log10(level_padded / level)) < 0.01
    assert 10 * math.log10(np.mean(x ** 2) / np.mean(padded ** 2)) > 3  # while the long-term power drops 3.4 dB
    assert abs(activity_padded / activity - len(x) / len(padded)) < 1e-3


def test_active_level_matches_pyvoicebox_activlev():
    """pyvoicebox's port of activlev omits the input filters (we give it our high-passed signal) and, as
    later activlev revisions, appends 0.35 s of zeros (we end the signal with 0.5 s of silence)."""
    pyvoicebox = pytest.importorskip("pyvoicebox.v_activlev")
    for seed in range(3):
        x = np.concatenate([speechlike(seed, 2.5, 8000) / 32768, np.zeros(4000)])
        theirs, _ = pyvoicebox.v_activlev(scipy.signal.lfilter(*highpass(8000), x), 8000)
        assert abs(10 * math.log10(active_level(x, 8000)[0] / theirs)) < 0.01


def test_mixture_ids_print_snrs_like_matlab_num2str():
    # values and spellings from published wsj0-2mix file names
    assert [num2str(v) for v in (1.9857, 0.061105, -2.401, 0.0044616, -0.0089907, 2.0, 0.5)] == \
        ["1.9857", "0.061105", "-2.401", "0.0044616", "-0.0089907", "2", "0.5"]
    assert num2str(12.3456789) == "12.3457"
    assert mixture_id("wsj0/si_tt_05/050/050a0501.wv1", 1.7783, "wsj0/si_tt_05/442/442o030z.wv1", -1.7783) == \
        "050a0501_1.7783_442o030z_-1.7783"


# --- WSJ0-2mix ---

WSJ0_UTTS = {"si_tr_s/01t/01to030v": 1.3, "si_tr_s/01t/01to030w": 0.9, "si_tr_s/40n/40na010x": 1.1,
             "si_tr_s/20g/20go010b": 1.6, "si_dt_05/050/050a0501": 1.0, "si_dt_05/442/442o030z": 1.2}
WSJ0_LISTS = {"tr": ["wsj0/si_tr_s/40n/40na010x.wv1 1.9857 wsj0/si_tr_s/01t/01to030v.wv1 -1.9857",
                     "wsj0/si_tr_s/01t/01to030w.wv1 0.061105 wsj0/si_tr_s/20g/20go010b.wv1 -0.061105",
                     "wsj0/si_tr_s/20g/20go010b.wv1 2.401 wsj0/si_tr_s/40n/40na010x.wv1 -2.401"],
              "cv": ["wsj0/si_dt_05/050/050a0501.wv1 0.26257 wsj0/si_tr_s/01t/01to030w.wv1 -0.26257"],
              "tt": ["wsj0/si_dt_05/442/442o030z.wv1 1.7783 wsj0/si_dt_05/050/050a0501.wv1 -1.7783"]}
WSJ0_IDS = {"tr": ["01to030w_0.061105_20go010b_-0.061105", "20go010b_2.401_40na010x_-2.401",
                   "40na010x_1.9857_01to030v_-1.9857"],
            "cv": ["050a0501_0.26257_01to030w_-0.26257"], "tt": ["442o030z_1.7783_050a0501_-1.7783"]}


def make_wsj0(base):
    """base/wsj0 (wav; 40na010x kept as a wav named .wv1, 442o030z as uncompressed NIST SPHERE .wv1)
    and base/lists/mix_2_spk_*.txt -> {utterance name: int16 samples}."""
    samples = {}
    for i, (rel, seconds) in enumerate(WSJ0_UTTS.items()):
        samples[os.path.basename(rel)] = x = speechlike(10 + i, seconds)
        path = os.path.join(base, "wsj0", rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if rel.endswith("40na010x"):
            sf.write(path + ".wv1", x, FS, format="WAV", subtype="PCM_16")
        elif rel.endswith("442o030z"):
            sf.write(path + ".wv1", x, FS, format="NIST", subtype="PCM_16")
        else:
            sf.write(path + ".wav", x, FS, subtype="PCM_16")
    os.makedirs(os.path.join(base, "lists"))
    for name, lines in WSJ0_LISTS.items():
        with open(os.path.join(base, "lists", f"mix_2_spk_{name}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    return samples


def parse_line(line):
    path1, snr1, path2, snr2 = line.split()
    return (os.path.basename(path1)[:-4], float(snr1)), (os.path.basename(path2)[:-4], float(snr2))


def expected_wsj0_sources(samples, line, fs, mode):
    """Float sources at `fs` before the int16 rounding, from the documented steps."""
    scaled = []
    for name, snr in parse_line(line):
        x = samples[name] / 32768
        level, _ = active_level(scipy.signal.resample_poly(x, 1, 2), 8000)  # levels at 8 kHz, for both rates
        y = scipy.signal.resample_poly(x, 1, 2) if fs == 8000 else x
        scaled.append(y * 10 ** (snr / 20) / math.sqrt(level))
    n = (min if mode == "min" else max)(len(s) for s in scaled)
    scaled = [np.pad(s[:n], (0, n - len(s[:n]))) for s in scaled]
    gain = 0.9 / max(np.abs(scaled[0] + scaled[1]).max(), *(np.abs(s).max() for s in scaled))
    return [s * gain for s in scaled]


@pytest.mark.parametrize("fs,mode", [(8000, "min"), (16000, "max")])
def test_wsj0_2mix_mixtures_follow_the_matlab_recipe(tmp_path, fs, mode):
    samples = make_wsj0(tmp_path)
    counts = wsj0_2mix.prepare(str(tmp_path), str(tmp_path / "data"), str(tmp_path / "lists"), str(tmp_path / "wav"),
                               fs=fs, mode=mode)
    k = fs // 1000
    assert counts == {f"tr_{k}k_{mode}": 3, f"cv_{k}k_{mode}": 1, f"tt_{k}k_{mode}": 1}
    for name, lines in WSJ0_LISTS.items():
        tables = checked_dir(tmp_path / "data" / f"{name}_{k}k_{mode}", fs)
        assert list(tables["wav.scp"]) == WSJ0_IDS[name]  # sorted in C order
        assert tables["utt2spk"] == {u: u for u in WSJ0_IDS[name]}
        for line in lines:
            (name1, _), (name2, _) = parse_line(line)
            path1, snr1, path2, snr2 = line.split()
            mix_id = mixture_id(path1, float(snr1), path2, float(snr2))
            assert tables["utt2src_spk"][mix_id] == f"{name1[:3]} {name2[:3]}"  # WSJ0 speaker: 3 first characters
            assert tables["wav.scp"][mix_id] == str(tmp_path / f"wav/wav{k}k/{mode}/{name}/mix/{mix_id}.wav")
            mix, rate = read_int16(tables["wav.scp"][mix_id])
            s1, s2 = (read_int16(tables[f"spk{i}.scp"][mix_id])[0] for i in (1, 2))
            assert rate == fs and np.array_equal(mix.astype(np.int32), s1.astype(np.int32) + s2)
            lengths = [-(-len(samples[n]) // (16000 // fs)) for n in (name1, name2)]
            assert len(mix) == (min if mode == "min" else max)(lengths) == int(tables["utt2num_samples"][mix_id])
            assert max(np.abs(mix).max(), np.abs(s1).max(), np.abs(s2).max()) == round(0.9 * 32768)
            for written, expected in zip((s1, s2), expected_wsj0_sources(samples, line, fs, mode)):
                assert np.abs(written - expected * 32768).max() <= 0.5 + 1e-6
            if mode == "max":  # the shorter source is zero-padded at its end
                shorter = (s1, s2)[int(lengths[1] < lengths[0])]
                assert not shorter[min(lengths):].any()


def test_wsj0_2mix_reports_missing_files_and_sphere_without_sph2pipe(tmp_path, monkeypatch):
    make_wsj0(tmp_path)
    os.remove(tmp_path / "wsj0" / "si_tr_s" / "01t" / "01to030w.wav")
    args = (str(tmp_path), str(tmp_path / "data"), str(tmp_path / "lists"), str(tmp_path / "wav"))
    with pytest.raises(DataError, match=r"(?s)2 WSJ0 file\(s\).*mix_2_spk_tr.txt:2: wsj0/si_tr_s/01t/01to030w.wv1\n"
                                        r".*mix_2_spk_cv.txt:1: wsj0/si_tr_s/01t/01to030w.wv1"):
        wsj0_2mix.prepare(*args)
    # a shorten-compressed SPHERE file (as WSJ0 ships) without sph2pipe on PATH
    header = ("NIST_1A\n   1024\nsample_count -i 16000\nsample_rate -i 16000\nchannel_count -i 1\n"
              "sample_n_bytes -i 2\nsample_coding -s26 pcm,embedded-shorten-v2.00\nend_head\n")
    (tmp_path / "wsj0" / "si_tr_s" / "01t" / "01to030w.wv1").write_bytes(header.encode().ljust(1024) + bytes(3000))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DataError, match=r"01to030w.wv1.*shorten compression.*put sph2pipe on PATH"):
        wsj0_2mix.prepare(*args, sets=("tr",))


def test_wsj0_2mix_reads_sphere_through_sph2pipe(tmp_path, monkeypatch):
    """With sph2pipe on PATH (here a stand-in converting NIST to wav), SPHERE .wv1 is read through it."""
    samples = make_wsj0(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sph2pipe").write_text(
        f"#!{sys.executable}\nimport io, sys, soundfile as sf\nassert sys.argv[1:3] == ['-f', 'wav']\n"
        "x, r = sf.read(sys.argv[3], dtype='int16')\nb = io.BytesIO()\nsf.write(b, x, r, format='WAV')\n"
        "sys.stdout.buffer.write(b.getvalue())\n")
    os.chmod(bin_dir / "sph2pipe", 0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    wsj0_2mix.prepare(str(tmp_path / "wsj0"), str(tmp_path / "data"), str(tmp_path / "lists"), str(tmp_path / "wav"),
                      fs=16000, mode="max", sets=("tt",))
    tables = checked_dir(tmp_path / "data" / "tt_16k_max", 16000)
    s1 = read_int16(tables["spk1.scp"]["442o030z_1.7783_050a0501_-1.7783"])[0]
    line = WSJ0_LISTS["tt"][0]
    assert np.abs(s1 - expected_wsj0_sources(samples, line, 16000, "max")[0] * 32768).max() <= 0.5 + 1e-6


def test_wsj0_2mix_bad_list_line_is_located(tmp_path):
    make_wsj0(tmp_path)
    (tmp_path / "lists" / "mix_2_spk_cv.txt").write_text(WSJ0_LISTS["cv"][0] + "\nwsj0/a.wv1 0.5 wsj0/b.wv1\n")
    with pytest.raises(DataError, match=r"mix_2_spk_cv.txt:2: expected 'PATH1 SNR1 PATH2 SNR2'"):
        wsj0_2mix.prepare(str(tmp_path), str(tmp_path / "data"), str(tmp_path / "lists"), str(tmp_path / "wav"))


# --- Libri2Mix ---

LIBRI_UTTS = {"1272-128104-0000": 1.2, "1272-128104-0001": 0.9, "2277-149896-0000": 1.5, "2277-149896-0001": 1.0}
LIBRI_ROWS = [("1272-128104-0000_2277-149896-0000", "1272-128104-0000", 0.6522426013163469, "2277-149896-0000",
               0.4052135302314628, "cv/01aa010k_1.3053_01po0310_-1.3053.wav", 1.278939726509671),
              ("2277-149896-0001_1272-128104-0001", "2277-149896-0001", 1.4650837942347774, "1272-128104-0001",
               0.5475736876561011, "cv/01aa010p_0.93798_02bo0311_-0.93798.wav", 0.9813265858086742)]
NOISE_SECONDS = {"cv/01aa010k_1.3053_01po0310_-1.3053.wav": 0.75, "cv/01aa010p_0.93798_02bo0311_-0.93798.wav": 2.0}


def make_librimix(base):
    """base/LibriSpeech/dev-clean (FLAC), base/wham_noise/cv (2-channel wav) and
    base/metadata/libri2mix_dev-clean.csv -> ({utt: samples}, {noise path: samples})."""
    speech, noise = {}, {}
    for i, (utt, seconds) in enumerate(LIBRI_UTTS.items()):
        reader, chapter, _ = utt.split("-")
        folder = base / "LibriSpeech" / "dev-clean" / reader / chapter
        folder.mkdir(parents=True, exist_ok=True)
        speech[utt] = speechlike(30 + i, seconds)
        sf.write(folder / f"{utt}.flac", speech[utt], FS, format="FLAC")
    for i, (rel, seconds) in enumerate(NOISE_SECONDS.items()):
        x = np.random.default_rng(40 + i).normal(0, 0.05, (int(seconds * FS), 2))
        noise[rel] = to_int16(x)
        (base / "wham_noise" / "cv").mkdir(parents=True, exist_ok=True)
        sf.write(base / "wham_noise" / rel, noise[rel], FS, subtype="PCM_16")
    (base / "metadata").mkdir()
    with open(base / "metadata" / "libri2mix_dev-clean.csv", "w") as f:
        f.write("mixture_ID,source_1_path,source_1_gain,source_2_path,source_2_gain,noise_path,noise_gain\n")
        for mix, u1, g1, u2, g2, rel, gn in LIBRI_ROWS:
            path1, path2 = (f"dev-clean/{u.split('-')[0]}/{u.split('-')[1]}/{u}.flac" for u in (u1, u2))
            f.write(f"{mix},{path1},{g1},{path2},{g2},{rel},{gn}\n")
    return speech, noise


def expected_noise(noise, length):
    """LibriMix's noise: channel 1, repeated with 8001-sample Hann cross-fades up to `length` samples."""
    x = noise[:length, 0] / 32768
    window = np.hanning(16001)
    rise, fall = window[:8001], window[8000::-1]
    while len(x) < length:
        base = noise[:, 0] / 32768
        x = np.concatenate((x[:-8001], x[-8001:] * fall + base[:8001] * rise, base[8001:]))
    return x[:length]


@pytest.mark.parametrize("fs,mode", [(8000, "min"), (16000, "max")])
def test_libri2mix_mixtures_follow_librimix(tmp_path, fs, mode):
    speech, noise = make_librimix(tmp_path)
    counts = libri2mix.prepare(str(tmp_path), str(tmp_path / "data"), str(tmp_path / "metadata"), str(tmp_path / "wav"),
                               fs=fs, mode=mode, parts=("dev-clean",), noise_dir=str(tmp_path / "wham_noise"))
    k = fs // 1000
    assert counts == {f"dev_clean_{k}k_{mode}": 2, f"dev_both_{k}k_{mode}": 2}
    clean = checked_dir(tmp_path / "data" / f"dev_clean_{k}k_{mode}", fs)
    both = checked_dir(tmp_path / "data" / f"dev_both_{k}k_{mode}", fs)
    noise_scp = read_table(tmp_path / "data" / f"dev_both_{k}k_{mode}" / "noise1.scp")
    assert list(clean["wav.scp"]) == sorted(row[0] for row in LIBRI_ROWS)
    assert clean["spk1.scp"] == both["spk1.scp"] and clean["utt2num_samples"] == both["utt2num_samples"]
    for mix_id, u1, g1, u2, g2, rel, gn in LIBRI_ROWS:
        assert clean["utt2src_spk"][mix_id] == both["utt2src_spk"][mix_id] == f"{u1.split('-')[0]} {u2.split('-')[0]}"
        assert clean["wav.scp"][mix_id] == str(tmp_path / f"wav/wav{k}k/{mode}/dev/mix_clean/{mix_id}.wav")
        mix_clean, rate = read_int16(clean["wav.scp"][mix_id])
        mix_both = read_int16(both["wav.scp"][mix_id])[0]
        s1, s2, n = (read_int16(table[mix_id])[0].astype(np.int32) for table in
                     (clean["spk1.scp"], clean["spk2.scp"], noise_scp))
        assert rate == fs and np.array_equal(mix_clean, s1 + s2) and np.array_equal(mix_both, s1 + s2 + n)
        length = (min if mode == "min" else max)(-(-len(speech[u]) // (16000 // fs)) for u in (u1, u2))
        assert len(mix_clean) == length == int(clean["utt2num_samples"][mix_id])
        longest = max(len(speech[u1]), len(speech[u2]))
        for written, x, gain in ((s1, speech[u1] / 32768, g1), (s2, speech[u2] / 32768, g2),
                                 (n, expected_noise(noise[rel], longest), gn)):
            y = scipy.signal.resample_poly(x * gain, 1, 16000 // fs)[:length]
            assert np.abs(written - np.pad(y, (0, length - len(y))) * 32768).max() <= 0.5 + 1e-6


def test_libri2mix_errors_name_the_csv_line(tmp_path):
    make_librimix(tmp_path)
    args = (str(tmp_path / "LibriSpeech"), str(tmp_path / "data"), str(tmp_path / "metadata"), str(tmp_path / "wav"))
    os.remove(tmp_path / "LibriSpeech" / "dev-clean" / "1272" / "128104" / "1272-128104-0001.flac")
    csv_path = tmp_path / "metadata" / "libri2mix_dev-clean.csv"
    csv_path.write_text(csv_path.read_text().replace("cv/01aa010p_0.93798_02bo0311_-0.93798.wav",
                                                     "tr/40na010x_1.8sp08.wav"))
    with pytest.raises(DataError, match=r"(?s)2 file\(s\).*libri2mix_dev-clean.csv:3: source 2 .*1272-128104-0001.flac"
                                        r".*libri2mix_dev-clean.csv:3: noise .*sp08.wav \(speed-perturbed noise: "
                                        r"run LibriMix's scripts/augment_train_noise.py"):
        libri2mix.prepare(*args, parts=("dev-clean",), noise_dir=str(tmp_path))
    csv_path.write_text("mixture_ID,source_1_path,source_2_path\n")
    with pytest.raises(DataError, match=r"libri2mix_dev-clean.csv:1: header .* expected 'mixture_ID,source_1_path,"
                                        r"source_1_gain,source_2_path,source_2_gain,noise_path,noise_gain'"):
        libri2mix.prepare(*args, parts=("dev-clean",))
    with pytest.raises(DataError, match=r"libri2mix_test-clean.csv: no such file.*LibriMix"):
        libri2mix.prepare(*args, parts=("test-clean",))


# --- ClearerVoice-Studio lists ---

def test_import_sep_lists_round_trips_a_prepared_dir(tmp_path):
    make_wsj0(tmp_path)
    wsj0_2mix.prepare(str(tmp_path), str(tmp_path / "data"), str(tmp_path / "lists"), str(tmp_path / "wav"),
                      sets=("tr",))
    prepared = tmp_path / "data" / "tr_8k_min"
    tables = checked_dir(prepared, 8000)
    lines = []
    for i, (utt, mix) in enumerate(tables["wav.scp"].items()):
        paths = [mix, tables["spk1.scp"][utt], tables["spk2.scp"][utt]]
        if i == 0:  # relative to --root, as lists written for a training directory are
            paths = [os.path.relpath(p, tmp_path / "wav") for p in paths]
        lines.append(" ".join(paths))
    (tmp_path / "tr.scp").write_text("\n".join(reversed(lines)) + "\n\n")
    import_main(["--list", str(tmp_path / "tr.scp"), "--out_dir", str(tmp_path / "imported"), "--num_spks", "2",
                 "--root", str(tmp_path / "wav"), "--fs", "8000"])
    speakers = tables.pop("utt2src_spk")  # list files name no speakers
    assert checked_dir(tmp_path / "imported", 8000) == tables and len(speakers) == len(tables["wav.scp"])


def test_import_sep_lists_one_input_one_output(tmp_path):
    noisy, clean = speechlike(1, 0.5), speechlike(2, 0.5)
    sf.write(tmp_path / "n1.wav", noisy, FS)
    sf.write(tmp_path / "c1.wav", clean, FS)
    (tmp_path / "se.scp").write_text("n1.wav c1.wav\n")
    import_main(["--list", str(tmp_path / "se.scp"), "--out_dir", str(tmp_path / "se"), "--num_spks", "1",
                 "--format", "one_input_one_output", "--root", str(tmp_path)])
    tables = checked_dir(tmp_path / "se", FS, num_spks=1)
    assert tables["wav.scp"] == {"n1": str(tmp_path / "n1.wav")}
    assert tables["spk1.scp"] == {"n1": str(tmp_path / "c1.wav")}
    assert tables["utt2num_samples"] == {"n1": str(len(noisy))}
    with pytest.raises(ConfigError, match="one reference a line"):
        import_main.__wrapped__(["--list", str(tmp_path / "se.scp"), "--out_dir", str(tmp_path / "x"),
                                 "--num_spks", "2", "--format", "one_input_one_output"])


def test_import_sep_lists_reports_every_problem(tmp_path, capsys):
    files = (("m1", 0.5, FS), ("a1", 0.5, FS), ("b1", 0.5, FS), ("b8k", 0.5, 8000), ("short", 0.4, FS))
    for name, seconds, fs in files:
        sf.write(tmp_path / f"{name}.wav", speechlike(len(name), seconds, fs), fs)
    os.makedirs(tmp_path / "other")
    shutil.copy(tmp_path / "m1.wav", tmp_path / "other" / "m1.wav")
    list_path = tmp_path / "bad.scp"
    list_path.write_text("m1.wav a1.wav b1.wav\n"
                         "m1.wav gone1.wav b1.wav\n"       # missing source, and m1 again
                         "m2.wav a1.wav gone2.wav\n"       # two missing files
                         "other/m1.wav a1.wav b1.wav\n")  # same mixture file name in another folder
    with pytest.raises(SystemExit):
        import_main(["--list", str(list_path), "--out_dir", str(tmp_path / "out"), "--num_spks", "2",
                     "--root", str(tmp_path)])
    err = capsys.readouterr().err
    where = str(list_path)
    for message in (f"{where}:2: source 1 {tmp_path / 'gone1.wav'}: no such file",
                    f"{where}:2: mixture id 'm1' (m1.wav) is already used at {where}:1",
                    f"{where}:3: mixture {tmp_path / 'm2.wav'}: no such file",
                    f"{where}:3: source 2 {tmp_path / 'gone2.wav'}: no such file",
                    f"{where}:4: mixture id 'm1' (other/m1.wav) is already used at {where}:1"):
        assert message in err, err
    assert "ERROR: " in err and "5 problem(s)" in err and not (tmp_path / "out").exists()
    args = ["--list", str(list_path), "--out_dir", str(tmp_path / "out"), "--num_spks", "2", "--root", str(tmp_path)]
    list_path.write_text("m1.wav a1.wav b1.wav\nm1.wav short.wav\n")
    with pytest.raises(DataError, match=f"{where}:2: expected 3 paths \\(mixture source 1 source 2\\) for "
                                        f"one_input_multi_outputs with --num_spks 2, got 2"):
        import_main.__wrapped__(args)
    list_path.write_text("m1.wav a1.wav b8k.wav\nb1.wav a1.wav short.wav\n")
    with pytest.raises(DataError) as info:
        import_main.__wrapped__(args)
    message = str(info.value)
    assert f"{where}:1: source 2 {tmp_path / 'b8k.wav'} is 8000 Hz but the mixture {tmp_path / 'm1.wav'} is 16000 Hz" \
        in message
    assert f"{where}:2: source 2 {tmp_path / 'short.wav'} has 6400 samples but the mixture" in message
    with pytest.raises(DataError, match=f"{where}:1: mixture {tmp_path / 'm1.wav'} is 16000 Hz, not the --fs 8000 Hz"):
        import_main.__wrapped__(args + ["--fs", "8000"])


# --- CLI and recipe scripts ---

def test_cli_refuses_an_option_of_the_other_corpus(tmp_path, capsys):
    with pytest.raises(SystemExit):
        prepare_main(["--corpus", "wsj0_2mix", "--src", str(tmp_path), "--lists_dir", str(tmp_path),
                      "--wav_dir", str(tmp_path), "--noise_dir", str(tmp_path)])
    assert "ERROR: --noise_dir applies to libri2mix, not wsj0_2mix" in capsys.readouterr().err


def recipe_copy(tmp_path, corpus):
    """egs/<corpus>/sep1 in a tree linking to this checkout (as test_corpus_prep.recipe_copy)."""
    os.makedirs(tmp_path, exist_ok=True)
    for name in ("tools", "utils", "toolkit"):
        os.symlink(os.path.join(ROOT, name), tmp_path / name)
    workdir = tmp_path / "egs" / corpus / "sep1"
    shutil.copytree(os.path.join(ROOT, "egs", corpus, "sep1"), workdir, symlinks=True,
                    ignore=shutil.ignore_patterns("data", "dump", "exp", "downloads"))
    return workdir


def run_data_sh(workdir, *options):
    proc = subprocess.run(["local/data.sh", *options], cwd=workdir, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_recipe_data_scripts(tmp_path):
    corpus = tmp_path / "corpus"
    make_wsj0(corpus)
    make_librimix(corpus)
    workdir = recipe_copy(tmp_path / "wsj", "wsj0_2mix")
    proc = run_data_sh(workdir, "--corpus_dir", str(corpus), "--lists_dir", str(corpus / "lists"),
                       "--wav_dir", str(tmp_path / "wsj0-mix"), "--fs", "8000", "--mode", "max", "--nj", "2")
    assert "data/tr_8k_max 3 mixtures" in proc.stdout
    assert list(checked_dir(workdir / "data" / "tt_8k_max", 8000)["wav.scp"]) == WSJ0_IDS["tt"]
    workdir = recipe_copy(tmp_path / "libri", "libri2mix")
    run_data_sh(workdir, "--corpus_dir", str(corpus), "--lists_dir", str(corpus / "metadata"), "--parts", "dev-clean",
                "--wav_dir", str(tmp_path / "Libri2Mix"), "--fs", "16000", "--nj", "1", "--data_dir", "data_16k")
    assert sorted(os.listdir(workdir / "data_16k")) == ["dev_clean_16k_min"]
    checked_dir(workdir / "data_16k" / "dev_clean_16k_min", 16000)
