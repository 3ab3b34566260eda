"""Language model task: next-token prediction on token_int (for shallow fusion in ASR)."""
from toolkit.models.lm.rnn_lm import RNNLM
from toolkit.tasks import register_task
from toolkit.tasks.base import Task, lengths_from_file
from toolkit.text.token_list import read_token_list
from toolkit.utils.config import add_dict_option


@register_task
class LMTask(Task):
    name = "lm"
    pad_values = {"text": -1}

    @classmethod
    def add_arguments(cls, parser):
        parser.add_argument("--token_list", required=False, help="token list (tokens.txt) defining the vocabulary")
        add_dict_option(parser, "model_conf", default={"embed_dim": 128, "hidden_dim": 256, "num_layers": 2,
                                                       "dropout": 0.1},
                        help="RNNLM options: embed_dim, hidden_dim, num_layers, dropout")

    @classmethod
    def data_fields(cls, args, train):
        return {"text": ("token_int", "ints")}

    @classmethod
    def lengths(cls, args, data_dir):
        return lengths_from_file(data_dir, "token_int", count_fields=True)

    @classmethod
    def build_model(cls, args):
        vocab_size = len(read_token_list(args.token_list))
        return RNNLM(vocab_size, **args.model_conf)
