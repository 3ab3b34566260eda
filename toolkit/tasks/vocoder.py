"""Vocoder task: HiFi-GAN trained as a GAN (generator and discriminator optimizers) on audio.

The model computes its input log-mel from the audio with the feature config the
acoustic model's features were dumped with (--feat_conf, a make_feats logmel yaml), so a
vocoder trained here renders that model's output. Training uses random fixed-length
segments (--length_policy crop --max_length SAMPLES, a multiple of the hop), validation
full utterances. --vocoder_conf: generator (v1|v2|v3 or a mapping), generator_conf
(overrides), loss weights (see toolkit.models.vocoder.model.HiFiGANModel).
"""
from toolkit.data.sample_rates import check_sample_rates
from toolkit.models.vocoder import HiFiGANModel
from toolkit.tasks import register_task
from toolkit.tasks.base import Task, lengths_from_file
from toolkit.tasks.checked_conf import checked_conf
from toolkit.utils.config import add_dict_option, load_config
from toolkit.utils.errors import ConfigError


@register_task
class VocoderTask(Task):
    name = "vocoder"

    @classmethod
    def add_arguments(cls, parser):
        group = parser.add_argument_group("vocoder task")
        group.add_argument("--feat_conf", help="the logmel feature yaml of the acoustic model's features")
        add_dict_option(group, "vocoder_conf", help="HiFi-GAN options (generator, loss weights, ...)")

    @classmethod
    def data_fields(cls, args, train):
        return {"speech": ("wav.scp", "audio")}

    @classmethod
    def crop_fields(cls, args):
        return ("speech",)

    @classmethod
    def lengths(cls, args, data_dir):
        return lengths_from_file(data_dir, "utt2num_samples")

    @classmethod
    def build_dataset(cls, args, data_dir, train):
        check_sample_rates(data_dir, ["wav.scp"], mel_conf(args).get("sample_rate", 22050))
        return super().build_dataset(args, data_dir, train)

    @classmethod
    def build_model(cls, args):
        mel = mel_conf(args)
        conf = checked_conf("vocoder_conf", HiFiGANModel, args.vocoder_conf, {"mel_conf"})
        return HiFiGANModel(mel_conf=mel, **conf)


def mel_conf(args):
    """LogMel options of --feat_conf (ConfigError if it is missing or not logmel)."""
    if not args.feat_conf:
        raise ConfigError("--feat_conf (the logmel feature yaml) is required for --task vocoder")
    mel = dict(load_config(args.feat_conf))
    if mel.pop("feat_type", "logmel") != "logmel":
        raise ConfigError(f"{args.feat_conf}: a vocoder needs logmel features")
    mel.pop("channel", None)
    return mel
