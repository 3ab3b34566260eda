"""Length and transcript filters for training data dirs; every removal is written with its reason."""
import os

from toolkit.data.dir_ops import read_dir, select, warn_other, write_dir
from toolkit.data.tables import write_table


def filter_reasons(tables, min_frames=None, max_frames=None, max_tokens=None, subsampling=None):
    """{utt: reason} for utterances to drop.

    Reasons: no frames/tokens recorded, too short or long (utt2num_frames), empty token
    sequence, too many tokens, and (with `subsampling`) more tokens than encoder frames
    after subsampling, which CTC cannot align.
    """
    frames = {u: int(v) for u, v in tables.files.get("utt2num_frames", {}).items()}
    tokens = {u: len(v.split()) for u, v in tables.files.get("token_int", {}).items()}
    reasons = {}
    for utt in tables.utts:
        n, k = frames.get(utt), tokens.get(utt)
        if min_frames is not None and n is not None and n < min_frames:
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
    reasons = filter_reasons(tables, **limits)
    kept = [u for u in tables.utts if u not in reasons]
    warn_other(tables, src, "filtered")
    write_dir(select(tables, kept), dest)
    write_table(os.path.join(dest, "removed.txt"), reasons)
    return len(kept), len(reasons)
