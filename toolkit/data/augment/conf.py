"""Checks shared by the augmentation configs: unknown keys and [low, high] ranges."""
from toolkit.utils.errors import ConfigError


def check_keys(where, conf, allowed, required=()):
    """ConfigError naming `where` and the key when `conf` has a key not in `allowed` or lacks a required one."""
    if not isinstance(conf, dict):
        raise ConfigError(f"{where}: expected a mapping, got {conf!r}")
    unknown = sorted(set(conf) - set(allowed))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(map(repr, unknown))}; "
                          f"allowed: {', '.join(sorted(allowed))}")
    missing = [key for key in required if key not in conf]
    if missing:
        raise ConfigError(f"{where}: missing key(s) {', '.join(map(repr, missing))}")


def check_range(where, pair):
    """(low, high) floats from a 2-item list with low <= high; ConfigError otherwise."""
    if not isinstance(pair, (list, tuple)) or len(pair) != 2 or pair[0] > pair[1]:
        raise ConfigError(f"{where}: expected [low, high] with low <= high, got {pair!r}")
    return float(pair[0]), float(pair[1])
