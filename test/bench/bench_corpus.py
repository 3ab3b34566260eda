"""Benchmark: time to synthesise the mini_synth corpus, and how much audio it makes.

    tools/venv/bin/python test/bench/bench_corpus.py [--sizes ci,bench] [--nj 2] [--work_dir DIR] [--keep]

Each size is built with 1 job and with --nj jobs (bench only with --nj unless
--serial_bench), reporting wall seconds, hours of audio written and the
parallel speed-up, and checking the targets: bench in at most 300 s on 2 cores
with >= 3 h of ASR training audio, ~3 h of training mixtures and >= 1 h of TTS.
Writes test/bench/results/corpus.json.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "corpus.json")
BENCH_LIMIT_S = 300.0


def build(out_dir, size, nj, fs):
    """Run the CLI in a fresh process; return (wall seconds, report)."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "toolkit.bin.synth_corpus", "--out_dir", out_dir, "--size", size,
                    "--fs", str(fs), "--nj", str(nj)], check=True, capture_output=True)
    wall = time.perf_counter() - start
    with open(os.path.join(out_dir, "corpus_report.json")) as f:
        return wall, json.load(f)


def same_audio(dir_a, dir_b):
    """True when every wav file under the two corpora is byte-identical."""
    for root, _, files in os.walk(os.path.join(dir_a, "wav")):
        for name in files:
            path = os.path.join(root, name)
            other = os.path.join(dir_b, os.path.relpath(path, dir_a))
            with open(path, "rb") as a, open(other, "rb") as b:
                if a.read() != b.read():
                    return False
    return True


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="ci,bench")
    parser.add_argument("--nj", type=int, default=2)
    parser.add_argument("--fs", type=int, default=16000)
    parser.add_argument("--serial_bench", action="store_true", help="also build bench with 1 job")
    parser.add_argument("--work_dir", default=None, help="where to build (default: a temporary dir)")
    parser.add_argument("--keep", action="store_true", help="keep the built corpora")
    args = parser.parse_args()
    work = args.work_dir or tempfile.mkdtemp(prefix="bench_corpus_")
    rows, checks = [], {}
    try:
        for size in args.sizes.split(","):
            runs = {}
            for nj in ([1] if size != "bench" or args.serial_bench else []) + [args.nj]:
                out = os.path.join(work, f"{size}_nj{nj}")
                wall, report = build(out, size, nj, args.fs)
                sets = report["sets"]
                speech_h = sum(s["hours"] for name, s in sets.items() if not name.startswith(("sep", "noise")))
                runs[nj] = {"size": size, "nj": nj, "wall_s": round(wall, 2), "stages_s": report["seconds"],
                            "train_h": sets["train"]["hours"], "sep_train_h": sets["sep_train"]["hours"],
                            "tts_train_h": sets["tts_train"]["hours"], "synthesised_h": round(speech_h, 3),
                            "x_realtime": round(speech_h * 3600 / wall, 1), "sets": sets}
            if 1 in runs and args.nj in runs and args.nj != 1:
                runs[args.nj]["speedup_vs_nj1"] = round(runs[1]["wall_s"] / runs[args.nj]["wall_s"], 2)
                checks[f"{size}: nj=1 and nj={args.nj} byte-identical audio"] = same_audio(
                    os.path.join(work, f"{size}_nj1"), os.path.join(work, f"{size}_nj{args.nj}"))
            if size == "bench":
                run = runs[args.nj]
                checks[f"bench: built in <= {BENCH_LIMIT_S:.0f} s"] = run["wall_s"] <= BENCH_LIMIT_S
                checks["bench: >= 3 h ASR train"] = run["train_h"] >= 3.0
                checks["bench: >= 3 h mixtures train"] = run["sep_train_h"] >= 3.0
                checks["bench: >= 1 h TTS train"] = run["tts_train_h"] >= 1.0
            rows += runs.values()
    finally:
        if not args.keep and not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)

    print(f"{'size':<6} {'nj':>3} {'wall s':>8} {'train h':>8} {'sep h':>7} {'tts h':>7} {'speech h':>9} "
          f"{'x rt':>7} {'speedup':>8}")
    for r in rows:
        print(f"{r['size']:<6} {r['nj']:>3} {r['wall_s']:>8.1f} {r['train_h']:>8.3f} {r['sep_train_h']:>7.3f} "
              f"{r['tts_train_h']:>7.3f} {r['synthesised_h']:>9.3f} {r['x_realtime']:>7.1f} "
              f"{r.get('speedup_vs_nj1', '-'):>8}")
    for name, ok in checks.items():
        print(f"{'PASS' if ok else 'FAIL'}  {name}")
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump({"cpu_count": os.cpu_count(), "runs": rows, "checks": checks}, f, indent=1)
    print(f"wrote {RESULTS}")
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
