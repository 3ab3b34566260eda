"""Extract features for utterances of a data dir and write them as a Kaldi ark/scp pair."""
import logging
import time

import kaldiio

from toolkit.data.audio_io import read_audio
from toolkit.utils.errors import DataError


def _read(data_dir, utt):
    try:
        spec, start, end = data_dir.audio_spec(utt)
    except KeyError as err:
        table = "segments" if data_dir.segments is not None and utt not in data_dir.segments else "wav.scp"
        raise DataError(f"{err.args[0]!r} is missing from {data_dir.path}/{table}") from None
    return read_audio(spec, start, end)


def dump_features(data_dir, utts, extractor, ark, scp, compression_method=None):
    """Write features of `utts` (from DataDir `data_dir`) to `ark` and `scp`; return {utt: frames}.

    compression_method is kaldiio's (Kaldi's) CompressionMethod: None stores float32;
    1 (kAutomaticMethod, Kaldi's copy-feats --compress default) stores 8 bits per value
    with per-column percentile ranges (kSpeechFeature) for matrices of more than 8 rows.
    A failing utterance raises DataError naming it.
    """
    num_frames, seconds, begin = {}, 0.0, time.time()
    with kaldiio.WriteHelper(f"ark,scp:{ark},{scp}", compression_method=compression_method) as writer:
        for utt in utts:
            try:
                samples, rate = _read(data_dir, utt)
                feats = extractor(samples, rate)
            except DataError as err:
                raise DataError(f"utterance {utt!r}: {err}") from None
            writer(utt, feats)
            num_frames[utt] = len(feats)
            seconds += len(samples) / rate
    elapsed = time.time() - begin
    logging.info("%d utterances, %.1f s of audio in %.1f s (%.0fx real time) -> %s", len(num_frames), seconds,
                 elapsed, seconds / max(elapsed, 1e-9), scp)
    return num_frames
