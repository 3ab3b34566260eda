"""Text-to-speech acoustic model task: phoneme ids (token_int) -> log-mel (feats.scp).

Training data is a dump dir holding feats.scp and utt2num_frames (make_feats, logmel),
token_int (phonemes), durations (frames per phoneme, compute_durations), pitch and
energy (normalised per-phoneme values, extract_prosody). The model is FastSpeech2
(toolkit.models.tts) with --tts_conf; --cmvn normalises the mel inside the model (and
de-normalises its output); --prosody_stats (extract_prosody's JSON) lets inference turn
pitch and energy scales into the model's normalised units. Utterances are never cropped
(the durations cover whole utterances): drop long ones with the recipe's length filter. Multi-speaker corpora: tts_conf
num_speakers > 0 reads speaker ids from the data dir's utt2sid ("utt sid").
"""
import json

from toolkit.layers.global_cmvn import GlobalCMVN
from toolkit.models.tts import FastSpeech2
from toolkit.tasks import register_task
from toolkit.tasks.base import Task
from toolkit.tasks.checked_conf import checked_conf
from toolkit.text.token_list import read_token_list
from toolkit.utils.config import add_dict_option, str_or_none
from toolkit.utils.errors import ConfigError


@register_task
class TTSTask(Task):
    name = "tts"
    pad_values = {"text": -1}

    @classmethod
    def add_arguments(cls, parser):
        group = parser.add_argument_group("tts task")
        group.add_argument("--token_list", help="phoneme list (tokens.txt of train_tokenizer --token_type phn)")
        group.add_argument("--feat_conf", help="the logmel yaml the features were made with (rate, hop for synthesis)")
        group.add_argument("--cmvn", type=str_or_none, default=None,
                           help="global CMVN stats of the mel features (compute_cmvn_stats); none: raw log-mel")
        group.add_argument("--prosody_stats", type=str_or_none, default=None,
                           help="extract_prosody's stats JSON (log-F0 mean/std for pitch control at inference)")
        add_dict_option(group, "tts_conf", help="FastSpeech2 options (adim, elayers, ..., num_speakers)")

    @classmethod
    def data_fields(cls, args, train):
        fields = {"text": ("token_int", "ints"), "feats": ("feats.scp", "feats"),
                  "durations": ("durations", "ints"), "pitch": ("pitch", "floats"), "energy": ("energy", "floats")}
        if (args.tts_conf or {}).get("num_speakers", 0):
            fields["sids"] = ("utt2sid", "ints")
        return fields

    @classmethod
    def build_model(cls, args):
        if not args.token_list:
            raise ConfigError("--token_list is required for --task tts")
        vocab = len(read_token_list(args.token_list))
        normalize = GlobalCMVN.from_file(args.cmvn) if args.cmvn else None
        conf = checked_conf("tts_conf", FastSpeech2, args.tts_conf,
                            {"vocab_size", "normalize", "pitch_stats", "energy_stats"})
        if normalize is not None:
            conf.setdefault("odim", normalize.dim)
        stats = {}
        if args.prosody_stats:
            with open(args.prosody_stats, encoding="utf-8") as f:
                stats = json.load(f)
        return FastSpeech2(vocab, normalize=normalize, pitch_stats=stats.get("pitch"),
                           energy_stats=stats.get("energy"), **conf)
