"""Training-time augmentation: waveform ops (speed, gain, noise, reverb) chained from the
yaml `augment:` list, and SpecAugment on features from `specaug:`.

    chain = build_chain(conf.get("augment"))            # in the dataset
    samples = chain(samples, rate, augment_rng(seed, epoch, utt_id))
    specaug = build_specaug(conf.get("specaug"))         # in the training step (None: off)
    feats = specaug(feats, feats_lengths, generator=augment_generator(seed, epoch, step))

Speed perturbation changes the number of samples: compute lengths after the chain.
To give several signals the same perturbation (a mixture and its references),
`op.draw` once and `op.apply` to each; `chain.trace` lists what was applied.
"""
from toolkit.data.augment.chain import AugmentChain, build_chain, build_specaug
from toolkit.data.augment.noise import AddNoise, add_noise
from toolkit.data.augment.reverb import Reverb, reverberate
from toolkit.data.augment.rng import augment_generator, augment_rng
from toolkit.data.augment.specaugment import SpecAugment
from toolkit.data.augment.waveform import Gain, SpeedPerturb

__all__ = ["AddNoise", "AugmentChain", "Gain", "Reverb", "SpecAugment", "SpeedPerturb", "add_noise",
           "augment_generator", "augment_rng", "build_chain", "build_specaug", "reverberate"]
