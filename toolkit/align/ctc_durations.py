"""Per-token durations (feature frames) from the frame log-posteriors of a CTC aligner.

A duration sequence is monotonic, gives every token at least one frame and sums to
the frame count T. Two methods:

viterbi (default)  Viterbi over the tokens alone (no blank state): every frame belongs
    to one token, the path stays or moves on by one token per frame, and scores are
    the tokens' log-posteriors. Renormalising the non-blank posteriors per frame
    (dividing by 1 - p(blank)) adds the same constant to every path, so the raw
    log-posteriors give the same path. The boundary between two tokens falls where the
    next token's posterior overtakes the current one's, including inside the runs of
    blank frames that dominate a peaky CTC output (where the non-blank posteriors still
    rank the neighbouring tokens); on exact ties it falls as late as possible, i.e.
    just before the next token's spike, as the ctc rule below. Needs only T >= number
    of tokens (a repeated token needs no blank between). The boundary between two equal
    adjacent tokens is not identifiable from the posteriors: it goes late too.
ctc  Viterbi CTC forced alignment (torchaudio.functional.forced_align); each token
    owns the frames from its first aligned frame up to the next token's first frame,
    the leading blanks go to the first token. Spike positions inside a phone vary,
    so these boundaries are coarser on peaky outputs. Needs T >= tokens + repeats
    (a blank must separate a repeated token).

CTCAligner runs a trained CTC ASR experiment (toolkit.tasks.experiment) over feature
matrices; its encoder must keep the frame rate (no time subsampling).
"""
import numpy as np
import torch
from torchaudio.functional import forced_align, merge_tokens

from toolkit.data.collate import pad_list
from toolkit.tasks.experiment import load_experiment
from toolkit.utils.errors import ConfigError, DataError

METHODS = ("viterbi", "ctc")
# Floor for log-posteriors: keeps -inf (a float32 underflow) from tying every path.
LOG_FLOOR = -1.0e10


def _check_inputs(log_probs, token_ids, blank):
    log_probs = np.asarray(log_probs, dtype=np.float64)
    token_ids = np.asarray(token_ids, dtype=np.int64)
    if log_probs.ndim != 2 or token_ids.ndim != 1 or len(token_ids) == 0:
        raise DataError(f"expected log-probs [T, V] and a non-empty token id sequence, got shapes "
                        f"{log_probs.shape} and {token_ids.shape}")
    bad = token_ids[(token_ids == blank) | (token_ids < 0) | (token_ids >= log_probs.shape[1])]
    if len(bad):
        raise DataError(f"token id {int(bad[0])} is the blank or outside the model's {log_probs.shape[1]} "
                        f"outputs; was token_int made with the aligner's token list?")
    if len(log_probs) < len(token_ids):
        raise DataError(f"{len(log_probs)} frames for {len(token_ids)} tokens; every token needs a frame: "
                        f"use a shorter hop or drop such utterances (length filter)")
    return log_probs, token_ids


def viterbi_durations(log_probs, token_ids, blank=0):
    """Durations [L] (int64) of the best token-only monotonic path through log_probs [T, V]."""
    log_probs, token_ids = _check_inputs(log_probs, token_ids, blank)
    emit = np.maximum(log_probs[:, token_ids], LOG_FLOOR)  # [T, L]
    num_frames, num_tokens = emit.shape
    score = np.full(num_tokens, -np.inf)
    score[0] = emit[0, 0]
    moved_on = np.zeros((num_frames, num_tokens), dtype=bool)
    for t in range(1, num_frames):
        from_previous = np.concatenate(([-np.inf], score[:-1]))
        moved_on[t] = from_previous >= score  # on ties enter late: the boundary goes as late as possible
        score = np.maximum(score, from_previous) + emit[t]
    durations = np.zeros(num_tokens, dtype=np.int64)
    token = num_tokens - 1
    for t in range(num_frames - 1, 0, -1):
        durations[token] += 1
        token -= int(moved_on[t, token])
    durations[0] += 1
    return durations


def ctc_durations(log_probs, token_ids, blank=0):
    """Durations [L] (int64) from CTC forced alignment, blank frames given to the preceding token."""
    log_probs, token_ids = _check_inputs(log_probs, token_ids, blank)
    repeats = int(np.sum(token_ids[1:] == token_ids[:-1]))
    if len(log_probs) < len(token_ids) + repeats:
        raise DataError(f"{len(log_probs)} frames for {len(token_ids)} tokens with {repeats} repeat(s): CTC needs "
                        f"{len(token_ids) + repeats}; use --method viterbi, a shorter hop, or drop the utterance")
    emission = torch.from_numpy(np.maximum(log_probs, LOG_FLOOR)).float().unsqueeze(0)
    labels, scores = forced_align(emission, torch.from_numpy(token_ids).int().unsqueeze(0), blank=blank)
    starts = [span.start for span in merge_tokens(labels[0], scores[0].exp(), blank=blank)]
    return np.diff([0, *starts[1:], len(log_probs)]).astype(np.int64)


DURATION_FUNCTIONS = {"viterbi": viterbi_durations, "ctc": ctc_durations}


def durations_from_log_probs(log_probs, token_ids, method="viterbi", blank=0):
    """Durations [L] by `method` (see the module docstring); checked to be >= 1 and to sum to T."""
    if method not in DURATION_FUNCTIONS:
        raise ConfigError(f"duration method {method!r}: expected one of {', '.join(METHODS)}")
    durations = DURATION_FUNCTIONS[method](log_probs, token_ids, blank)
    if len(durations) != len(token_ids) or durations.min() < 1 or durations.sum() != len(log_probs):
        raise RuntimeError(f"{method} durations {durations.tolist()} break the contract for "
                           f"{len(log_probs)} frames and {len(token_ids)} tokens")
    return durations


class CTCAligner:
    """Frame log-posteriors of a CTC ASR experiment, and durations from them."""

    def __init__(self, model_dir, checkpoint="valid.loss.best.pth", method="viterbi", device="cpu"):
        if method not in METHODS:
            raise ConfigError(f"duration method {method!r}: expected one of {', '.join(METHODS)}")
        self.model, _ = load_experiment(model_dir, checkpoint, device)
        if self.model.ctc is None:
            raise ConfigError(f"{model_dir}: the model has no CTC head; train the aligner with ctc_weight 1.0")
        if getattr(self.model, "frontend", None) is not None:
            raise ConfigError(f"{model_dir}: the model computes its features from audio (frontend_conf); "
                              f"durations count the dumped log-mel frames: train the aligner on feats.scp")
        self.model_dir, self.method, self.device = model_dir, method, device

    @torch.no_grad()
    def log_probs(self, feats):
        """[T', V] float32 numpy log-posteriors for each feature matrix [T, dim] of the list."""
        lengths = torch.tensor([len(f) for f in feats], dtype=torch.int64)
        enc, enc_lens = self.model.encode(pad_list(feats).to(self.device), lengths.to(self.device))
        log_probs = self.model.ctc.log_softmax(enc).cpu().numpy()
        return [log_probs[i, :n] for i, n in enumerate(enc_lens.tolist())]

    def durations(self, utts, feats, token_ids):
        """{utt: durations [L]} for parallel lists; errors name the utterance."""
        try:
            batch_log_probs = self.log_probs(feats)
        except DataError as err:
            raise DataError(f"utterances {', '.join(utts)}: {err}") from None
        out = {}
        for utt, mat, ids, log_probs in zip(utts, feats, token_ids, batch_log_probs):
            if len(log_probs) != len(mat):
                raise ConfigError(f"{self.model_dir}: the encoder turns {len(mat)} frames of {utt!r} into "
                                  f"{len(log_probs)}; durations need one output per feature frame: train the "
                                  f"aligner with an input_layer that does not subsample time")
            try:
                out[utt] = durations_from_log_probs(log_probs, ids, self.method)
            except DataError as err:
                raise DataError(f"utterance {utt!r}: {err}") from None
        return out


def align_tables(aligner, feats, token_int, batch_size=8):
    """({utt: durations}, {utt: frames}) for every utterance of `feats` ({utt: matrix}, e.g. kaldiio.load_scp).

    token_int maps utt -> token id array; an utterance without one is a DataError.
    Utterances go to the model in batches of batch_size, in sorted key order.
    """
    utts = sorted(feats)
    missing = [u for u in utts if u not in token_int]
    if missing:
        raise DataError(f"{len(missing)} utterance(s) have features but no token ids (token_int), e.g. {missing[:3]}; "
                        f"run utils/fix_data_dir.sh or tokenize them")
    durations, num_frames = {}, {}
    for i in range(0, len(utts), batch_size):
        part = utts[i:i + batch_size]
        mats = [feats[u] for u in part]
        durations.update(aligner.durations(part, mats, [token_int[u] for u in part]))
        num_frames.update((u, len(m)) for u, m in zip(part, mats))
    return durations, num_frames
