"""Cut a long recording into segments of at most `max_len` seconds at silences.

A silence is a run of frames below `threshold_db` (relative to the loudest frame,
see silence.py) lasting at least `min_silence` seconds. Leading and trailing
silences are trimmed; a silence of `max_silence` seconds or more always ends a
segment; the rest are cut candidates. Each segment is filled greedily: if what
remains fits in `max_len` it is one segment; otherwise the cut goes in a candidate
silence inside the window, preferring the second half of the window (longest
silence there, then deepest, then latest) and otherwise the latest one. Only when
the window holds no silence is the cut forced at the quietest frame of its second half. A cut keeps
`keep_silence` seconds of the silence on each side (half of a shorter silence).
Segments shorter than `min_len` are dropped and returned with their reason.
"""
import dataclasses
import math

import numpy as np

from toolkit.audio.silence import frame_energy_db, runs, silent_mask


@dataclasses.dataclass
class Segment:
    start: float  # seconds, rounded to milliseconds
    end: float
    reason: str  # why the segment ends here (or why it was dropped)


@dataclasses.dataclass
class _Silence:
    first: int  # frames [first, last) are silent
    last: int
    depth: float  # mean energy in dB relative to the loudest frame
    keep: int  # frames of silence kept next to the sound

    @property
    def cut_end(self):
        return min(self.first + self.keep, (self.first + self.last) // 2)

    @property
    def cut_start(self):
        return max(self.last - self.keep, (self.first + self.last) // 2)

    def describe(self, hop):
        return f"silence {(self.last - self.first) * hop:.2f}s at {self.depth:.1f} dB"


class _Clock:
    """Frame boundary -> milliseconds (boundary n is the end of the signal)."""

    def __init__(self, hop_samples, num_samples, fs):
        self.hop_samples, self.num_samples, self.fs = hop_samples, num_samples, fs

    def ms(self, frame):
        return round(min(frame * self.hop_samples, self.num_samples) * 1000 / self.fs)

    def span(self, first, last):
        return self.ms(last) - self.ms(first)

    def last_fitting(self, first, max_ms):
        """The largest boundary `last` with span(first, last) <= max_ms."""
        last = first + int(max_ms * self.fs / 1000 / self.hop_samples) + 1
        while self.span(first, last) > max_ms:
            last -= 1
        return last


def plan_segments(samples, fs, max_len, min_len=1.0, threshold_db=-40.0, min_silence=0.3,
                  max_silence=2.0, keep_silence=0.1, hop=0.01):
    """(segments, dropped): lists of Segment covering the sound of a [time] / [time, channel] signal."""
    hop_samples = max(1, round(hop * fs))
    hop = hop_samples / fs
    clock = _Clock(hop_samples, samples.shape[0], fs)
    energy = frame_energy_db(samples, hop_samples)
    silent = silent_mask(energy, threshold_db)
    if silent.all():
        return [], [Segment(0.0, clock.ms(len(energy)) / 1000, "silent: no frame above the threshold")]
    loudest = energy.max()
    min_frames = math.ceil(min_silence / hop - 1e-9)
    keep = round(keep_silence / hop)
    silences = [_Silence(a, b, float(energy[a:b].mean() - loudest), keep)
                for a, b in runs(silent) if b - a >= min_frames]
    first, last = 0, len(energy)
    if silences and silences[0].first == 0:
        first = max(0, silences.pop(0).last - keep)
    if silences and silences[-1].last == len(energy):
        last = min(len(energy), silences.pop().first + keep)

    fill = _Filler(clock, energy - loudest, round(max_len * 1000), round(min_len * 1000), hop)
    segments, block_start, candidates = [], first, []
    for silence in silences:
        if (silence.last - silence.first) * hop >= max_silence - 1e-9:
            segments += fill(block_start, silence.cut_end, candidates, "long " + silence.describe(hop))
            block_start, candidates = silence.cut_start, []
        else:
            candidates.append(silence)
    segments += fill(block_start, last, candidates, "end of recording")
    kept, dropped = [], []
    for segment in segments:
        if round((segment.end - segment.start) * 1000) >= round(min_len * 1000):
            kept.append(segment)
        else:
            reason = f"shorter than min_len {min_len}s ({segment.reason})"
            dropped.append(dataclasses.replace(segment, reason=reason))
    return kept, dropped


class _Filler:
    """Greedy cutting of one block [first, last) of frames, bounded by long silences."""

    def __init__(self, clock, energy, max_ms, min_ms, hop):
        self.clock, self.energy, self.max_ms, self.min_ms, self.hop = clock, energy, max_ms, min_ms, hop

    def __call__(self, first, last, candidates, end_reason):
        clock, segments = self.clock, []
        while clock.span(first, last) > self.max_ms:
            limit = clock.last_fitting(first, self.max_ms)
            cut = self._silence_cut(first, last, limit, candidates) or self._forced_cut(first, limit)
            end, start, reason = cut
            segments.append(Segment(clock.ms(first) / 1000, clock.ms(end) / 1000, reason))
            first = start
        segments.append(Segment(clock.ms(first) / 1000, clock.ms(last) / 1000, end_reason))
        return segments

    def _silence_cut(self, first, last, limit, candidates):
        """(end, next start, reason) at the best candidate silence in the window, or None."""
        span = self.clock.span
        cuts = [(c, min(c.cut_end, limit)) for c in candidates if first < c.first <= limit]
        cuts = [(c, end, max(c.cut_start, end)) for c, end in cuts if span(first, end) >= self.min_ms]
        cuts = [cut for cut in cuts if span(cut[2], last) >= self.min_ms] or cuts
        if not cuts:
            return None
        late = [cut for cut in cuts if 2 * span(first, cut[1]) >= self.max_ms]
        if late:
            best, end, start = max(late, key=lambda cut: (cut[0].last - cut[0].first, -cut[0].depth, cut[1]))
        else:
            best, end, start = max(cuts, key=lambda cut: cut[1])
        return end, start, best.describe(self.hop)

    def _forced_cut(self, first, limit):
        """(end, next start, reason) at the quietest frame boundary in the window's second half, latest on ties."""
        low = first + 1
        while low < limit and min(2 * self.clock.span(first, low) - self.max_ms,
                                  self.clock.span(first, low) - self.min_ms) < 0:
            low += 1
        window = self.energy[low:limit + 1][::-1]
        cut = limit - int(np.argmin(window))
        reason = f"forced: no silence of min_silence in the window; quietest frame {self.energy[cut]:.1f} dB"
        return cut, cut, reason
