"""Speech recognition task: hybrid CTC/attention on features and token ids (token_int).

Features are read from the data dirs' feats.scp (dumped by make_feats) or, with
--frontend_conf (a feature config: feat_type fbank|mfcc and torchaudio.compliance.kaldi
options, make_feats' --feat_conf with feat_type set), computed inside the model from the
audio of wav.scp (segments honoured; every file must have the config's sample rate).
Batches are sampled by frames either way: with a frontend the frame counts come from
utt2num_samples through the feature config, so --batch_bins (padded frames x utterances),
--max_length and --min_length mean the same for audio as for dumped features.
The feature dimension comes from the CMVN stats (--cmvn), else the frontend, else the
first matrix of the training feats.scp. The model is toolkit.models.asr.ASRModel:
--encoder conformer|transformer with --encoder_conf, --decoder transformer|none with
--decoder_conf, --ctc_conf, --model_conf (ctc_weight, lsm_weight,
length_normalized_loss) and --specaug_conf (toolkit.data.augment.SpecAugment options;
empty: no SpecAugment).
"""
import logging
import os

import kaldiio

from toolkit.data.augment import build_specaug
from toolkit.data.sample_rates import check_sample_rates
from toolkit.data.tables import iter_table
from toolkit.layers.frontend import Frontend
from toolkit.layers.global_cmvn import GlobalCMVN
from toolkit.models.asr import CTC, ENCODERS, ASRModel, TransformerDecoder
from toolkit.tasks import register_task
from toolkit.tasks.base import Task, lengths_from_file
from toolkit.tasks.checked_conf import checked_conf
from toolkit.text.token_list import BLANK, SOS_EOS, read_token_list
from toolkit.utils.config import add_dict_option, str_or_none
from toolkit.utils.errors import ConfigError, DataError

DECODERS = {"transformer": TransformerDecoder, "none": None}


@register_task
class ASRTask(Task):
    name = "asr"
    pad_values = {"text": -1}

    @classmethod
    def add_arguments(cls, parser):
        group = parser.add_argument_group("asr task")
        group.add_argument("--token_list", help="token list (tokens.txt): <blank> first, <sos/eos> last")
        group.add_argument("--cmvn", type=str_or_none, default=None,
                           help="global CMVN stats (cmvn.ark from compute_cmvn_stats) applied inside the model; "
                                "none: features used as they are")
        group.add_argument("--encoder", choices=sorted(ENCODERS), default="conformer")
        add_dict_option(group, "encoder_conf", help="encoder options (output_size, num_blocks, ...)")
        group.add_argument("--decoder", choices=sorted(DECODERS), default="transformer")
        add_dict_option(group, "decoder_conf", help="decoder options (attention_heads, num_blocks, ...)")
        add_dict_option(group, "ctc_conf", help="CTC head options: dropout_rate, smoothing")
        add_dict_option(group, "model_conf", default={"ctc_weight": 0.3, "lsm_weight": 0.1},
                        help="ctc_weight, lsm_weight, length_normalized_loss")
        add_dict_option(group, "specaug_conf", help="SpecAugment: time_warp, freq_mask, time_mask, fill")
        add_dict_option(group, "frontend_conf",
                        help="features computed inside the model from wav.scp audio: a feature config "
                             "(feat_type fbank|mfcc, channel, torchaudio.compliance.kaldi options); "
                             "empty: the data dirs' dumped feats.scp")

    @classmethod
    def frontend(cls, args):
        """The Frontend of --frontend_conf, or None (dumped features; also configs saved before the option)."""
        conf = getattr(args, "frontend_conf", None)
        return Frontend(conf) if conf else None

    @classmethod
    def data_fields(cls, args, train):
        speech = ("wav.scp", "audio") if getattr(args, "frontend_conf", None) else ("feats.scp", "feats")
        return {"speech": speech, "text": ("token_int", "ints")}

    @classmethod
    def build_dataset(cls, args, data_dir, train):
        frontend = cls.frontend(args)
        if frontend is not None:
            check_sample_rates(data_dir, ["wav.scp"], frontend.sample_rate)
        return super().build_dataset(args, data_dir, train)

    @classmethod
    def lengths(cls, args, data_dir):
        """{utt: frames}: utt2num_frames, or with a frontend utt2num_samples converted to frames."""
        frontend = cls.frontend(args)
        if frontend is None:
            return super().lengths(args, data_dir)
        if not os.path.isfile(os.path.join(data_dir, "utt2num_samples")):
            raise DataError(f"{data_dir}/utt2num_samples: missing (batches of audio are sized by it); write it "
                            f"with python -m toolkit.bin.prepare_audio or the corpus preparation")
        return {utt: frontend.num_frames(n) for utt, n in lengths_from_file(data_dir, "utt2num_samples").items()}

    @classmethod
    def build_model(cls, args):
        if not args.token_list:
            raise ConfigError("--token_list is required for --task asr")
        tokens = read_token_list(args.token_list)
        if tokens[0] != BLANK or tokens[-1] != SOS_EOS:
            raise ConfigError(f"{args.token_list}: must start with {BLANK} and end with {SOS_EOS} "
                              f"(make it with python -m toolkit.bin.train_tokenizer)")
        vocab = len(tokens)
        normalize = GlobalCMVN.from_file(args.cmvn) if args.cmvn else None
        frontend = cls.frontend(args)
        input_size = _input_size(normalize, frontend, args)
        encoder_class = ENCODERS[args.encoder]
        encoder = encoder_class(input_size, **checked_conf("encoder_conf", encoder_class, args.encoder_conf,
                                                       {"input_size"}))
        model_conf = checked_conf("model_conf", ASRModel, args.model_conf,
                              {"vocab_size", "encoder", "decoder", "ctc", "normalize", "specaug", "token_list",
                               "frontend"})
        ctc_weight = model_conf.get("ctc_weight", 0.3)
        decoder = None
        if args.decoder != "none" and ctc_weight == 1.0:
            logging.info("ctc_weight 1.0: CTC only, no %s decoder", args.decoder)
        elif args.decoder != "none":
            decoder = TransformerDecoder(vocab, encoder.output_size, **checked_conf(
                "decoder_conf", TransformerDecoder, args.decoder_conf, {"vocab_size", "encoder_output_size"}))
        ctc = None
        if ctc_weight > 0.0:
            ctc = CTC(vocab, encoder.output_size, **checked_conf("ctc_conf", CTC, args.ctc_conf,
                                                              {"vocab_size", "encoder_output_size"}))
        return ASRModel(vocab, encoder, decoder, ctc, normalize, build_specaug(args.specaug_conf),
                        token_list=tokens, frontend=frontend, **model_conf)


def _input_size(normalize, frontend, args):
    """Feature dimension from the CMVN stats, the frontend or the training features; they must agree."""
    if frontend is None:
        return normalize.dim if normalize is not None else _feature_dim(args.train_data_dir)
    if normalize is not None and normalize.dim != frontend.output_size:
        raise ConfigError(f"{args.cmvn}: stats of dimension {normalize.dim}, but --frontend_conf computes "
                          f"{frontend.output_size}-dimensional features; compute the stats through the same "
                          f"config (compute_cmvn_stats --wav_scp ... --feat_conf ...)")
    return frontend.output_size


def _feature_dim(data_dir):
    """Columns of the first matrix in data_dir/feats.scp."""
    path = os.path.join(data_dir, "feats.scp")
    for _, _, value in iter_table(path):
        return kaldiio.load_mat(value).shape[1]
    raise DataError(f"{path}: empty; cannot tell the feature dimension (or give --cmvn)")
