"""Acoustic features: Kaldi fbank/MFCC, log-mel, CMVN, and dumping them to ark/scp."""
from toolkit.features.cmvn import accumulate_cmvn, apply_cmvn, cmvn_mean_scale
from toolkit.features.dump import dump_features
from toolkit.features.extractor import FEAT_TYPES, Extractor, build_extractor
from toolkit.features.kaldi_feats import KaldiFeatures
from toolkit.features.logmel import LogMel

__all__ = ["FEAT_TYPES", "Extractor", "KaldiFeatures", "LogMel", "accumulate_cmvn", "apply_cmvn",
           "build_extractor", "cmvn_mean_scale", "dump_features"]
