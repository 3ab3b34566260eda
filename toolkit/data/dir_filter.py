"""Length and transcript filters for training data dirs; every removal is written with its reason."""
import os

from toolkit.data.dir_ops import read_dir, select, warn_other, write_dir
from toolkit.data.tables import write_table
from toolkit.utils.errors import DataError


def filter_reasons(tables, min_frames=None, max_frames=None, max_tokens=None, subsampling=None, min_samples=None,
                   max_samples=None):
    """{utt: reason} for utterances to drop.

    Reasons: too short or long (utt2num_frames, or utt2num_samples for audio), empty token
    sequence, too many tokens, and (with `subsampling`) more tokens than encoder frames
    after subsampling, which CTC cannot align.
    """
    frames = {u: int(v) for u, v in tables.files.get("utt2num_frames", {}).items()}
    tokens = {u: len(v.split()) for u, v in tables.files.get("token_int", {}).items()}
    samples = {u: int(v) for u, v in tables.files.get("utt2num_samples", {}).items()}
    reasons = {}
    for utt in tables.utts:
        n, k, s = frames.get(utt), tokens.get(utt), samples.get(utt)
        if min_samples is not None and s is not None and s < min_samples:
            reasons[utt] = f"{s} samples < min_samples {min_samples}"
        elif max_samples is not None and s is not None and s > max_samples:
            reasons[utt] = f"{s} samples > max_samples {max_samples}"
        elif min_frames is not None and n is not None and n < min_frames:
            reasons[utt] = f"{n} frames < min_frames {min_frames}"
        elif max_frames is not None and n is not None and n > max_frames:
            reasons[utt] = f"{n} frames > max_frames {max_frames}"
        elif k == 0:
            reasons[utt] = "empty token sequence"
        elif max_tokens is not None and k is not None and k > max_tokens:
            reasons[utt] = f"{k} tokens > max_tokens {max_tokens}"
        elif subsampling and n is not None and k is not None and n // subsampling < k:
            reasons[utt] = f"{k} tokens > {n // subsampling} frames after subsampling by {subsampling} (CTC)"
    return reasons


def filter_data_dir(src, dest, **limits):
    """Copy `src` to `dest` without the utterances `filter_reasons` names; write dest/removed.txt.

    Returns (kept, removed) counts.
    """
    tables = read_dir(src)
    for table, keys in (("utt2num_frames", ("min_frames", "max_frames", "subsampling")),
                        ("utt2num_samples", ("min_samples", "max_samples")), ("token_int", ("max_tokens",))):
        given = [k for k in keys if limits.get(k) is not None]
        if given and table not in tables.files:
            raise DataError(f"{src}/{table}: missing, needed for {', '.join('--' + k for k in given)}")
    reasons = filter_reasons(tables, **limits)
    kept = [u for u in tables.utts if u not in reasons]
    warn_other(tables, src, "filtered")
    write_dir(select(tables, kept), dest)
    write_table(os.path.join(dest, "removed.txt"), reasons)
    return len(kept), len(reasons)
