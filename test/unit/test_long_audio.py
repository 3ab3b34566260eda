"""Long-audio separation: windows, permutation alignment across windows, overlap-add."""
import numpy as np
import pytest
import torch

from toolkit.decode.long_audio import best_order, separate_long, window_starts
from toolkit.utils.errors import ConfigError
from toolkit.utils.espeak import synthesize


@pytest.fixture(scope="module")
def sources():
    """Two different voices, 16 kHz, as long as the shorter one."""
    a, fs = synthesize("the quick brown fox jumps over the lazy dog near the river bank", voice="en-us+m3")
    b, _ = synthesize("seven green bottles were standing on the kitchen table this morning", voice="en+f2")
    n = min(len(a), len(b))
    return torch.tensor(np.stack([a[:n], b[:n]]) / 32768.0, dtype=torch.float32), fs


def test_windows_cover_the_signal_and_end_at_its_end():
    assert window_starts(100, 200, 50) == [0]
    starts = window_starts(1000, 300, 100)
    assert starts[0] == 0 and starts[-1] == 700 and all(b - a <= 200 for a, b in zip(starts, starts[1:]))
    with pytest.raises(ConfigError, match="overlap"):
        window_starts(1000, 300, 0)
    with pytest.raises(ConfigError):
        window_starts(1000, 300, 300)


def test_best_order_recovers_a_shuffle(sources):
    refs, _ = sources
    three = torch.cat([refs, torch.roll(refs[:1], 4000, dims=1)])
    for order in ([0, 1, 2], [2, 0, 1], [1, 2, 0]):
        assert best_order(three, three[order]).tolist() == np.argsort(order).tolist()


def test_sources_stay_on_their_channels_across_windows(sources):
    """A separator that returns the true window sources in a fresh random order each call: the output
    must be the sources, each on one channel for the whole file (in the first window's order)."""
    refs, fs = sources
    mix = refs.sum(0)
    gen = torch.Generator().manual_seed(0)
    orders = []

    def shuffling_separator(window):
        start = next(s for s in range(mix.shape[0] - window.shape[1] + 1)
                     if torch.equal(mix[s:s + window.shape[1]], window[0]))
        order = torch.randperm(2, generator=gen)
        orders.append(order.tolist())
        return refs[order, start:start + window.shape[1]][None]

    out = separate_long(shuffling_separator, mix, chunk=fs, overlap=fs // 4)
    assert len(orders) >= 4 and [0, 1] in orders and [1, 0] in orders  # both orders really occurred
    torch.testing.assert_close(out, refs[orders[0]], atol=1e-6, rtol=0)


def test_short_input_is_one_window(sources):
    refs, fs = sources
    calls = []

    def separator(window):
        calls.append(window.shape[1])
        return torch.stack([window, -window], dim=1)

    out = separate_long(separator, refs[0, :fs], chunk=2 * fs, overlap=fs // 2)
    assert calls == [fs] and out.shape == (2, fs)
