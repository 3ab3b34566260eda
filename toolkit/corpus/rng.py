"""Independent random streams named by keys, so each part of the corpus has its own seed."""
import hashlib
import random

import numpy as np


def _seed_int(*keys):
    digest = hashlib.sha256(repr(keys).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def np_rng(*keys):
    """NumPy Generator seeded from `keys` (e.g. (seed, 'mix', 'train')); same keys, same stream."""
    return np.random.default_rng(_seed_int(*keys))


def py_rng(*keys):
    """random.Random seeded from `keys`."""
    return random.Random(_seed_int(*keys))


def int_seed(*keys, bits=31):
    """A non-negative integer seed from `keys` (for libraries that take an int)."""
    return _seed_int(*keys) % (1 << bits)
