"""Hybrid CTC/attention ASR model (ESPnet's ESPnetASRModel) on dumped features or on audio.

    [audio -> frontend] -> feats -> global CMVN -> SpecAugment (training only) -> encoder -> CTC head
                                                                                       -> attention decoder

With a frontend (toolkit.layers.frontend.Frontend) `speech` is padded audio [batch, samples]
and the features are computed inside the model; without, `speech` is features [batch, T, dim].

loss = ctc_weight * loss_ctc + (1 - ctc_weight) * loss_att, both per utterance (summed
over the batch, divided by its size; loss_att by the number of tokens instead when
length_normalized_loss). The decoder reads <sos/eos> + text and predicts text + <sos/eos>;
<sos/eos> is the last token id and <blank> (CTC) id 0, as in toolkit.text.token_list.
Stats: loss, loss_ctc, loss_att, acc (decoder token accuracy, teacher forced) and,
in eval mode with a token list, cer_ctc (greedy CTC character error rate, spaces
ignored). The batch weight is its number of utterances.
"""
import torch
from torch import nn
from torchaudio.functional import edit_distance

from toolkit.layers.masks import valid_mask
from toolkit.losses.label_smoothing import LabelSmoothingLoss
from toolkit.text.token_list import SPACE
from toolkit.utils.errors import ConfigError

IGNORE_ID = -1


class ASRModel(nn.Module):
    """`forward(speech, speech_lengths, text, text_lengths) -> (loss, stats, weight)`; `encode` for decoding."""

    def __init__(self, vocab_size, encoder, decoder=None, ctc=None, normalize=None, specaug=None, ctc_weight=0.3,
                 lsm_weight=0.1, length_normalized_loss=False, token_list=None, frontend=None):
        super().__init__()
        if not 0.0 <= ctc_weight <= 1.0:
            raise ConfigError(f"ctc_weight must be in [0, 1], got {ctc_weight}")
        # a part whose loss weight is 0 would leave unused parameters (an error under DDP)
        if (ctc_weight > 0) != (ctc is not None):
            raise ConfigError(f"ctc_weight {ctc_weight}: a CTC head is needed if and only if ctc_weight > 0")
        if (ctc_weight < 1) != (decoder is not None):
            raise ConfigError(f"ctc_weight {ctc_weight}: an attention decoder is needed if and only if "
                              f"ctc_weight < 1 (--decoder transformer|none)")
        self.sos = self.eos = vocab_size - 1
        self.frontend = frontend
        self.normalize, self.specaug = normalize, specaug
        self.encoder, self.decoder, self.ctc = encoder, decoder, ctc
        self.ctc_weight = ctc_weight
        self.criterion_att = LabelSmoothingLoss(vocab_size, IGNORE_ID, lsm_weight, length_normalized_loss)
        self.token_list = list(token_list) if token_list is not None else None

    def set_activation_checkpointing(self, flag):
        for module in (self.encoder, self.decoder):
            if module is not None:
                module.activation_checkpointing = flag

    def encode(self, speech, speech_lengths):
        """Encoder output [batch, T', size] and its lengths for features [batch, T, dim] (audio with a frontend)."""
        if self.frontend is not None:
            speech, speech_lengths = self.frontend(speech, speech_lengths)
        if self.normalize is not None:
            speech = self.normalize(speech)
        if self.specaug is not None and self.training:
            speech = self.specaug(speech, speech_lengths)
        return self.encoder(speech, speech_lengths)

    def forward(self, speech, speech_lengths, text, text_lengths):
        enc, enc_lens = self.encode(speech, speech_lengths)
        stats, losses = {}, []
        if self.ctc is not None:
            loss_ctc = self.ctc(enc, enc_lens, text, text_lengths)
            losses.append(self.ctc_weight * loss_ctc)
            stats["loss_ctc"] = loss_ctc.item()
            if not self.training and self.token_list is not None:
                stats["cer_ctc"] = self.cer_ctc(enc, enc_lens, text, text_lengths)
        if self.decoder is not None:
            loss_att, stats["acc"] = self.attention_loss(enc, enc_lens, text, text_lengths)
            losses.append((1 - self.ctc_weight) * loss_att)
            stats["loss_att"] = loss_att.item()
        loss = sum(losses)
        stats["loss"] = loss.item()
        return loss, stats, float(speech.shape[0])

    def decoder_io(self, text, text_lengths):
        """(ys_in = sos + text padded with eos, ys_out = text + eos padded with IGNORE_ID)."""
        padding = ~valid_mask(text_lengths, text.shape[1])
        batch = text.shape[0]
        ys_in = torch.cat([text.new_full((batch, 1), self.sos), text.masked_fill(padding, self.eos)], dim=1)
        ys_out = torch.cat([text.masked_fill(padding, IGNORE_ID), text.new_full((batch, 1), IGNORE_ID)], dim=1)
        ys_out[torch.arange(batch, device=text.device), text_lengths] = self.eos
        return ys_in, ys_out

    def attention_loss(self, enc, enc_lens, text, text_lengths):
        """(label-smoothed decoder loss, token accuracy)."""
        ys_in, ys_out = self.decoder_io(text, text_lengths)
        logits = self.decoder(enc, enc_lens, ys_in, text_lengths + 1)
        valid = ys_out != IGNORE_ID
        correct = (logits.argmax(-1) == ys_out) & valid
        return self.criterion_att(logits, ys_out), (correct.sum() / valid.sum()).item()

    def _chars(self, ids):
        """Characters of a token id sequence without word boundaries (<space>, sentencepiece's '\u2581')."""
        return "".join(self.token_list[i] for i in ids).replace(SPACE, "").replace("\u2581", "")

    @torch.no_grad()
    def cer_ctc(self, enc, enc_lens, text, text_lengths):
        """Character error rate of the greedy CTC output over the batch (errors / reference characters)."""
        best = self.ctc.argmax(enc).cpu()
        errors = chars = 0
        for path, length, ref, ref_len in zip(best, enc_lens.tolist(), text.cpu(), text_lengths.tolist()):
            path = torch.unique_consecutive(path[:length])
            hyp = self._chars(path[path != 0].tolist())
            reference = self._chars(ref[:ref_len].tolist())
            errors += edit_distance(list(reference), list(hyp))
            chars += len(reference)
        return errors / max(chars, 1)
