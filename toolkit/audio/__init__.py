"""Audio preparation: rate conversion, channel downmix, level normalisation, silence trimming and slicing.

    resample.py  resample (torchaudio sinc), downmix (mean / left / right)
    levels.py    RMS dBFS, BS.1770 loudness (LUFS), gain to a target with peak limiting
    silence.py   frame energy, silent runs, leading/trailing trim bounds
    slicing.py   cut long recordings at silences into segments of at most N seconds

Signals are numpy float arrays shaped [time] or [time, channel] as read_audio returns them.
"""
