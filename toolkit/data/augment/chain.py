"""Augmentation from the yaml config: the waveform chain (`augment:`) and SpecAugment (`specaug:`).

    augment:
      - {type: speed, prob: 0.5, factors: [0.9, 1.0, 1.1]}
      - {type: noise, prob: 0.5, noise_scp: data/noise/wav.scp, snr: [5, 20]}
      - {type: reverb, prob: 0.3, rir_scp: data/rir/wav.scp}
      - {type: gain, prob: 0.5, db: [-6, 6]}
    specaug: {time_warp: 5, freq_mask: {num: 2, width: 27}, time_mask: {num: 2, width_ratio: 0.05}}

Ops run in the listed order, each with its probability; all randomness comes
from the numpy Generator the caller passes (see `rng.augment_rng`).
"""
import inspect

from toolkit.data.augment.conf import check_keys
from toolkit.data.augment.noise import AddNoise
from toolkit.data.augment.reverb import Reverb
from toolkit.data.augment.specaugment import SpecAugment
from toolkit.data.augment.waveform import Gain, SpeedPerturb
from toolkit.utils.errors import ConfigError

OPS = {"speed": SpeedPerturb, "gain": Gain, "noise": AddNoise, "reverb": Reverb}


class AugmentChain:
    """Waveform ops applied in order, op i with probability probs[i]."""

    def __init__(self, ops, probs):
        self.ops, self.probs = list(ops), list(probs)

    def trace(self, samples, rate, rng):
        """(augmented samples, [(op name, params) of the ops applied])."""
        applied = []
        for (name, op), prob in zip(self.ops, self.probs):
            if rng.random() < prob:
                params = op.draw(rng, samples, rate)
                samples = op.apply(samples, rate, **params)
                applied.append((name, params))
        return samples, applied

    def __call__(self, samples, rate, rng):
        return self.trace(samples, rate, rng)[0]


def build_chain(conf):
    """AugmentChain from the `augment:` list (None or [] gives an empty chain)."""
    ops, probs = [], []
    for i, entry in enumerate(conf or []):
        where = f"augment[{i}]"
        if not isinstance(entry, dict) or entry.get("type") not in OPS:
            kind = entry.get("type") if isinstance(entry, dict) else entry
            raise ConfigError(f"{where}: unknown type {kind!r}; known: {', '.join(sorted(OPS))}")
        op_class = OPS[entry["type"]]
        params = inspect.signature(op_class).parameters
        required = [name for name, p in params.items() if p.default is inspect.Parameter.empty]
        where = f"{where} ({entry['type']})"
        check_keys(where, entry, ["type", "prob", *params], required=required)
        prob = float(entry.get("prob", 1.0))
        if not 0 <= prob <= 1:
            raise ConfigError(f"{where}: prob {prob} is not in [0, 1]")
        ops.append((entry["type"], op_class(**{k: v for k, v in entry.items() if k not in ("type", "prob")})))
        probs.append(prob)
    return AugmentChain(ops, probs)


def build_specaug(conf):
    """SpecAugment from the `specaug:` mapping, or None when it is None or empty."""
    if not conf:
        return None
    check_keys("specaug", conf, inspect.signature(SpecAugment).parameters)
    return SpecAugment(**conf)
