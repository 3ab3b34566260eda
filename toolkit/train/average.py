"""Average the model parameters of several checkpoints (n-best averaging, as ESPnet and WeNet do).

Floating-point (and complex) tensors get their arithmetic mean, accumulated in double
precision and stored back in their own dtype. Integer tensors, such as BatchNorm's
`num_batches_tracked`, get the floor of their mean and keep their integer dtype (a
counter stays a whole number, and the result does not depend on the order of the
checkpoints); bool tensors likewise, which makes them true only where all are true.
Each checkpoint may be a trainer state ({'model': state_dict, ...}) or a bare state dict;
all must hold the same keys and shapes.
"""
import torch

from toolkit.train.checkpoint import extract_model_state, load_checkpoint
from toolkit.utils.errors import DataError


def _accumulator(tensor):
    if tensor.is_floating_point():
        return tensor.to(torch.float64, copy=True)
    if tensor.is_complex():
        return tensor.to(torch.complex128, copy=True)
    return tensor.to(torch.int64, copy=True)


def average_state_dicts(named_states):
    """Average an iterable of (name, state_dict) pairs; names appear in error messages.

    The iterable is consumed one item at a time, so a generator that loads each
    checkpoint keeps only one of them in memory besides the running sum.
    """
    total, first_name, count = None, None, 0
    for name, state in named_states:
        if total is None:
            total = {key: _accumulator(value) for key, value in state.items()}
            reference = {key: (value.dtype, value.shape) for key, value in state.items()}
            first_name = name
        else:
            if state.keys() != total.keys():
                missing = sorted(total.keys() - state.keys())[:5]
                extra = sorted(state.keys() - total.keys())[:5]
                raise DataError(f"checkpoint {name} does not hold the same parameters as "
                                f"{first_name}: missing {missing}, extra {extra}")
            for key, value in state.items():
                if (value.dtype, value.shape) != reference[key]:
                    raise DataError(
                        f"checkpoint {name}: {key} is {value.dtype} of shape {tuple(value.shape)}, "
                        f"in {first_name} {reference[key][0]} of shape {tuple(reference[key][1])}")
                total[key] += value.to(total[key].dtype)
        count += 1
    if total is None:
        raise ValueError("no checkpoints to average")
    averaged = {}
    for key, summed in total.items():
        dtype = reference[key][0]
        if summed.is_floating_point() or summed.is_complex():
            averaged[key] = (summed / count).to(dtype)
        else:
            averaged[key] = torch.div(summed, count, rounding_mode="floor").to(dtype)
    return averaged


def average_checkpoints(paths):
    """The averaged model state dict of the checkpoint files `paths`."""
    return average_state_dicts(
        (path, extract_model_state(load_checkpoint(path), path)) for path in paths)
