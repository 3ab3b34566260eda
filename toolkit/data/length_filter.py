"""Length limits before batching: drop or crop over-long utterances, drop short ones, report both."""
import logging

import numpy as np

from toolkit.utils.errors import ConfigError, DataError


def _as_array(keys, lengths):
    """Lengths of `keys` as a float array; values may be numbers or table strings such as '16000'."""
    try:
        values = np.array([lengths[k] for k in keys], dtype=float)
    except (TypeError, ValueError):
        values = None
    bad = range(len(keys)) if values is None else np.flatnonzero(~(values >= 0))
    for i in bad:
        try:
            ok = float(lengths[keys[i]]) >= 0
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise DataError(f"utterance {keys[i]!r}: length {lengths[keys[i]]!r} is not a non-negative number; "
                            f"check utt2num_frames / utt2num_samples / durations")
    return values


def filter_lengths(lengths, max_length=None, min_length=None, policy="drop"):
    """Apply length limits to {utt: length}; lengths may be numbers or strings from read_table.

    Utterances shorter than `min_length` are dropped. Longer than `max_length`:
    policy 'drop' drops them, 'crop' keeps them at length `max_length` (the data
    loader must crop them). Returns (kept, dropped, cropped): kept {utt: float
    length used for batching} in sorted key order, dropped [(utt, length as given,
    reason)], cropped {utt, ...}. Drops are logged with examples; `write_dropped`
    lists them in a file.
    """
    if policy not in ("drop", "crop"):
        raise ConfigError(f"length_policy {policy!r} is not one of: drop, crop")
    if max_length is not None and min_length is not None and min_length > max_length:
        raise ConfigError(f"min_length={min_length} is larger than max_length={max_length}")
    keys = sorted(lengths)
    values = _as_array(keys, lengths)
    too_short = values < min_length if min_length is not None else np.zeros(len(keys), bool)
    too_long = ~too_short & (values > max_length) if max_length is not None else np.zeros(len(keys), bool)
    reasons = {i: f"shorter than min_length={min_length}" for i in np.flatnonzero(too_short)}
    if policy == "drop":
        reasons.update((i, f"longer than max_length={max_length}") for i in np.flatnonzero(too_long))
    dropped = [(keys[i], lengths[keys[i]], reasons[i]) for i in sorted(reasons)]
    cropped = {keys[i] for i in np.flatnonzero(too_long)} if policy == "crop" else set()
    keep = np.flatnonzero(~too_short & ~too_long) if policy == "drop" else np.flatnonzero(~too_short)
    used = np.minimum(values, max_length) if max_length is not None else values
    kept = dict(zip([keys[i] for i in keep], used[keep].tolist()))
    if dropped:
        examples = ", ".join(f"{u} ({n}: {why})" for u, n, why in dropped[:3])
        logging.warning("length filter dropped %d of %d utterances, e.g. %s", len(dropped), len(lengths), examples)
    if cropped:
        logging.info("length filter: %d utterances will be cropped to max_length=%s", len(cropped), max_length)
    return kept, dropped, cropped


def write_dropped(dropped, path):
    """Write dropped utterances as `utt length reason` lines (an empty file when none were dropped)."""
    with open(path, "w", encoding="utf-8") as f:
        f.writelines(f"{utt} {length} {reason}\n" for utt, length, reason in dropped)
