"""Shared fixtures: a small real LM data set (token_int data dirs + token list) for trainer tests."""
import random

import pytest

from toolkit.data.datadir import write_data_dir
from toolkit.text.token_list import write_token_list

WORDS = "the a cat dog sat ran on mat big small red blue under over".split()


def make_lm_data(root, num_train=96, num_valid=24, seed=0):
    """Write root/tokens.txt, root/train and root/dev; return root."""
    rng = random.Random(seed)
    chars = sorted(set("".join(WORDS)))
    tokens = ["<blank>", "<unk>", "<space>", *chars, "<sos/eos>"]
    write_token_list(str(root / "tokens.txt"), tokens)
    ids = {t: i for i, t in enumerate(tokens)}
    for name, count in (("train", num_train), ("dev", num_valid)):
        utt2spk, token_int = {}, {}
        for i in range(count):
            sentence = " ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6)))
            utt = f"spk{i % 4}-{name}{i:04d}"
            utt2spk[utt] = f"spk{i % 4}"
            token_int[utt] = " ".join(str(ids["<space>" if c == " " else c]) for c in sentence)
        write_data_dir(str(root / name), None, utt2spk, extra={"token_int": token_int})
    return root


@pytest.fixture(scope="module")
def lm_data(tmp_path_factory):
    return make_lm_data(tmp_path_factory.mktemp("lm"))
