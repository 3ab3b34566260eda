"""Feature extraction speed: our make_feats against the bare torchaudio call, one core.

    tools/venv/bin/python test/bench/bench_features.py [--data_dir DIR] [--minutes 5] [--repeats 3]

Without --data_dir a data dir of synthetic 16 kHz int16 wavs (harmonics with a
moving pitch plus noise, 3-9 s each) is generated. For fbank, mfcc and logmel it
times, with torch.set_num_threads(1):
  raw       torchaudio on waveforms already in memory (compliance.kaldi / MelSpectrogram)
  in-proc   our dump_features: read audio, extract, write ark/scp (float, then compressed)
  e2e       `python -m toolkit.bin.make_feats --nj 1`: process start-up, job runner, merge
Speed is audio seconds per second of wall time on one core ("x real time"); the
ratio columns are our time over the raw time on the same audio (1.0 = no overhead).
Best of --repeats interleaved runs. Writes test/bench/results/features.json.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

from toolkit.data.audio_io import read_audio, write_audio
from toolkit.data.datadir import DataDir, write_data_dir
from toolkit.features import build_extractor, dump_features
from toolkit.features.kaldi_feats import INT16_SCALE
from toolkit.utils.config import save_config

RATE = 16000
CONFS = {
    "fbank": {"num_mel_bins": 80},
    "mfcc": {"num_mel_bins": 40, "num_ceps": 40},
    "logmel": {"sample_rate": RATE, "n_fft": 1024, "hop_length": 256, "n_mels": 80, "fmax": 8000.0},
}
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "features.json")


def make_data_dir(path, minutes, seed=0):
    """Synthetic utterances adding up to `minutes` of audio."""
    rng = np.random.default_rng(seed)
    wav, total, index = {}, 0.0, 0
    while total < minutes * 60:
        seconds = rng.uniform(3, 9)
        t = np.arange(int(seconds * RATE)) / RATE
        f0 = 120 + 40 * np.sin(2 * np.pi * 0.7 * t)
        phase = 2 * np.pi * np.cumsum(f0) / RATE
        x = sum(0.2 / k * np.sin(k * phase) for k in range(1, 8)) + 0.02 * rng.standard_normal(len(t))
        utt = f"utt{index:04d}"
        wav[utt] = os.path.join(path, f"{utt}.wav")
        write_audio(wav[utt], x, RATE)
        total, index = total + seconds, index + 1
    write_data_dir(os.path.join(path, "data"), wav, {u: "spk" for u in wav})
    return os.path.join(path, "data")


def best_times(funcs, repeats):
    """{name: best wall time}; the functions take turns so that load changes hit all alike."""
    times = {name: float("inf") for name in funcs}
    for _ in range(repeats):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            times[name] = min(times[name], time.perf_counter() - start)
    return times


def raw_function(feat_type):
    """The bare torchaudio computation on a float waveform in [-1, 1]."""
    if feat_type == "logmel":
        mel = torchaudio.transforms.MelSpectrogram(RATE, n_fft=1024, hop_length=256, n_mels=80, f_max=8000.0,
                                                   power=1.0, norm="slaney", mel_scale="slaney")
        return lambda wave: torch.log(torch.clamp(mel(wave), min=1e-5))
    function = {"fbank": kaldi.fbank, "mfcc": kaldi.mfcc}[feat_type]
    return lambda wave: function(wave.unsqueeze(0) * INT16_SCALE, **CONFS[feat_type])


def bench(feat_type, data_dir, work, repeats):
    data = DataDir(data_dir)
    utts = data.utts
    waves = [torch.from_numpy(read_audio(*data.audio_spec(u))[0]) for u in utts]
    seconds = sum(len(w) for w in waves) / RATE
    compute = raw_function(feat_type)

    def raw():
        with torch.no_grad():
            for wave in waves:
                compute(wave)

    extractor = build_extractor({"feat_type": feat_type, **CONFS[feat_type]})

    def ours(method):
        return lambda: dump_features(data, utts, extractor, f"{work}/{feat_type}.ark", f"{work}/{feat_type}.scp",
                                     compression_method=method)

    conf = f"{work}/{feat_type}.yaml"
    save_config(CONFS[feat_type], conf)
    cmd = [sys.executable, "-m", "toolkit.bin.make_feats", "--data_dir", data_dir, "--out_dir",
           f"{work}/dump_{feat_type}", "--feat_type", feat_type, "--feat_conf", conf, "--nj", "1"]

    def e2e():
        subprocess.run(cmd, check=True, stderr=subprocess.DEVNULL)

    times = best_times({"raw": raw, "in_proc": ours(None), "in_proc_compressed": ours(1), "e2e": e2e}, repeats)
    row = {"feat_type": feat_type, "audio_seconds": round(seconds, 1), "utterances": len(utts)}
    row.update({f"{name}_xrt": round(seconds / t, 1) for name, t in times.items()})
    row.update({f"{name}_over_raw": round(t / times["raw"], 2) for name, t in times.items() if name != "raw"})
    row["e2e_startup_seconds"] = round(times["e2e"] - times["in_proc"], 2)  # interpreters, imports, runner
    return row


def print_table(rows):
    columns = ["feat_type", "raw_xrt", "in_proc_xrt", "in_proc_compressed_xrt", "e2e_xrt", "in_proc_over_raw",
               "in_proc_compressed_over_raw", "e2e_over_raw", "e2e_startup_seconds"]
    widths = [max(len(c), 8) for c in columns]
    print("  ".join(c.rjust(w) for c, w in zip(columns, widths)))
    for row in rows:
        print("  ".join(str(row[c]).rjust(w) for c, w in zip(columns, widths)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data_dir", help="16 kHz data dir to use (default: generate one)")
    parser.add_argument("--minutes", type=float, default=5.0, help="audio to generate")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as work:
        data_dir = args.data_dir or make_data_dir(work, args.minutes)
        rows = [bench(feat_type, data_dir, work, args.repeats) for feat_type in CONFS]
    print_table(rows)
    result = {"rows": rows, "configs": CONFS, "threads": 1, "repeats": args.repeats,
              "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
              "torch": torch.__version__, "load_average_1min": os.getloadavg()[0]}
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
