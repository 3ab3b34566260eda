"""Offline espeak-ng through the library shipped by `espeakng-loader` (ctypes).

espeak-ng keeps global state, so one process holds one engine: use separate
processes (not threads) for parallel synthesis. The engine's data dir is fixed
by the process's first call (espeakng-loader's, or a `data_path` such as a
corpus's copy with extra voice variants); asking for another one later is an error.
"""
import ctypes
import os
import threading

import numpy as np

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_CHARS_UTF8 = 1
_PHONEMES_IPA = 0x02
_PARAM = {"rate": 1, "volume": 2, "pitch": 3, "range": 4, "wordgap": 7}
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

MAX_DATA_PATH = 159  # espeak-ng 1.52 keeps the data path in 160 bytes and cuts a longer one silently
_lock = threading.Lock()
_engine = {}


def variant_path(data_path, variant):
    """The file of voice variant `variant` in the espeak-ng-data dir `data_path`."""
    return os.path.join(data_path, "voices", "!v", variant)


def checked_data_path(data_path):
    """`data_path` resolved; ValueError when it is longer than espeak-ng can hold (MAX_DATA_PATH bytes)."""
    data_path = os.path.realpath(data_path)
    if len(os.fsencode(data_path)) > MAX_DATA_PATH:
        raise ValueError(f"espeak-ng data path {data_path} is longer than {MAX_DATA_PATH} bytes, which espeak-ng "
                         f"would cut short; use a shorter output directory")
    return data_path


def _lib(data_path=None):
    """Load and initialise libespeak-ng once per process; return (lib, sample_rate).

    data_path: an espeak-ng-data dir; None means the one already in use, else the
    one espeakng-loader ships.
    """
    import espeakng_loader

    data_path = checked_data_path(data_path or _engine.get("data_path") or espeakng_loader.get_data_path())
    if "lib" in _engine and _engine["data_path"] != data_path:
        raise RuntimeError(f"espeak-ng was initialised with data path {_engine['data_path']}; one process "
                           f"holds one engine, so synthesise from {data_path} in another process")
    if "lib" not in _engine:
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), 0)
        if rate <= 0:
            raise RuntimeError(f"espeak-ng failed to initialise (data path {data_path})")
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        _engine.update(lib=lib, rate=rate, chunks=[], data_path=data_path)

        def collect(wav, numsamples, events):
            if numsamples > 0:
                _engine["chunks"].append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
            return 0

        _engine["callback"] = _CALLBACK(collect)  # keep a reference: the library holds a raw pointer
        lib.espeak_SetSynthCallback(_engine["callback"])
    return _engine["lib"], _engine["rate"]


def _set_voice(lib, voice):
    variant = voice.partition("+")[2]
    if variant and not os.path.isfile(variant_path(_engine["data_path"], variant)):
        # espeak-ng would silently speak without the variant (numeric shorthands like 'en+3' are refused too)
        raise ValueError(f"espeak-ng has no variant {variant!r} (voice {voice!r}) in "
                         f"{_engine['data_path']}/voices/!v")
    if lib.espeak_SetVoiceByName(voice.encode()) != 0:
        raise ValueError(f"espeak-ng has no voice {voice!r}; use a language code such as 'en-us', "
                         f"optionally with a variant: 'en-us+f3'")


def synthesize(text, voice="en-us", rate=175, pitch=50, pitch_range=50, wordgap=0, seed=0, data_path=None):
    """Speak `text`; return (int16 samples, sample rate). rate in words/min, pitch/range 0..100.

    data_path: espeak-ng-data dir to use (e.g. one with extra variants); the first
    call of a process fixes it (None: the one in use, else espeakng-loader's).

    The engine keeps state across calls (its pitch flutter runs on), so the samples
    depend on what this process synthesised before. For reproducible audio,
    synthesise a fixed sequence of utterances in a fresh process (e.g. a
    multiprocessing pool with maxtasksperchild=1 whose parent never synthesises).
    """
    with _lock:
        lib, sample_rate = _lib(data_path)
        _set_voice(lib, voice)
        for name, value in (("rate", rate), ("pitch", pitch), ("range", pitch_range), ("wordgap", wordgap)):
            lib.espeak_SetParameter(_PARAM[name], int(value), 0)
        lib.espeak_ng_SetRandSeed(int(seed))  # the engine draws random numbers; reseed per utterance
        _engine["chunks"] = []
        data = text.encode("utf-8") + b"\0"
        if lib.espeak_Synth(data, len(data), 0, 1, 0, _CHARS_UTF8, None, None) != 0:
            raise RuntimeError(f"espeak-ng could not synthesise {text!r}")
        lib.espeak_Synchronize()
        chunks = _engine["chunks"]
        audio = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
    return audio.astype(np.int16), sample_rate


def phonemize(text, voice="en-us"):
    """IPA phonemes of `text`: a list of clauses, each a list of words, each a list of phonemes.

    Punctuation splits clauses; phoneme strings keep stress marks and length marks
    (e.g. 'ˈoʊ', 'ɜː'), so they are tokens as they stand.
    """
    mode = _PHONEMES_IPA | (ord(" ") << 8)
    with _lock:
        lib, _ = _lib()
        _set_voice(lib, voice)
        pointer = ctypes.pointer(ctypes.c_char_p(text.encode("utf-8")))
        clauses = []
        while pointer.contents.value:
            out = lib.espeak_TextToPhonemes(pointer, _CHARS_UTF8, mode)
            words = [w.split() for w in (out or b"").decode("utf-8").split("  ")]
            words = [w for w in words if w]
            if words:
                clauses.append(words)
    return clauses
