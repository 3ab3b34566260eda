"""Separator training-step speed: ours against the peer implementation at equal configuration.

    tools/venv/bin/python test/bench/bench_sep_models.py [--repeats 5] [--steps 3] [--threads 2] [--device cpu]
    tools/venv/bin/python test/bench/bench_sep_models.py --quick --repeats 1   # a check that it runs, nothing written
    tools/venv/bin/python test/bench/bench_sep_models.py --models conv_tasnet  # one model's cases only

(a) toolkit ConvTasNet vs torchaudio.models.ConvTasNet (sigmoid masks, skip = bottleneck: the
same network, ours loaded with torchaudio's weights); (b) toolkit MossFormer2 vs
ClearerVoice-Studio's MossFormer (clearvoice 0.1.2, the network of MossFormer2_SS_16K; ours
loaded with its state dict). A step is forward + backward of the mean squared output in
training mode, gradients cleared first. Sizes: the paper Conv-TasNet on 4 s at 8 kHz,
batch 2, a small one, and the mini_synth bench recipe's (conf/train_conv_tasnet.yaml); the
released MossFormer2 on 2 s at 16 kHz, batch 1, and a small one. Each case is timed
`--repeats` times, alternating ours and theirs, best of the repeats (others' load on the
machine only slows a run down). The MossFormer2 part is skipped, with
the reason printed and written, when either implementation cannot be imported.
Writes test/bench/results/sep_models.json (rows of models not timed keep their earlier run's;
--quick writes nothing).
"""
import argparse
import json
import os
import platform
import time
from importlib import metadata

import torch
import torchaudio

from toolkit.models.sep.conv_tasnet import ConvTasNet, from_torchaudio_state_dict

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "sep_models.json")
# name: (model kwargs, batch, samples); Conv-TasNet kwargs are ours (torchaudio's follow from them)
CONV_TASNET_SIZES = {
    "small": (dict(enc_kernel=16, enc_dim=128, bottleneck=64, hidden=128, kernel=3, layers=4, stacks=2), 2, 8000),
    "paper_8k_4s": (dict(enc_kernel=16, enc_dim=512, bottleneck=128, hidden=512, kernel=3, layers=8, stacks=3),
                    2, 32000),
    "mini_synth_4s": (dict(enc_kernel=32, enc_dim=128, bottleneck=64, hidden=128, kernel=3, layers=8, stacks=2),
                      2, 32000),
}
MOSSFORMER2_SIZES = {
    "small": (dict(encoder_kernel_size=16, encoder_embedding_dim=128, mossformer_sequence_dim=128,
                   num_mossformer_layer=4), 1, 8000),
    "ss_16k_2s": (dict(encoder_kernel_size=16, encoder_embedding_dim=512, mossformer_sequence_dim=512,
                       num_mossformer_layer=24), 1, 32000),
}
QUICK_SIZES = ("small",)  # --quick: these, on a quarter of their samples, one timed step


def count(model):
    return sum(p.numel() for p in model.parameters())


def conv_tasnet_pair(conf):
    ours = ConvTasNet(num_spks=2, skip=conf["bottleneck"], **conf)
    theirs = torchaudio.models.ConvTasNet(
        num_sources=2, enc_kernel_size=conf["enc_kernel"], enc_num_feats=conf["enc_dim"],
        msk_kernel_size=conf["kernel"], msk_num_feats=conf["bottleneck"], msk_num_hidden_feats=conf["hidden"],
        msk_num_layers=conf["layers"], msk_num_stacks=conf["stacks"], msk_activate="sigmoid")
    ours.load_state_dict(from_torchaudio_state_dict(theirs.state_dict()))
    return ours, theirs, lambda mix: theirs(mix.unsqueeze(1))


def mossformer2_pair(conf):
    from clearvoice.models.mossformer2_ss.mossformer2 import MossFormer

    from toolkit.models.sep.mossformer2 import MossFormer2

    ours = MossFormer2(num_spks=2, **conf)
    theirs = MossFormer(in_channels=conf["encoder_embedding_dim"], out_channels=conf["mossformer_sequence_dim"],
                        num_blocks=conf["num_mossformer_layer"], kernel_size=conf["encoder_kernel_size"], num_spks=2)
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs, lambda mix: torch.stack(theirs(mix), 1)


def mossformer2_unavailable():
    """Why the MossFormer2 pair cannot be built, or None."""
    try:
        import clearvoice.models.mossformer2_ss.mossformer2  # noqa: F401
        import toolkit.models.sep.mossformer2  # noqa: F401
    except ImportError as err:
        return f"not importable: {err}"
    return None


def step_time(step, steps, device):
    step()  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - start) / steps


def bench_case(model_name, size, pair_fn, conf, batch, samples, args, device):
    torch.manual_seed(0)
    ours, theirs, run_theirs = pair_fn(conf)
    ours, theirs = ours.to(device).train(), theirs.to(device).train()
    mix = torch.randn(batch, samples, device=device) * 0.1

    def make_step(model, run):
        def step():
            model.zero_grad(set_to_none=True)
            run(mix).pow(2).mean().backward()
        return step

    steps = {"ours": make_step(ours, ours), "theirs": make_step(theirs, run_theirs)}
    best = dict.fromkeys(steps, float("inf"))
    for _ in range(args.repeats):
        for key, step in steps.items():
            best[key] = min(best[key], step_time(step, args.steps, device))
    return {"model": model_name, "size": size, "config": conf, "batch": batch, "samples": samples,
            "params_ours": count(ours), "params_theirs": count(theirs), "step_s_ours": best["ours"],
            "step_s_theirs": best["theirs"], "ratio": best["ours"] / best["theirs"]}


def version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=3, help="timed steps per repeat")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", default="conv_tasnet,mossformer2", help="comma-separated models to time")
    parser.add_argument("--quick", action="store_true",
                        help=f"only the {'/'.join(QUICK_SIZES)} cases on a quarter of their samples, one step")
    args = parser.parse_args()
    if args.quick:
        args.steps = 1
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    models = args.models.split(",")
    cases = [("conv_tasnet", conv_tasnet_pair, CONV_TASNET_SIZES)] if "conv_tasnet" in models else []
    skipped = {}
    reason = mossformer2_unavailable() if "mossformer2" in models else None
    if reason:
        skipped["mossformer2"] = reason
    elif "mossformer2" in models:
        cases.append(("mossformer2", mossformer2_pair, MOSSFORMER2_SIZES))
    rows = [bench_case(name, size, pair_fn, conf, batch, samples // 4 if args.quick else samples, args, device)
            for name, pair_fn, sizes in cases for size, (conf, batch, samples) in sizes.items()
            if not args.quick or size in QUICK_SIZES]

    print(f"{'model':12s} {'size':12s} {'batch':>5s} {'samples':>7s} {'params ours':>11s} {'theirs':>11s} "
          f"{'ours s':>8s} {'theirs s':>8s} {'ours/theirs':>11s}")
    for r in rows:
        print(f"{r['model']:12s} {r['size']:12s} {r['batch']:5d} {r['samples']:7d} {r['params_ours']:11,d} "
              f"{r['params_theirs']:11,d} {r['step_s_ours']:8.3f} {r['step_s_theirs']:8.3f} {r['ratio']:11.2f}")
    for name, reason in skipped.items():
        print(f"skipped {name}: {reason}")
    if args.quick:
        return  # a check that it runs: its numbers are not kept
    run = {"torch": torch.__version__, "torchaudio": torchaudio.__version__, "clearvoice": version("clearvoice"),
           "machine": platform.machine(), "cpu_count": os.cpu_count(), "device": str(device),
           "threads": args.threads, "repeats": args.repeats, "steps": args.steps}
    rows = [dict(r, run=run) for r in rows]
    kept = []  # rows of models not timed in this run stay, each with the settings of its own run
    if os.path.isfile(RESULTS):
        with open(RESULTS, encoding="utf-8") as f:
            kept = [r for r in json.load(f).get("rows", []) if r["model"] not in models and "run" in r]
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w", encoding="utf-8") as f:
        json.dump({"rows": kept + rows, "skipped": skipped}, f, indent=2)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
