"""Sentencepiece subword tokens (bpe or unigram): training, tokenising, token list."""
import io
import logging
import os

import sentencepiece as spm

from toolkit.text.cleaners import get_cleaner
from toolkit.text.token_list import BLANK, SOS_EOS, UNK
from toolkit.utils.errors import ConfigError, DataError

TRAIN_THREADS = 16  # fixed: the unigram vocabulary depends on the thread count


def train_sentencepiece(texts, model_path, vocab_size, model_type="unigram", character_coverage=1.0,
                        input_sentence_size=10_000_000, user_defined_symbols=(), seed=1):
    """Train a model on the sentences `texts` and write it to `model_path`.

    Deterministic for the same input and options. The only special piece is `<unk>`
    (id 0, decoded as '<unk>'); the normalisation is the identity, so
    decode(encode(text)) gives the text back up to runs of whitespace: clean text
    with a cleaner. Corpora longer than `input_sentence_size` lines are sampled.
    `character_coverage`: 1.0 for alphabets, 0.9995 for large character sets (Mandarin);
    the rarest characters left out become `<unk>`.
    """
    texts = list(texts)
    if len(texts) > input_sentence_size:
        logging.info("sentencepiece trains on a random sample of %d of %d sentences (--input_sentence_size)",
                     input_sentence_size, len(texts))
    longest = max(len(t.encode("utf-8")) for t in texts)
    model = io.BytesIO()
    spm.set_random_generator_seed(seed)
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(texts), model_writer=model, vocab_size=vocab_size, model_type=model_type,
            character_coverage=character_coverage, input_sentence_size=input_sentence_size,
            shuffle_input_sentence=True, max_sentence_length=max(4192, longest + 1),
            user_defined_symbols=list(user_defined_symbols), normalization_rule_name="identity",
            unk_id=0, unk_piece=UNK, unk_surface=UNK, bos_id=-1, eos_id=-1, pad_id=-1,
            num_threads=TRAIN_THREADS, minloglevel=2)
    except RuntimeError as err:
        raise ConfigError(f"sentencepiece training failed ({model_type}, vocabulary {vocab_size}): {err}; "
                          f"for a vocabulary size error lower --nbpe") from None
    os.makedirs(os.path.dirname(os.path.abspath(model_path)), exist_ok=True)
    tmp = f"{model_path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(model.getvalue())
    os.replace(tmp, model_path)


def _load(model_path):
    if not os.path.isfile(model_path):
        raise DataError(f"{model_path}: no such sentencepiece model; train one with "
                        f"`python -m toolkit.bin.train_tokenizer --token_type bpe`")
    return spm.SentencePieceProcessor(model_file=str(model_path))


def sentencepiece_token_list(model_path):
    """`<blank>`, `<unk>`, the model's pieces in model order, `<sos/eos>`.

    The model's own unknown and control pieces (`<unk>`, `<s>`, `</s>`) are not repeated.
    """
    sp = _load(model_path)
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())
              if not (sp.is_unknown(i) or sp.is_control(i))]
    clash = sorted({BLANK, UNK, SOS_EOS} & set(pieces))
    if clash:
        raise DataError(f"{model_path}: the model has pieces {clash} that our token list reserves; "
                        f"retrain without them as user-defined symbols")
    return [BLANK, UNK, *pieces, SOS_EOS]


class SentencepieceTokenizer:
    """'hello world' -> ['▁he', 'llo', '▁world'] by a trained model file.

    A character the model does not know comes back as itself (so decoding gives
    the text back); it is not in the token list, so it maps to the `<unk>` id.
    """

    def __init__(self, bpemodel, cleaner="none"):
        self.bpemodel = str(bpemodel)
        self.cleaner = get_cleaner(cleaner)
        self.processor = _load(self.bpemodel)

    def text2tokens(self, text):
        return self.processor.encode(self.cleaner(text), out_type=str)

    def tokens2text(self, tokens):
        return self.processor.decode_pieces(list(tokens))
