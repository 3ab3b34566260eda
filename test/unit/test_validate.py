"""Data dir validation: one valid dir passes, each kind of problem is reported with file, line and key."""
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from toolkit.data.datadir import write_data_dir
from toolkit.data.validate import validate_data_dir

VALIDATE_SH = Path(__file__).resolve().parents[2] / "utils" / "validate_data_dir.sh"
RATE = 16000
SAMPLES = 1600  # 0.1 s
UTT2SPK = {"a-1": "a", "a-2": "a", "b-1": "b"}
TEXT = {"a-1": "hello world", "a-2": "good bye", "b-1": "yes"}


def write_wav(path, samples=SAMPLES, rate=RATE, channels=1, subtype="PCM_16", seed=0):
    x = 0.1 * np.random.default_rng(seed).standard_normal((samples, channels))
    sf.write(path, x.astype("float32"), rate, subtype=subtype)
    return str(path)


def make_dir(tmp_path, segments=False, refs=False):
    """A valid data dir (3 utts, 2 speakers); with segments, one recording holds all three."""
    data, wavs = tmp_path / "data", tmp_path / "wav"
    wavs.mkdir(parents=True)
    extra = {}
    if segments:
        wav_scp = {"rec": write_wav(wavs / "rec.wav", samples=3 * SAMPLES)}
        seg = {utt: ("rec", i * 0.1, (i + 1) * 0.1) for i, utt in enumerate(sorted(UTT2SPK))}
    else:
        wav_scp = {utt: write_wav(wavs / f"{utt}.wav", seed=i) for i, utt in enumerate(sorted(UTT2SPK))}
        seg = None
    extra["utt2num_samples"] = {utt: SAMPLES for utt in UTT2SPK}
    if refs:
        extra["spk1.scp"] = {utt: write_wav(wavs / f"{utt}-s1.wav", seed=9) for utt in UTT2SPK}
    write_data_dir(data, wav_scp, UTT2SPK, text=TEXT, segments=seg, extra=extra)
    return data


def write(path, text):
    Path(path).write_text(text, encoding="utf-8")


def errors_with(report, *parts):
    """Errors containing every part; fails showing all errors when there is none."""
    found = [e for e in report.errors if all(p in e for p in parts)]
    assert found, f"no error with {parts} in:\n" + "\n".join(report.errors)
    return found


@pytest.mark.parametrize("segments", [False, True])
def test_valid_data_dir_passes(tmp_path, segments):
    data = make_dir(tmp_path, segments=segments, refs=not segments)
    report = validate_data_dir(str(data), fs=RATE)
    assert report.errors == [] and report.warnings == []


def test_pipe_in_wav_scp_is_read(tmp_path):
    data = make_dir(tmp_path)
    write(data / "wav.scp", f"a-1 cat {tmp_path}/wav/a-1.wav |\na-2 {tmp_path}/wav/a-2.wav\n"
                            f"b-1 cat {tmp_path}/wav/missing.wav |\n")
    for check_samples in (True, False):
        report = validate_data_dir(str(data), check_samples=check_samples)
        assert len(report.errors) == 1
        errors_with(report, f"{data}/wav.scp:3: utt 'b-1': unreadable audio", "pipe command failed")


def test_unsorted_keys(tmp_path):
    data = make_dir(tmp_path)
    write(data / "text", "a-1 hello world\nb-1 yes\na-2 good bye\n")
    (error,) = errors_with(validate_data_dir(str(data)), f"{data}/text:3: utt 'a-2': keys not sorted in C order")
    assert "after 'b-1' on line 2" in error and "utils/fix_data_dir.sh" in error and "LC_ALL=C sort" in error


def test_c_order_is_byte_order(tmp_path):
    """A file sorted by `LC_ALL=C sort` passes; case-folded (locale) order does not."""
    keys = ["a-1", "B-1", "z-1", "\u00e9-1"]
    c_sorted = subprocess.run(["sort"], input="\n".join(keys) + "\n", capture_output=True, text=True,
                              env={"LC_ALL": "C"}).stdout.split()
    data = tmp_path / "data"
    for order, bad in ((c_sorted, 0), (keys, 1)):
        write_data_dir(data, {k: "x.wav" for k in keys}, {k: "s" for k in keys})
        write(data / "utt2spk", "".join(f"{k} s\n" for k in order))
        report = validate_data_dir(str(data), check_audio=False)
        assert len(report.errors) == bad
    errors_with(report, f"{data}/utt2spk:2: utt 'B-1': keys not sorted", "after 'a-1' on line 1")


def test_duplicate_key(tmp_path):
    data = make_dir(tmp_path)
    write(data / "utt2spk", "a-1 a\na-2 a\na-2 a\nb-1 b\n")
    errors_with(validate_data_dir(str(data)), f"{data}/utt2spk:3: utt 'a-2': duplicate key", "first on line 2")


def test_line_without_value(tmp_path):
    data = make_dir(tmp_path)
    write(data / "utt2spk", "a-1 a\na-2\n\nb-1 b c\n")
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/utt2spk:2: utt 'a-2': no value")
    errors_with(report, f"{data}/utt2spk:4: utt 'b-1': malformed value", "one speaker id")
    assert report.warnings == [f"{data}/utt2spk:3: blank line (ignored by readers)"]


def test_tab_separated_line_names_the_codepoint(tmp_path):
    data = make_dir(tmp_path)
    write(data / "utt2spk", "a-1 a\na-2\ta\nb-1 b\n")
    errors_with(validate_data_dir(str(data)), f"{data}/utt2spk:2: utt 'a-2\\ta': control character in key", "U+0009")


def test_non_utf8_line_and_later_problems_all_reported(tmp_path):
    data = make_dir(tmp_path)
    (data / "text").write_bytes(b"a-1 hello\na-2 caf\xe9\nb-1\n")
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/text:2: utt 'a-2': not valid UTF-8", "byte 0xe9")
    errors_with(report, f"{data}/text:3: utt 'b-1': empty transcript")
    assert len(report.errors) == 2  # the undecodable line's key still counts: no knock-on key-set error


def test_control_character_in_transcript(tmp_path):
    data = make_dir(tmp_path)
    write(data / "text", "a-1 hello\x07 world\na-2 zero\u200bwidth\nb-1 नमस्\u200dते\n")
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/text:1: utt 'a-1': non-printable character in transcript", "U+0007 at column 6")
    errors_with(report, f"{data}/text:2: utt 'a-2'", "U+200B ZERO WIDTH SPACE")
    assert not any("text:3" in e for e in report.errors)  # the zero-width joiner is Devanagari spelling


def test_empty_transcript(tmp_path):
    data = make_dir(tmp_path)
    write(data / "text", "a-1 hello world\na-2  \nb-1 yes\n")
    errors_with(validate_data_dir(str(data)), f"{data}/text:2: utt 'a-2': empty transcript")


def test_malformed_numbers(tmp_path):
    data = make_dir(tmp_path, segments=True)
    write(data / "utt2num_samples", "a-1 1600\na-2 16.5\nb-1 0\n")
    write(data / "segments", "a-1 rec 0.0 0.1\na-2 rec zero 0.2\nb-1 rec 0.2\n")
    write(data / "utt2num_frames", "a-1 10\na-2 10\nb-1 10\n")
    write(data / "durations", "a-1 4 6\na-2 4 x\nb-1 10\n")
    write(data / "utt2dur", "a-1 0.1\na-2 0.1\nb-1 -0.1\n")
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/utt2dur:3: utt 'b-1': malformed number", "'-0.1'")
    errors_with(report, f"{data}/utt2num_samples:2: utt 'a-2': malformed number", "'16.5'")
    errors_with(report, f"{data}/utt2num_samples:3: utt 'b-1': malformed number", "'0'")
    errors_with(report, f"{data}/segments:2: utt 'a-2': malformed segment", "seconds")
    errors_with(report, f"{data}/segments:3: utt 'b-1': malformed segment", "'recording start end'")
    errors_with(report, f"{data}/durations:2: utt 'a-2': malformed number", "'4 x'")


def test_utterance_key_sets_disagree(tmp_path):
    data = make_dir(tmp_path)
    write(data / "text", "a-1 hello world\nb-1 yes\nc-9 extra\n")
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/text: keys missing", f"1 utt(s) of {data}/utt2spk", "'a-2' (line 2)")
    errors_with(report, f"{data}/text: extra keys", f"not in {data}/utt2spk", "'c-9' (line 3)")


def test_segments_name_unknown_recording(tmp_path):
    data = make_dir(tmp_path, segments=True)
    write(data / "segments", "a-1 rec 0.0 0.1\na-2 recX 0.1 0.2\nb-1 rec 0.2 0.3\n")
    write(data / "wav.scp", (data / "wav.scp").read_text() + f"unused {tmp_path}/wav/rec.wav\n")
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/segments:2: utt 'a-2': unknown recording", f"'recX' is not in {data}/wav.scp")
    assert report.warnings == [f"{data}/wav.scp: recordings without segments "
                               "(1 recording(s) no segment uses, e.g. 'unused' (line 2))"]


def test_utt2spk_and_spk2utt_disagree(tmp_path):
    data = make_dir(tmp_path)
    write(data / "spk2utt", "a a-1\nb a-1 a-2 b-1 z-9\n")
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/spk2utt:2: speaker 'b': utt listed under two speakers", "'a-1' is also under 'a'")
    errors_with(report, f"{data}/utt2spk:2: utt 'a-2': speaker disagrees with spk2utt",
                f"'a' here, 'b' in {data}/spk2utt:2")
    errors_with(report, f"{data}/spk2utt:2: speaker 'b': utt not in utt2spk", "'z-9'")


def test_missing_and_corrupt_audio(tmp_path):
    data = make_dir(tmp_path)
    (tmp_path / "wav" / "a-2.wav").write_bytes(b"RIFF this is not audio at all")
    (tmp_path / "wav" / "b-1.wav").unlink()
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/wav.scp:2: utt 'a-2': unreadable audio", "a-2.wav")
    errors_with(report, f"{data}/wav.scp:3: utt 'b-1': missing audio file", "b-1.wav")


def test_truncated_wav(tmp_path):
    data = make_dir(tmp_path)
    path = tmp_path / "wav" / "a-2.wav"
    path.write_bytes(path.read_bytes()[:-1000])  # header still claims 3200 bytes of samples
    assert sf.info(path).frames == SAMPLES - 500  # soundfile alone does not notice
    report = validate_data_dir(str(data), check_samples=False)
    errors_with(report, f"{data}/wav.scp:2: utt 'a-2': truncated audio", "declares 3200 bytes", "holds 2200")


def test_truncated_flac_fails_to_decode(tmp_path):
    data = make_dir(tmp_path)
    flac = tmp_path / "wav" / "a-2.flac"
    write_wav(flac, samples=48000)
    flac.write_bytes(flac.read_bytes()[: flac.stat().st_size // 2])
    write(data / "wav.scp", f"a-1 {tmp_path}/wav/a-1.wav\na-2 {flac}\nb-1 {tmp_path}/wav/b-1.wav\n")
    write(data / "utt2num_samples", "a-1 1600\na-2 48000\nb-1 1600\n")
    errors_with(validate_data_dir(str(data)), f"{data}/wav.scp:2: utt 'a-2': unreadable audio",
                "corrupt or truncated", "of 48000 frames")


def test_zero_length_audio(tmp_path):
    data = make_dir(tmp_path)
    sf.write(tmp_path / "wav" / "a-1.wav", np.zeros(0, "float32"), RATE)
    errors_with(validate_data_dir(str(data)), f"{data}/wav.scp:1: utt 'a-1': zero-length audio")


def test_nan_and_inf_samples(tmp_path):
    data = make_dir(tmp_path)
    x = np.zeros(SAMPLES, "float32")
    x[800], x[900] = np.nan, np.inf
    sf.write(tmp_path / "wav" / "b-1.wav", x, RATE, subtype="FLOAT")
    errors_with(validate_data_dir(str(data)), f"{data}/wav.scp:3: utt 'b-1': NaN/inf samples",
                "2 samples, first at 0.050 s")
    assert validate_data_dir(str(data), check_samples=False).errors == []  # headers alone cannot tell


def test_wrong_sample_rate_and_channels(tmp_path):
    data = make_dir(tmp_path)
    write_wav(tmp_path / "wav" / "a-1.wav", rate=8000)
    write_wav(tmp_path / "wav" / "a-2.wav", channels=2)
    report = validate_data_dir(str(data), fs=RATE)
    errors_with(report, f"{data}/wav.scp:1: utt 'a-1': wrong sample rate", "8000 Hz, expected 16000 Hz")
    errors_with(report, f"{data}/wav.scp:2: utt 'a-2': wrong channel count", "(2, expected 1)")
    assert not any("channel" in e for e in validate_data_dir(str(data), channels=None).errors)
    assert any("mixed sample rates" in w for w in validate_data_dir(str(data), channels=None).warnings)


def test_segments_outside_recording(tmp_path):
    data = make_dir(tmp_path, segments=True)
    write(data / "segments", "a-1 rec -0.1 0.1\na-2 rec 0.2 0.1\nb-1 rec 0.2 0.5\n")
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/segments:1: utt 'a-1': segment starts before 0")
    errors_with(report, f"{data}/segments:2: utt 'a-2': segment ends before it starts")
    errors_with(report, f"{data}/segments:3: utt 'b-1': segment ends beyond the recording", "'rec' is 0.300 s")


def test_utt2num_samples_disagrees_with_audio(tmp_path):
    for segments in (False, True):
        data = make_dir(tmp_path / str(segments), segments=segments)
        write(data / "utt2num_samples", "a-1 1600\na-2 1601\nb-1 1700\n")
        report = validate_data_dir(str(data))
        errors_with(report, f"{data}/utt2num_samples:3: utt 'b-1': utt2num_samples disagrees", "1700 here", "1600")
        # one sample of slack for segment time rounding, none for whole files
        assert any("utt2num_samples:2" in e for e in report.errors) == (not segments)


def test_separation_reference_length_and_rate(tmp_path):
    data = make_dir(tmp_path, refs=True)
    write_wav(tmp_path / "wav" / "a-1-s1.wav", samples=SAMPLES - 10)
    write_wav(tmp_path / "wav" / "b-1-s1.wav", rate=8000)
    report = validate_data_dir(str(data))
    errors_with(report, f"{data}/spk1.scp:1: utt 'a-1': length differs from the mixture", "1590 samples")
    errors_with(report, f"{data}/spk1.scp:3: utt 'b-1': sample rate differs from the mixture", "8000 Hz")


def test_clipping_is_a_warning(tmp_path):
    data = make_dir(tmp_path)
    x = np.clip(3 * np.random.default_rng(0).standard_normal(SAMPLES), -1, 1)
    sf.write(tmp_path / "wav" / "a-2.wav", x, RATE, subtype="PCM_16")
    report = validate_data_dir(str(data))
    assert report.errors == []
    (warning,) = report.warnings
    assert warning.startswith(f"{data}/wav.scp:2: utt 'a-2': clipping")


def test_durations_must_add_up_to_frames(tmp_path):
    data = make_dir(tmp_path)
    write(data / "utt2num_frames", "a-1 10\na-2 10\nb-1 10\n")
    write(data / "durations", "a-1 4 6\na-2 4 5\nb-1 10\n")
    (error,) = validate_data_dir(str(data)).errors
    assert error.startswith(f"{data}/durations:2: utt 'a-2': durations do not add up to utt2num_frames (sum 9")


def test_text_optional_unless_required(tmp_path):
    data = make_dir(tmp_path)
    (data / "text").unlink()
    assert validate_data_dir(str(data)).errors == []
    errors_with(validate_data_dir(str(data), require_text=True), f"{data}/text: missing file")
    write(data / "text", "a-1\n")
    assert validate_data_dir(str(data), check_text=False).errors == []


def test_listing_limit_counts_the_rest(tmp_path):
    data = make_dir(tmp_path)
    write(data / "text", "a-1\na-2\nb-1\n")
    report = validate_data_dir(str(data), max_listed=1)
    assert [e for e in report.errors if "text" in e] == [
        f"{data}/text:1: utt 'a-1': empty transcript (drop the utterance or give it a transcript)",
        f"{data}/text: ... and 2 more 'empty transcript'"]


def test_parallel_probe_matches_serial(tmp_path):
    data = make_dir(tmp_path)
    write_wav(tmp_path / "wav" / "a-1.wav", samples=800, rate=8000)
    (tmp_path / "wav" / "b-1.wav").unlink()
    serial = validate_data_dir(str(data), fs=RATE)
    assert len(serial.errors) == 3  # wrong rate, missing file, utt2num_samples of a-1 (800 samples)
    assert validate_data_dir(str(data), fs=RATE, nj=2).errors == serial.errors


def test_cli_exit_code_and_output(tmp_path):
    data = make_dir(tmp_path)
    ok = subprocess.run([str(VALIDATE_SH), str(data), "--fs", "16000"], capture_output=True, text=True, cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.splitlines()[-1] == f"{data}: OK: 0 error(s), 0 warning(s)"
    write(data / "text", "a-1 hello world\na-2\nb-1 yes\n")
    (tmp_path / "wav" / "b-1.wav").unlink()
    bad = subprocess.run([str(VALIDATE_SH), str(data), "--no-sample-check"], capture_output=True, text=True,
                         cwd=tmp_path)
    assert bad.returncode == 1
    lines = bad.stdout.splitlines()
    assert lines[0] == f"ERROR: {data}/text:2: utt 'a-2': empty transcript (drop the utterance or give it a transcript)"
    assert lines[1].startswith(f"ERROR: {data}/wav.scp:3: utt 'b-1': missing audio file (")
    assert lines[-1] == f"{data}: FAILED: 2 error(s), 0 warning(s)"
