"""Speech separation task: mixture audio (wav.scp) -> num_spks sources (spk1.scp .. spkN.scp).

--separator conv_tasnet|dprnn|mossformer2 with --separator_conf (toolkit.models.sep),
--num_spks, --fs (every training/validation file must have this rate: a mismatch is an
error, never a silent resample) and --loss_conf (kind: si_snr|snr|sd_sdr, threshold: dB per
utterance, see toolkit.losses.sep). Batches are sampled by utt2num_samples; for training,
--max_length (samples) with --length_policy crop cuts longer mixtures and their sources
at one random offset per epoch; validation always uses full-length utterances.
--dynamic_mixing (e.g. `{prob: 1.0, max_level_db: 5}`) remixes every training example from
sources drawn across the training set (toolkit.data.augment.dynamic_mixing).
"""
import os

from toolkit.data.augment.dynamic_mixing import build_dynamic_mixing
from toolkit.data.datadir import DataDir
from toolkit.data.sample_rates import check_sample_rates
from toolkit.models.sep import SEPARATORS, build_separator
from toolkit.models.sep.model import SepModel
from toolkit.tasks import register_task
from toolkit.tasks.base import Task, lengths_from_file
from toolkit.data.augment.conf import check_keys
from toolkit.utils.config import add_dict_option
from toolkit.utils.errors import ConfigError, DataError


@register_task
class SepTask(Task):
    name = "sep"

    @classmethod
    def add_arguments(cls, parser):
        group = parser.add_argument_group("sep task")
        group.add_argument("--separator", choices=sorted(SEPARATORS), default="conv_tasnet")
        add_dict_option(group, "separator_conf", help="separator network options (see toolkit/models/sep)")
        group.add_argument("--num_spks", type=int, default=2, help="sources per mixture (spk1.scp .. spkN.scp)")
        group.add_argument("--fs", type=int, default=None, help="sample rate of all audio (checked)")
        add_dict_option(group, "loss_conf", default={"kind": "si_snr"},
                        help="kind: si_snr|snr|sd_sdr; threshold: utterances with a loss below it (dB) are left "
                             "out of the batch mean")
        add_dict_option(group, "dynamic_mixing", default=None,
                        help="training mixtures remixed on the fly: prob, max_level_db, peak, speed_factors "
                             "(empty: off)")

    @classmethod
    def ref_fields(cls, args):
        return [f"speech_ref{i + 1}" for i in range(args.num_spks)]

    @classmethod
    def data_fields(cls, args, train):
        fields = {"speech_mix": ("wav.scp", "audio")}
        fields.update({name: (f"spk{i + 1}.scp", "audio") for i, name in enumerate(cls.ref_fields(args))})
        return fields

    @classmethod
    def crop_fields(cls, args):
        return ("speech_mix", *cls.ref_fields(args))

    @classmethod
    def lengths(cls, args, data_dir):
        if not os.path.isfile(os.path.join(data_dir, "utt2num_samples")):
            raise DataError(f"{data_dir}/utt2num_samples: missing (the batch sampler needs it); "
                            f"write it with utils/fix_data_dir.sh or the recipe's format stage")
        return lengths_from_file(data_dir, "utt2num_samples")

    @classmethod
    def build_transform(cls, args, data_dir, train):
        if not train:
            return None
        return build_dynamic_mixing(getattr(args, "dynamic_mixing", None), DataDir(data_dir), args.num_spks,
                                    args.fs, "speech_mix", cls.ref_fields(args))

    @classmethod
    def build_dataset(cls, args, data_dir, train):
        check_sample_rates(data_dir, [f for f, _ in cls.data_fields(args, train).values()], args.fs)
        return super().build_dataset(args, data_dir, train)

    @classmethod
    def build_model(cls, args):
        if args.num_spks < 1:
            raise ConfigError(f"--num_spks must be >= 1, got {args.num_spks}")
        loss_conf = dict(getattr(args, "loss_conf", None) or {"kind": "si_snr"})
        check_keys("loss_conf", loss_conf, ("kind", "threshold"))
        conf = dict(args.separator_conf or {})
        if "num_spks" in conf and conf["num_spks"] != args.num_spks:
            raise ConfigError(f"separator_conf num_spks {conf['num_spks']} != --num_spks {args.num_spks}")
        conf["num_spks"] = args.num_spks
        return SepModel(build_separator(args.separator, conf), args.num_spks, loss_conf.get("kind", "si_snr"),
                        loss_conf.get("threshold"))
