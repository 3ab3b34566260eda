"""Load a trained ASR experiment (config.yaml + checkpoint) and decode feature (or audio) batches to text.

A model trained with a frontend (--frontend_conf, saved in config.yaml) takes padded audio
[batch, samples] at `sample_rate` and computes its features itself; one trained on dumped
features takes features [batch, frames, dim] (`sample_rate` is None).

Modes: ctc_greedy (batched), ctc_prefix_beam, attention (joint CTC/attention beam
search, optional LM shallow fusion) and attention_rescoring (CTC prefix n-best rescored
by the decoder, WeNet's mode).
"""
import argparse
import os

import torch

from toolkit.decode.beam_search import beam_search
from toolkit.decode.ctc_greedy import ctc_greedy
from toolkit.decode.ctc_prefix_beam import ctc_prefix_beam_search
from toolkit.decode.lm_adapter import RNNLMStep
from toolkit.decode.rescoring import attention_rescoring
from toolkit.tasks.experiment import load_experiment
from toolkit.text.build import build_tokenizer, tokenizer_conf
from toolkit.utils.config import load_config
from toolkit.utils.errors import ConfigError

MODES = ("ctc_greedy", "ctc_prefix_beam", "attention", "attention_rescoring")


def load_tokenizer(token_list):
    """The tokenizer train_tokenizer saved beside `token_list` (tokenizer.yaml)."""
    conf = load_config(os.path.join(os.path.dirname(token_list), "tokenizer.yaml"))
    return build_tokenizer(conf["token_type"], **tokenizer_conf(argparse.Namespace(**conf), conf.get("bpemodel")))


class Speech2Text:
    """`decode(speech, speech_lengths) -> [token id list]` and `to_text(ids)`."""

    def __init__(self, model_dir, checkpoint, mode="attention", beam=10, ctc_weight=0.3, lm_dir=None,
                 lm_checkpoint="valid.loss.best.pth", lm_weight=0.0, penalty=0.0, maxlenratio=0.0,
                 minlenratio=0.0, device="cpu"):
        if mode not in MODES:
            raise ConfigError(f"decoding mode {mode!r} is not one of {', '.join(MODES)}")
        self.model, args = load_experiment(model_dir, checkpoint, device)
        self.tokens = self.model.token_list
        self.sample_rate = self.model.frontend.sample_rate if self.model.frontend is not None else None
        self.tokenizer = load_tokenizer(args.token_list)
        self.mode, self.beam, self.ctc_weight = mode, beam, ctc_weight
        self.penalty, self.maxlenratio, self.minlenratio = penalty, maxlenratio, minlenratio
        self.device = device
        if mode in ("attention", "attention_rescoring") and self.model.decoder is None:
            raise ConfigError(f"mode {mode} needs the attention decoder; this model is CTC only")
        if mode != "attention" and self.model.ctc is None:
            raise ConfigError(f"mode {mode} needs the CTC head; this model has none")
        self.lm, self.lm_weight = None, lm_weight
        if lm_dir is not None and lm_weight > 0:
            self.lm, _ = load_experiment(lm_dir, lm_checkpoint, device)

    def to_text(self, ids):
        return self.tokenizer.tokens2text([self.tokens[i] for i in ids])

    @torch.no_grad()
    def decode(self, speech, speech_lengths):
        """Best token id sequence for each utterance of a padded feature batch (audio with a frontend)."""
        speech, speech_lengths = speech.to(self.device), speech_lengths.to(self.device)
        enc, enc_lens = self.model.encode(speech, speech_lengths)
        if self.mode == "ctc_greedy":
            return ctc_greedy(self.model.ctc.log_softmax(enc), enc_lens)
        results = []
        for i in range(enc.shape[0]):
            memory = enc[i:i + 1, : enc_lens[i]]
            ctc_logp = self.model.ctc.log_softmax(memory)[0] if self.model.ctc is not None else None
            if self.mode == "ctc_prefix_beam":
                results.append(ctc_prefix_beam_search(ctc_logp, beam=self.beam)[0][0])
            elif self.mode == "attention":
                results.append(self._attention(memory, ctc_logp))
            else:
                nbest = ctc_prefix_beam_search(ctc_logp, beam=self.beam)
                best = attention_rescoring(nbest, memory, self._decoder_log_probs, self.ctc_weight, eos=self.model.eos)
                results.append(best[0].tokens)
        return results

    def _decoder_log_probs(self, tokens, lengths, memory, memory_mask):
        """The decoder_forward rescoring expects: teacher-forced log-probs [N, L, V]."""
        memory_lens = torch.full((memory.shape[0],), memory.shape[1], device=memory.device)
        return self.model.decoder(memory, memory_lens, tokens, lengths).log_softmax(-1)

    def _attention(self, memory, ctc_logp):
        use_ctc = self.ctc_weight > 0 and ctc_logp is not None
        nbest = beam_search(memory, self.model.decoder.forward_one_step, ctc_logp if use_ctc else None,
                            beam=self.beam, ctc_weight=self.ctc_weight if use_ctc else 0.0,
                            lm_step=RNNLMStep(self.lm) if self.lm is not None else None, lm_weight=self.lm_weight,
                            length_penalty=self.penalty, maxlenratio=self.maxlenratio, minlenratio=self.minlenratio,
                            eos=self.model.eos)
        return list(nbest[0].tokens)
