"""Speech recognition task: hybrid CTC/attention on dumped features (feats.scp) and token ids (token_int).

The feature dimension comes from the CMVN stats (--cmvn) or, without them, from the
first matrix of the training feats.scp. The model is toolkit.models.asr.ASRModel:
--encoder conformer|transformer with --encoder_conf, --decoder transformer|none with
--decoder_conf, --ctc_conf, --model_conf (ctc_weight, lsm_weight,
length_normalized_loss) and --specaug_conf (toolkit.data.augment.SpecAugment options;
empty: no SpecAugment).
"""
import inspect
import logging
import os

import kaldiio

from toolkit.data.augment import build_specaug
from toolkit.data.augment.conf import check_keys
from toolkit.data.tables import iter_table
from toolkit.layers.global_cmvn import GlobalCMVN
from toolkit.models.asr import CTC, ENCODERS, ASRModel, TransformerDecoder
from toolkit.tasks import register_task
from toolkit.tasks.base import Task
from toolkit.text.token_list import BLANK, SOS_EOS, read_token_list
from toolkit.utils.config import add_dict_option, str_or_none
from toolkit.utils.errors import ConfigError, DataError

DECODERS = {"transformer": TransformerDecoder, "none": None}


def _checked(where, cls, conf, skip):
    """conf after checking its keys against cls's constructor (minus the arguments the task passes)."""
    params = [name for name in inspect.signature(cls).parameters if name not in skip]
    check_keys(where, conf, params)
    return dict(conf)


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

    @classmethod
    def data_fields(cls, args, train):
        return {"speech": ("feats.scp", "feats"), "text": ("token_int", "ints")}

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
        input_size = normalize.dim if normalize is not None else _feature_dim(args.train_data_dir)
        encoder_class = ENCODERS[args.encoder]
        encoder = encoder_class(input_size, **_checked("encoder_conf", encoder_class, args.encoder_conf,
                                                       {"input_size"}))
        model_conf = _checked("model_conf", ASRModel, args.model_conf,
                              {"vocab_size", "encoder", "decoder", "ctc", "normalize", "specaug", "token_list"})
        ctc_weight = model_conf.get("ctc_weight", 0.3)
        decoder = None
        if args.decoder != "none" and ctc_weight == 1.0:
            logging.info("ctc_weight 1.0: CTC only, no %s decoder", args.decoder)
        elif args.decoder != "none":
            decoder = TransformerDecoder(vocab, encoder.output_size, **_checked(
                "decoder_conf", TransformerDecoder, args.decoder_conf, {"vocab_size", "encoder_output_size"}))
        ctc = None
        if ctc_weight > 0.0:
            ctc = CTC(vocab, encoder.output_size, **_checked("ctc_conf", CTC, args.ctc_conf,
                                                              {"vocab_size", "encoder_output_size"}))
        return ASRModel(vocab, encoder, decoder, ctc, normalize, build_specaug(args.specaug_conf),
                        token_list=tokens, **model_conf)


def _feature_dim(data_dir):
    """Columns of the first matrix in data_dir/feats.scp."""
    path = os.path.join(data_dir, "feats.scp")
    for _, _, value in iter_table(path):
        return kaldiio.load_mat(value).shape[1]
    raise DataError(f"{path}: empty; cannot tell the feature dimension (or give --cmvn)")
