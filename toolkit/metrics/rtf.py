"""Real-time factor files (rtf.json) written by inference jobs and summed by merge_inference."""
import json
import os


def write_rtf(out_dir, num_utts, audio_seconds, decode_seconds):
    """Write out_dir/rtf.json (rtf = decode seconds / audio seconds) and return its dict."""
    rtf = {"num_utts": num_utts, "audio_seconds": audio_seconds, "decode_seconds": decode_seconds,
           "rtf": decode_seconds / max(audio_seconds, 1e-9)}
    with open(os.path.join(out_dir, "rtf.json"), "w", encoding="utf-8") as f:
        json.dump(rtf, f, indent=2)
    return rtf
