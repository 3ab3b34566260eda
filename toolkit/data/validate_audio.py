"""Validation of the audio a data dir points to (wav.scp, spkN.scp), in a process pool."""
import logging
import os
import struct
from collections import Counter
from dataclasses import dataclass
from functools import partial
from multiprocessing import Pool

import numpy as np
import soundfile as sf

from toolkit.data.audio_io import audio_info, is_pipe, read_audio
from toolkit.data.validate_tables import file_loc, parse_segment
from toolkit.utils.errors import DataError

CLIP_LEVEL = 0.999        # |sample| at or above this counts as clipped
CLIP_MAX = 10             # more clipped samples than this in one file: a warning
SEGMENT_TOLERANCE = 0.02  # seconds a segment may end past its recording (rounded times)
BLOCK_FRAMES = 1 << 20    # samples decoded at a time when scanning a file

logger = logging.getLogger(__name__)


@dataclass
class AudioFacts:
    """What probe_audio learnt about one audio file or pipe."""
    frames: int = 0
    rate: int = 0
    channels: int = 0
    error: str = ""           # why it cannot be read
    missing: bool = False     # the path does not exist
    declared_bytes: int = 0   # WAV data chunk size from the header (0: not a plain WAV)
    present_bytes: int = 0    # bytes of sample data actually in the file
    decoded: int | None = None  # frames decoded (None: samples not read)
    nonfinite: int = 0
    first_nonfinite: int = 0  # frame index of the first NaN/inf
    clipped: int = 0


def wav_data_bytes(path):
    """(declared, present) byte sizes of a RIFF/WAVE data chunk; None if not such a file or unknown size."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"data":
                # 0 and 0xFFFFFFFF: a streamed header that was never finalised; readers go to the end
                return None if chunk_size in (0, 0xFFFFFFFF) else (chunk_size, size - f.tell())
            f.seek(chunk_size + (chunk_size & 1), 1)


def _scan_samples(facts, blocks):
    """Count decoded frames, NaN/inf and clipped samples over [time, channel] blocks."""
    facts.decoded = 0
    for block in blocks:
        facts.decoded += len(block)
        if len(block) and -CLIP_LEVEL < block.min() and block.max() < CLIP_LEVEL:
            continue  # finite and unclipped (a NaN fails both comparisons)
        mag = np.abs(block)
        finite = np.isfinite(mag)
        if not finite.all():
            if not facts.nonfinite:
                start = facts.decoded - len(block)
                facts.first_nonfinite = start + int(np.flatnonzero(~finite.all(axis=1))[0])
            facts.nonfinite += int(block.size - np.count_nonzero(finite))
        facts.clipped += int(np.count_nonzero((mag >= CLIP_LEVEL) & finite))


def _blocks(f):
    """[time, channel] float32 blocks of an open SoundFile until it yields no more."""
    while True:
        block = f.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
        if not len(block):
            return
        yield block


def _probe_path(path, check_samples):
    if not check_samples:
        facts = AudioFacts(*audio_info(path))
    else:
        try:
            with sf.SoundFile(path) as f:
                facts = AudioFacts(f.frames, f.samplerate, f.channels)
                try:
                    _scan_samples(facts, _blocks(f))
                except RuntimeError as err:
                    facts.error = (f"(corrupt or truncated: decoding stops after {facts.decoded} of "
                                   f"{facts.frames} frames: {err})")
        except RuntimeError as err:
            return AudioFacts(error=f"(cannot read audio {path!r}: {err})")
    facts.declared_bytes, facts.present_bytes = wav_data_bytes(path) or (0, 0)
    return facts


def probe_audio(spec, check_samples=True):
    """AudioFacts of one wav.scp value (path or `cmd |`): header, completeness, sample statistics."""
    if not is_pipe(spec) and not os.path.isfile(spec):
        where = "" if os.path.isabs(spec) else f" (relative to {os.getcwd()})"
        return AudioFacts(error=f"({spec}{where})", missing=True)
    try:
        if not is_pipe(spec):
            return _probe_path(spec, check_samples)
        if not check_samples:
            return AudioFacts(*audio_info(spec))
        data, rate = read_audio(spec, always_2d=True)
    except DataError as err:
        return AudioFacts(error=f"({err})")
    facts = AudioFacts(frames=len(data), rate=rate, channels=data.shape[1])
    _scan_samples(facts, [data])
    return facts


def probe_all(specs, check_samples=True, nj=1):
    """probe_audio over many specs, in a pool of `nj` processes when nj > 1."""
    probe = partial(probe_audio, check_samples=check_samples)
    if nj <= 1 or len(specs) < 2:
        return [probe(spec) for spec in specs]
    with Pool(nj) as pool:
        return pool.map(probe, specs, chunksize=max(1, len(specs) // (8 * nj)))


def check_audio_facts(facts, loc, report, fs=None, channels=1):
    """Report problems of one probed file; True if it is usable for length checks."""
    if facts.error:
        report.error(loc, "missing audio file" if facts.missing else "unreadable audio", facts.error)
        return False
    if facts.declared_bytes > facts.present_bytes:
        report.error(loc, "truncated audio",
                     f"(the WAV header declares {facts.declared_bytes} bytes of samples, the file holds "
                     f"{facts.present_bytes}); re-create the file")
    if facts.decoded is not None and facts.decoded < facts.frames:
        report.error(loc, "truncated audio", f"(header says {facts.frames} frames, {facts.decoded} decode)")
    if facts.frames == 0:
        report.error(loc, "zero-length audio", "(no samples); drop the entry")
    if fs and facts.rate != fs:
        report.error(loc, "wrong sample rate", f"({facts.rate} Hz, expected {fs} Hz); resample the audio")
    if channels and facts.channels != channels:
        report.error(loc, "wrong channel count", f"({facts.channels}, expected {channels})")
    if facts.nonfinite:
        report.error(loc, "NaN/inf samples",
                     f"({facts.nonfinite} samples, first at {facts.first_nonfinite / facts.rate:.3f} s)")
    if facts.clipped > CLIP_MAX:
        report.warning(loc, "clipping", f"({facts.clipped} samples with |x| >= {CLIP_LEVEL})")
    return facts.frames > 0


def utterance_audio(tables, recordings, report):
    """{utt: (samples, rate)} of usable audio; reports segments that leave their recording."""
    if "segments" not in tables:
        return {utt: (facts.frames, facts.rate) for utt, facts in recordings.items()}
    segments, lengths = tables["segments"], {}
    for utt, value in segments.good():
        reco, start, end = parse_segment(value)
        facts = recordings.get(reco)
        if facts is None:
            continue
        seconds = facts.frames / facts.rate
        if end > seconds + SEGMENT_TOLERANCE:
            report.error(segments.loc(utt), "segment ends beyond the recording",
                         f"(end {end} s, {reco!r} is {seconds:.3f} s long)")
        first = round(start * facts.rate)
        last = facts.frames if end < 0 else min(facts.frames, round(end * facts.rate))
        lengths[utt] = (max(0, last - first), facts.rate)
    return lengths


def check_audio_files(tables, report, fs=None, channels=1, check_samples=True, nj=1):
    """Probe every wav.scp and spkN.scp entry and check lengths against the data dir."""
    wav = tables["wav.scp"]
    refs = [t for name, t in tables.items() if name.startswith("spk") and name.endswith(".scp")]
    entries = [(t, key, spec) for t in [wav] + refs for key, spec in t.good()]
    logger.info("checking %d audio entries (nj=%d%s)", len(entries), nj, "" if check_samples else ", headers only")
    probed = probe_all([spec for _, _, spec in entries], check_samples, nj)
    facts_of = {(t.path, key): facts for (t, key, _), facts in zip(entries, probed)}

    recordings = {}
    for key, _ in wav.good():
        facts = facts_of[wav.path, key]
        if check_audio_facts(facts, wav.loc(key), report, fs, channels):
            recordings[key] = facts
    rates = Counter(facts.rate for facts in recordings.values())
    if fs is None and len(rates) > 1:
        report.warning(file_loc(wav.path), "mixed sample rates",
                       ", ".join(f"{rate} Hz: {n} recording(s)" for rate, n in rates.most_common())
                       + "; pass --fs to require one")
    utts = utterance_audio(tables, recordings, report)
    tolerance = 1 if "segments" in tables else 0  # segment times are rounded to samples either way
    if "utt2num_samples" in tables:
        counts = tables["utt2num_samples"]
        for utt, value in counts.good():
            if utt in utts and abs(int(value) - utts[utt][0]) > tolerance:
                report.error(counts.loc(utt), "utt2num_samples disagrees with the audio",
                             f"({value} here, the audio has {utts[utt][0]}); regenerate utt2num_samples")
    for ref in refs:
        for utt, _ in ref.good():
            facts = facts_of[ref.path, utt]
            if not check_audio_facts(facts, ref.loc(utt), report, fs, channels) or utt not in utts:
                continue
            samples, rate = utts[utt]
            if fs is None and facts.rate != rate:
                report.error(ref.loc(utt), "sample rate differs from the mixture",
                             f"({facts.rate} Hz, the mixture has {rate} Hz)")
            if abs(facts.frames - samples) > tolerance:
                report.error(ref.loc(utt), "length differs from the mixture",
                             f"({facts.frames} samples, the mixture has {samples})")
