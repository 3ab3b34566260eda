"""TTS synthesis real-time factor on CPU: acoustic model, vocoders, and the two together.

    tools/venv/bin/python test/bench/bench_tts_rtf.py [--repeats 3] [--threads 1,2] [--seconds 3]

RTF = synthesis seconds / seconds of audio produced (below 1: faster than real time).
Timed, with random weights (speed does not depend on training), in eval mode under
no_grad: the mini_synth bench FastSpeech2 (egs/mini_synth/tts1/conf/train_fastspeech2.yaml)
on a sentence of phonemes producing about --seconds of 16 kHz audio; the HiFi-GAN V2 generator
of the mini_synth vocoder config, the HiFi-GAN V1 generator (13.9 M, the published quality
model) and Griffin-Lim (32 iterations) on a log-mel of that length (hop 256; V1 at 22.05 kHz
as it is used, timed on the same number of frames); and the mini pipeline end to end
(FastSpeech2 + V2). Weight norm is folded before timing, as for inference. Best of
--repeats (others' load only slows a run down). Writes test/bench/results/tts_rtf.json.
"""
import argparse
import json
import os
import platform
import time

import torch
import yaml

from toolkit.models.tts import FastSpeech2
from toolkit.models.vocoder import GriffinLim, HiFiGANGenerator
from toolkit.models.vocoder.hifigan import generator_config

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESULTS = os.path.join(ROOT, "test", "bench", "results", "tts_rtf.json")
FS2_CONF = os.path.join(ROOT, "egs", "mini_synth", "tts1", "conf", "train_fastspeech2.yaml")
HOP = 256


def best_time(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def count(model):
    return sum(p.numel() for p in model.parameters())


def generator(name):
    model = HiFiGANGenerator(in_channels=80, **generator_config(name)).eval()
    model.remove_weight_norm()
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--seconds", type=float, default=3.0, help="audio per synthesised sentence (16 kHz)")
    args = parser.parse_args()
    torch.manual_seed(0)
    with open(FS2_CONF, encoding="utf-8") as f:
        fs2 = FastSpeech2(90, **yaml.safe_load(f)["tts_conf"]).eval()
    frames = int(args.seconds * 16000 / HOP)
    tokens = max(1, frames // 4)  # ~4 frames (64 ms) per phoneme, as in the mini corpus
    text = torch.randint(1, 89, (1, tokens))
    durations = torch.full((1, tokens), frames // tokens)
    mel = torch.randn(1, int(durations.sum()), 80)
    audio_16k = mel.shape[1] * HOP / 16000
    models = {"hifigan_v2": generator("v2"), "hifigan_v1": generator("v1")}
    griffin_lim = GriffinLim(n_iter=32, sample_rate=16000, n_fft=1024, hop_length=HOP, n_mels=80, fmax=8000)
    rows = []
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        with torch.no_grad():
            cases = {
                "fastspeech2_mini": (lambda: fs2.inference(text, durations=durations), audio_16k),
                "hifigan_v2_mini": (lambda: models["hifigan_v2"](mel.transpose(1, 2)), audio_16k),
                "hifigan_v1": (lambda: models["hifigan_v1"](mel.transpose(1, 2)), mel.shape[1] * HOP / 22050),
                "griffin_lim_32": (lambda: griffin_lim.inference(mel), audio_16k),
                "mini_pipeline": (lambda: models["hifigan_v2"](fs2.inference(text, durations=durations)["feats"]
                                                               .transpose(1, 2)), audio_16k),
            }
            for name, (fn, seconds) in cases.items():
                elapsed = best_time(fn, args.repeats)
                rows.append({"case": name, "threads": threads, "audio_seconds": round(seconds, 3),
                             "synthesis_seconds": round(elapsed, 4), "rtf": round(elapsed / seconds, 4)})
                print(f"{name:18s} threads {threads}  {seconds:5.2f} s of audio in {elapsed:6.3f} s: "
                      f"RTF {elapsed / seconds:.4f}", flush=True)
    result = {"torch": torch.__version__, "machine": platform.machine(), "cpu_count": os.cpu_count(),
              "params": {"fastspeech2_mini": count(fs2), "hifigan_v2": count(models["hifigan_v2"]),
                         "hifigan_v1": count(models["hifigan_v1"])},
              "frames": mel.shape[1], "rows": rows}
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
