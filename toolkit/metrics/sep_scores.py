"""Separation metrics in float64 numpy: SI-SNR, BSS Eval v3 SDR/SIR/SAR, and the scores of one mixture.

Arrays are [source, time] (torch tensors are accepted and copied to numpy). Conventions:

- SI-SNR (= SI-SDR with zero-mean signals, Le Roux et al. 2019): both signals lose their
  mean, the estimate is split into a target `alpha * ref` (its projection on the
  reference) and the rest; 10 log10 of their energy ratio. No epsilon: a perfect
  estimate scores +inf.
- BSS Eval v3 (Vincent et al. 2006; mir_eval.separation.bss_eval_sources): the estimate
  is projected by least squares on all delays 0..511 of one reference (the target, a
  512-tap time-invariant filter of it) and of all references together; SDR = target
  vs everything else, SIR = target vs the other references' share, SAR = the
  all-reference projection vs the rest. No mean removal.
- A permutation `perm` maps reference j to estimate perm[j] (mir_eval's convention).
"""
import itertools

import numpy as np
import scipy.fft
import scipy.linalg
from scipy.optimize import linear_sum_assignment

FILTER_LENGTH = 512
_EXHAUSTIVE_MAX_SOURCES = 6  # up to 720 permutations; the assignment solver above


def _array(x):
    """float64 numpy copy of an array or (CPU/GPU, grad or not) torch tensor."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float64)


def _db(num, den):
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(num / den)


def si_snr(est, ref):
    """SI-SNR in dB of est vs ref, both [..., time] (broadcast); returns [...].

    Equals fast_bss_eval.si_sdr(ref, est, zero_mean=True) for a single pair.
    """
    est, ref = _array(est), _array(ref)
    est = est - est.mean(axis=-1, keepdims=True)
    ref = ref - ref.mean(axis=-1, keepdims=True)
    alpha = np.sum(est * ref, axis=-1, keepdims=True) / np.sum(ref ** 2, axis=-1, keepdims=True)
    target = alpha * ref
    return _db(np.sum(target ** 2, axis=-1), np.sum((est - target) ** 2, axis=-1))


def pairwise_si_snr(est, ref):
    """SI-SNR of every estimate [S_est, time] against every reference [S_ref, time]: [S_est, S_ref]."""
    est, ref = _array(est), _array(ref)
    return si_snr(est[:, None, :], ref[None, :, :])


def best_permutation(scores):
    """The permutation maximising the mean of scores[perm[j], j] over references j.

    scores [S, S] (estimate x reference). Up to 6 sources every permutation is tried in
    itertools order and the first best wins (mir_eval's tie rule); above, the assignment
    solver finds the same optimum.
    """
    scores = np.asarray(scores)
    num = scores.shape[1]
    columns = np.arange(num)
    if num <= _EXHAUSTIVE_MAX_SOURCES:
        perms = np.array(list(itertools.permutations(range(num))))
        return perms[np.argmax(scores[perms, columns].mean(axis=1))]
    rows, cols = linear_sum_assignment(scores, maximize=True)
    perm = np.empty(num, dtype=np.int64)
    perm[cols] = rows
    return perm


def _solve(gram, rhs):
    """Least-squares filter coefficients: gram^-1 rhs (lstsq when gram is singular, as mir_eval)."""
    try:
        return np.linalg.solve(gram, rhs)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(gram, rhs, rcond=None)[0]


def bss_eval_pairs(ref, est, filter_length=FILTER_LENGTH):
    """SDR, SIR, SAR in dB of every estimate against every reference: three [S_est, S_ref] arrays.

    ref [S_ref, time], est [S_est, time]. The Gram matrix of the delayed references is
    built and solved once for all estimates (mir_eval rebuilds it per pair).
    """
    ref, est = _array(ref), _array(est)
    if ref.ndim != 2 or est.ndim != 2 or ref.shape[1] != est.shape[1]:
        raise ValueError(f"bss_eval needs ref [S, T] and est [S', T] of one length; got {ref.shape}, {est.shape}")
    num_ref, length = ref.shape
    flen = filter_length
    out_len = length + flen - 1  # a filtered reference is this long
    n_fft = scipy.fft.next_fast_len(out_len, real=True)
    ref_f = scipy.fft.rfft(ref, n_fft, axis=1)
    est_f = scipy.fft.rfft(est, n_fft, axis=1)
    lags = np.r_[0, -np.arange(1, flen)]  # indices of lags 0, -1, ..., -(flen-1) in a circular correlation
    # gram[(i, a), (k, b)] = <ref_i delayed by a, ref_k delayed by b> = corr_ik[b - a]
    gram = np.zeros((num_ref * flen, num_ref * flen))
    for i in range(num_ref):
        for k in range(i, num_ref):
            corr = scipy.fft.irfft(ref_f[i] * np.conj(ref_f[k]), n_fft)
            block = scipy.linalg.toeplitz(corr[lags], corr[:flen])
            gram[i * flen:(i + 1) * flen, k * flen:(k + 1) * flen] = block
            gram[k * flen:(k + 1) * flen, i * flen:(i + 1) * flen] = block.T
    # rhs[(i, a), e] = <ref_i delayed by a, est_e>
    cross = scipy.fft.irfft(ref_f[:, None, :] * np.conj(est_f[None, :, :]), n_fft)  # [S_ref, S_est, n_fft]
    rhs = cross[:, :, lags].transpose(0, 2, 1).reshape(num_ref * flen, -1)
    filters_all = _solve(gram, rhs).reshape(num_ref, flen, -1)  # [S_ref, flen, S_est]

    def project(filters, refs_f):  # sum over references of filter * reference: [S_est, out_len]
        spectra = scipy.fft.rfft(filters, n_fft, axis=1)  # [S, n_fft//2+1, S_est]
        return scipy.fft.irfft(np.einsum("sfe,sf->ef", spectra, refs_f), n_fft)[:, :out_len]

    est_pad = np.pad(est, ((0, 0), (0, flen - 1)))
    proj_all = project(filters_all, ref_f)
    shape = (est.shape[0], num_ref)
    sdr, sir, sar = np.empty(shape), np.empty(shape), np.empty(shape)
    sar[:] = _db(np.sum(proj_all ** 2, axis=1), np.sum((est_pad - proj_all) ** 2, axis=1))[:, None]
    for j in range(num_ref):
        block = slice(j * flen, (j + 1) * flen)
        filters = _solve(gram[block, block], rhs[block])[None]  # [1, flen, S_est]
        target = project(filters, ref_f[j:j + 1])
        energy = np.sum(target ** 2, axis=1)
        sdr[:, j] = _db(energy, np.sum((est_pad - target) ** 2, axis=1))
        sir[:, j] = _db(energy, np.sum((proj_all - target) ** 2, axis=1))
    return sdr, sir, sar


def bss_eval_sources(ref, est, filter_length=FILTER_LENGTH):
    """BSS Eval v3 of est [S, time] against ref [S, time] -> (sdr, sir, sar, perm), each [S].

    Same results as mir_eval.separation.bss_eval_sources: the estimates are matched to the
    references by the permutation of best mean SIR, scores are in reference order, and
    estimate perm[j] is matched to reference j.
    """
    ref, est = _array(ref), _array(est)
    if ref.shape != est.shape:
        raise ValueError(f"bss_eval_sources needs ref and est of one shape; got {ref.shape}, {est.shape}")
    sdr, sir, sar = bss_eval_pairs(ref, est, filter_length)
    perm = best_permutation(sir)
    columns = np.arange(len(perm))
    return sdr[perm, columns], sir[perm, columns], sar[perm, columns], perm


def score_mixture(mix, ref, est):
    """Scores of one separated mixture: a dict of [S] arrays in reference order, and the permutations.

    mix [time], ref and est [S, time]. si_snr: estimates matched to references by the
    permutation of best mean SI-SNR (`si_snr_perm`); si_snri: minus the SI-SNR of the
    mixture taken as the estimate of each reference. sdr/sir/sar: BSS Eval v3 with its
    own (best mean SIR) permutation `sdr_perm`; sdri: minus the SDR of the mixture as the
    estimate of each reference. Raises ValueError for a silent (all-zero) source.
    """
    mix, ref, est = _array(mix), _array(ref), _array(est)
    if ref.shape != est.shape or ref.ndim != 2 or mix.shape != ref.shape[1:]:
        raise ValueError(f"need mix [T], ref and est [S, T]; got {mix.shape}, {ref.shape}, {est.shape}")
    for name, sources in (("reference", ref), ("estimated", est)):
        silent = [j for j in range(len(sources)) if not np.any(sources[j])]
        if silent:
            raise ValueError(f"{name} source(s) {silent} all zeros: SI-SNR and SDR are undefined")
    columns = np.arange(ref.shape[0])
    pair_si_snr = pairwise_si_snr(est, ref)
    si_snr_perm = best_permutation(pair_si_snr)
    sdr, sir, sar = bss_eval_pairs(ref, np.concatenate([est, mix[None]]))  # last row: the mixture
    sdr_perm = best_permutation(sir[:-1])
    matched_sdr = sdr[sdr_perm, columns]
    matched_si_snr = pair_si_snr[si_snr_perm, columns]
    return {
        "si_snr": matched_si_snr,
        "si_snri": matched_si_snr - si_snr(mix[None], ref),
        "sdr": matched_sdr,
        "sdri": matched_sdr - sdr[-1],
        "sir": sir[sdr_perm, columns],
        "sar": sar[sdr_perm, columns],
        "si_snr_perm": si_snr_perm,
        "sdr_perm": sdr_perm,
    }
