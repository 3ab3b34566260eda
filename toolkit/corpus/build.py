"""Build the mini_synth corpus: plan from the seed, synthesise in fresh processes, write data dirs.

The layout is documented in toolkit/bin/synth_corpus.py.
"""
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass

from toolkit.corpus import mixtures, noise
from toolkit.corpus.rng import np_rng
from toolkit.corpus.speakers import SPLIT_PREFIX, Speaker, make_speakers
from toolkit.corpus.synthesis import (MAX_SECONDS, MIN_SECONDS, PEAK_LIMIT, run_in_fresh_processes,
                                      synthesize_chunk, to_int16)
from toolkit.corpus.voices import write_espeak_data
from toolkit.data.audio_io import read_audio, write_audio
from toolkit.data.datadir import write_data_dir
from toolkit.utils.errors import ConfigError
from toolkit.utils.espeak import checked_data_path

VERSION = 2          # 2: random training voices, one held-out variant per dev/test speaker
SPLITS = ("train", "dev", "test")
TASKS = ("asr", "sep", "tts", "noise")
MIN_WORDS, MAX_WORDS = 3, 18
TTS_CHUNK = 50        # TTS utterances per synthesis process
MIX_CHUNK = 200       # mixtures per mixing process
TTS_SPEAKER = Speaker(spk_id="tts01", split="tts", accent="en-us", variant="f3", gender="f", pitch=50,
                      pitch_range=50, rate=165)


@dataclass(frozen=True)
class Size:
    speakers: dict          # split -> number of ASR speakers
    utts_per_speaker: dict  # split -> utterances per ASR speaker
    mixtures: dict          # split -> ("count", n) or ("hours", h)
    tts: dict               # split -> number of TTS utterances
    noise_clips: int        # clips per noise category
    noise_seconds: float


SIZES = {
    "tiny": Size({"train": 3, "dev": 2, "test": 2}, {"train": 3, "dev": 2, "test": 2},
                 {"train": ("count", 4), "dev": ("count", 2), "test": ("count", 2)},
                 {"train": 4, "dev": 2, "test": 2}, 1, 1.0),
    "ci": Size({"train": 10, "dev": 2, "test": 2}, {"train": 20, "dev": 20, "test": 20},
               {"train": ("count", 100), "dev": ("count", 20), "test": ("count", 20)},
               {"train": 100, "dev": 10, "test": 10}, 2, 5.0),
    "bench": Size({"train": 40, "dev": 4, "test": 4}, {"train": 90, "dev": 50, "test": 50},
                  {"train": ("hours", 3.0), "dev": ("count", 200), "test": ("count", 200)},
                  {"train": 1200, "dev": 50, "test": 50}, 6, 8.0),
}


def _set_summary(num_samples, fs, speakers):
    n = list(num_samples)
    return {"utterances": len(n), "hours": round(sum(n) / fs / 3600, 4), "speakers": len(set(speakers)),
            "min_seconds": round(min(n) / fs, 3), "max_seconds": round(max(n) / fs, 3)}


class CorpusBuilder:
    """One run: `CorpusBuilder(out_dir, size, fs, seed, nj, tasks).build()` returns the report dict."""

    def __init__(self, out_dir, size, fs, seed, nj, tasks):
        if size not in SIZES:
            raise ConfigError(f"--size must be one of {', '.join(SIZES)}, got {size!r}")
        unknown = sorted(set(tasks) - set(TASKS))
        if unknown:
            raise ConfigError(f"unknown task(s) {', '.join(unknown)} in --tasks; choose from {', '.join(TASKS)}")
        if any(c.isspace() for c in os.path.abspath(out_dir)):
            raise ConfigError(f"--out_dir {out_dir!r} contains whitespace, which wav.scp cannot hold")
        try:  # checked now rather than by the synthesis workers, after the text and voices are drawn
            checked_data_path(os.path.join(out_dir, "espeak-ng-data"))
        except ValueError as err:
            raise ConfigError(f"--out_dir {out_dir!r} is too long: espeak-ng reads its voices from "
                              f"<out_dir>/espeak-ng-data ({err})") from None
        self.out = os.path.abspath(out_dir)
        self.size, self.fs, self.seed, self.nj = SIZES[size], fs, seed, nj
        if not tasks:
            raise ConfigError(f"--tasks is empty; choose from {', '.join(TASKS)}")
        self.tasks = [t for t in TASKS if t in tasks or (t == "asr" and {"sep", "noise"} & set(tasks))]
        if "asr" in self.tasks and "asr" not in tasks:
            logging.info("tasks sep and noise are made from the ASR utterances: making asr too")
        self.report = {"settings": {"size": size, "fs": fs, "seed": seed, "nj": nj, "tasks": self.tasks,
                                    "version": VERSION},
                       "sets": {}, "seconds": {}}

    def _wav(self, set_name, name):
        return os.path.join(self.out, "wav", set_name, f"{name}.wav")

    def _set_names(self):
        names = {"asr": list(SPLITS), "sep": [f"sep_{s}" for s in SPLITS], "tts": [f"tts_{s}" for s in SPLITS],
                 "noise": ["noise"]}
        return [n for task in self.tasks for n in names[task]]

    def _clean(self):
        """Remove the outputs this run rewrites, the report first (it marks a finished corpus)."""
        report = os.path.join(self.out, "corpus_report.json")
        if os.path.exists(report):
            os.remove(report)
        for name in self._set_names():
            for folder in (os.path.join(self.out, "wav", name), os.path.join(self.out, "data", name)):
                if os.path.isdir(folder):
                    logging.info("removing previous output %s", folder)
                    shutil.rmtree(folder)

    def build(self):
        start = time.perf_counter()
        self._clean()
        speakers = make_speakers(self.seed, self.size.speakers) if "asr" in self.tasks else {}
        self.report["voices"] = {split: sorted({s.variant for s in spks}) for split, spks in speakers.items()}
        asr = self._synthesise(speakers)
        if "sep" in self.tasks:
            self._timed("mixtures", self._make_mixtures, asr)
        if "noise" in self.tasks:
            self._timed("noise", self._make_noise, asr, speakers)
        all_speakers = [s.to_dict() for split in speakers.values() for s in split]
        if "tts" in self.tasks:
            all_speakers.append(TTS_SPEAKER.to_dict())
        with open(os.path.join(self.out, "speakers.json"), "w") as f:
            json.dump(all_speakers, f, indent=1)
        self.report["seconds"]["total"] = round(time.perf_counter() - start, 2)
        tmp = os.path.join(self.out, "corpus_report.json.tmp")
        with open(tmp, "w") as f:
            json.dump(self.report, f, indent=1)
        os.replace(tmp, os.path.join(self.out, "corpus_report.json"))
        return self.report

    def _timed(self, name, func, *args):
        start = time.perf_counter()
        result = func(*args)
        self.report["seconds"][name] = round(time.perf_counter() - start, 2)
        return result

    # --- synthesis: ASR (one chunk per speaker) and TTS (chunks of TTS_CHUNK) in one pool ---

    def _utt_job(self, spk, utt, set_name):
        return {"utt": utt, "voice": spk.voice, "pitch": spk.pitch, "pitch_range": spk.pitch_range,
                "rate": spk.rate, "text_key": (self.seed, "text", utt), "path": self._wav(set_name, utt)}

    def _chunks(self, speakers):
        """[(set_name, speaker, chunk)] in plan order."""
        chunks = []
        for split, split_speakers in speakers.items():
            for spk in split_speakers:
                utts = [self._utt_job(spk, f"{spk.spk_id}-{j + 1:04d}", split)
                        for j in range(self.size.utts_per_speaker[split])]
                chunks.append((split, spk, utts))
        if "tts" in self.tasks:
            for split in SPLITS:
                utts = [self._utt_job(TTS_SPEAKER, f"{TTS_SPEAKER.spk_id}-{SPLIT_PREFIX[split]}{i + 1:05d}",
                                      f"tts_{split}") for i in range(self.size.tts[split])]
                chunks += [(f"tts_{split}", TTS_SPEAKER, utts[i:i + TTS_CHUNK])
                           for i in range(0, len(utts), TTS_CHUNK)]
        return chunks

    def _synthesise(self, speakers):
        """Synthesise every utterance and write the ASR/TTS data dirs; return {split: ASR results}."""
        chunks = self._chunks(speakers)
        random_variants = {s.variant: s.variant_text for spks in speakers.values() for s in spks if s.variant_text}
        espeak_data = write_espeak_data(self.out, random_variants) if random_variants else None
        jobs = [{"fs": self.fs, "min_words": MIN_WORDS, "max_words": MAX_WORDS, "utts": utts,
                 "espeak_data": espeak_data} for _, _, utts in chunks]
        n_utts = sum(len(job["utts"]) for job in jobs)
        logging.info("synthesising %d utterances in %d chunks with %d jobs", n_utts, len(jobs), self.nj)
        results = self._timed("synthesis", run_in_fresh_processes, synthesize_chunk, jobs, self.nj)
        by_set = {}
        for (set_name, spk, _), chunk_results in zip(chunks, results):
            by_set.setdefault(set_name, []).extend((spk, r) for r in chunk_results)
        redrawn = {name: [r["utt"] for _, r in rows if r["draws"] > 1] for name, rows in by_set.items()}
        self.report["redrawn_texts"] = {k: v for k, v in redrawn.items() if v}
        self.report["peak_limited"] = sum(r["peak_limited"] for rows in by_set.values() for _, r in rows)
        for name, utts in self.report["redrawn_texts"].items():
            logging.info("%s: redrew the text of %d utterance(s) whose audio fell outside %g..%g s: %s", name,
                         len(utts), MIN_SECONDS, MAX_SECONDS, " ".join(utts))
        logging.info("%d utterance(s) peaked above %g after resampling and were scaled down to it",
                     self.report["peak_limited"], PEAK_LIMIT)
        for set_name, rows in by_set.items():
            self._write_speech_dir(set_name, rows)
        if "train" in by_set and "test" in by_set:
            train_texts = {r["text"] for _, r in by_set["train"]}
            self.report["test_texts_in_train"] = sum(r["text"] in train_texts for _, r in by_set["test"])
        return {split: [r for _, r in by_set[split]] for split in speakers}

    def _write_speech_dir(self, set_name, rows):
        utt2spk = {r["utt"]: spk.spk_id for spk, r in rows}
        write_data_dir(os.path.join(self.out, "data", set_name),
                       wav_scp={r["utt"]: self._wav(set_name, r["utt"]) for _, r in rows},
                       utt2spk=utt2spk, text={r["utt"]: r["text"] for _, r in rows},
                       extra={"utt2num_samples": {r["utt"]: r["num_samples"] for _, r in rows},
                              "spk2gender": {spk.spk_id: spk.gender for spk, _ in rows}})
        self.report["sets"][set_name] = _set_summary((r["num_samples"] for _, r in rows), self.fs,
                                                     utt2spk.values())

    # --- separation mixtures ---

    def _make_mixtures(self, asr):
        jobs, names, sources, src_spk = [], [], {}, {}
        for split in SPLITS:
            rows = sorted(asr[split], key=lambda r: r["utt"])
            utts = [(r["utt"], r["utt"].split("-")[0], r["num_samples"]) for r in rows]
            unit, value = self.size.mixtures[split]
            target = {"count": value} if unit == "count" else {"total_samples": int(value * 3600 * self.fs)}
            plan = mixtures.plan_mixtures(utts, np_rng(self.seed, "mix", split), **target)
            set_name = f"sep_{split}"
            items = [(mix, self._wav(split, u1), self._wav(split, u2), half_db,
                      tuple(self._wav(f"{set_name}/{kind}", mix) for kind in ("mix", "s1", "s2")))
                     for mix, u1, u2, half_db in plan]
            sources[set_name] = {u.split("-")[0] for _, u1, u2, _ in plan for u in (u1, u2)}
            src_spk[set_name] = {mix: f"{u1.split('-')[0]} {u2.split('-')[0]}" for mix, u1, u2, _ in plan}
            for i in range(0, len(items), MIX_CHUNK):
                jobs.append({"fs": self.fs, "items": items[i:i + MIX_CHUNK]})
                names.append(set_name)
        logging.info("mixing %d mixtures in %d chunks", sum(len(j["items"]) for j in jobs), len(jobs))
        results = run_in_fresh_processes(mixtures.make_mixtures, jobs, self.nj)
        for split in SPLITS:
            set_name = f"sep_{split}"
            lengths = dict(item for name, done in zip(names, results) if name == set_name for item in done)
            wav = {kind: {m: self._wav(f"{set_name}/{kind}", m) for m in lengths} for kind in ("mix", "s1", "s2")}
            write_data_dir(os.path.join(self.out, "data", set_name), wav_scp=wav["mix"],
                           utt2spk={m: m for m in lengths},
                           extra={"spk1.scp": wav["s1"], "spk2.scp": wav["s2"], "utt2num_samples": lengths,
                                  "utt2src_spk": {m: src_spk[set_name][m] for m in lengths}})
            self.report["sets"][set_name] = _set_summary(lengths.values(), self.fs, sources[set_name])

    # --- noise ---

    def _make_noise(self, asr, speakers):
        n = int(round(self.size.noise_seconds * self.fs))
        talkers = self._babble_talkers(asr, speakers, n)
        wav_scp, lengths, category = {}, {}, {}
        for cat in noise.CATEGORIES:
            for i in range(self.size.noise_clips):
                clip = f"noise-{cat}-{i + 1:02d}"
                x = noise.noise_clip(cat, np_rng(self.seed, "noise", clip), n, self.fs, talkers)
                path = self._wav("noise", clip)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                write_audio(path, to_int16(x), self.fs)
                wav_scp[clip], lengths[clip], category[clip] = path, n, cat
        write_data_dir(os.path.join(self.out, "data", "noise"), wav_scp=wav_scp,
                       utt2spk={c: c for c in wav_scp},
                       extra={"utt2num_samples": lengths, "utt2category": category})
        self.report["sets"]["noise"] = _set_summary(lengths.values(), self.fs, wav_scp)

    def _babble_talkers(self, asr, speakers, n):
        """Utterances of up to BABBLE_TALKERS training speakers, each at least `n` samples in total."""
        rng = np_rng(self.seed, "babble")
        train = [s.spk_id for s in speakers["train"]]
        chosen = sorted(rng.choice(train, size=min(noise.BABBLE_TALKERS, len(train)), replace=False))
        talkers = []
        for spk in chosen:
            utterances, total = [], 0
            for r in sorted((r for r in asr["train"] if r["utt"].startswith(f"{spk}-")), key=lambda r: r["utt"]):
                utterances.append(read_audio(self._wav("train", r["utt"]), dtype="float64")[0])
                total += len(utterances[-1])
                if total >= n:
                    break
            talkers.append(utterances)
        return talkers


def finished_report(out_dir, size, fs, seed, tasks):
    """The report of a finished corpus in out_dir of this VERSION, size, fs and seed with `tasks`, else None."""
    path = os.path.join(out_dir, "corpus_report.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        report = json.load(f)
    settings = report["settings"]
    same = (settings.get("version"), settings["size"], settings["fs"], settings["seed"]) == (VERSION, size, fs, seed)
    return report if same and set(tasks) <= set(settings["tasks"]) else None


def format_summary(report):
    """The report as a small table."""
    lines = [f"{'set':<10} {'utts':>6} {'hours':>8} {'spk':>5} {'min s':>6} {'max s':>6}"]
    for name, s in report["sets"].items():
        lines.append(f"{name:<10} {s['utterances']:>6} {s['hours']:>8.3f} {s['speakers']:>5} "
                     f"{s['min_seconds']:>6.2f} {s['max_seconds']:>6.2f}")
    lines.append("seconds: " + ", ".join(f"{k} {v}" for k, v in report["seconds"].items()))
    return "\n".join(lines)
