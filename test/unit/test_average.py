"""Checkpoint averaging: float mean, integer buffers floor-of-mean in their dtype, the CLI."""
import os

import pytest
import torch

from toolkit.bin.average_checkpoints import main
from toolkit.train.average import average_checkpoints, average_state_dicts
from toolkit.train.checkpoint import load_checkpoint, save_checkpoint
from toolkit.train.model_selection import ModelSelection
from toolkit.utils.errors import DataError


def tiny_model():
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8), torch.nn.Linear(8, 2))


def trained_state(seed, steps):
    """A model after `steps` plain SGD steps: BatchNorm's num_batches_tracked == steps."""
    torch.manual_seed(seed)
    model = tiny_model()
    for _ in range(steps):
        model.zero_grad()
        model(torch.randn(16, 4)).pow(2).mean().backward()
        with torch.no_grad():
            for param in model.parameters():
                param -= 0.1 * param.grad
    return model.state_dict()


@pytest.fixture
def three_checkpoints(tmp_path):
    """A trainer state and two bare state dicts, with 3, 4 and 6 batches tracked."""
    states, paths = [], []
    for index, (seed, steps) in enumerate([(0, 3), (1, 4), (2, 6)]):
        model_state = trained_state(seed, steps)
        path = tmp_path / f"{index}.pth"
        save_checkpoint(path, {"model": model_state, "epoch": index, "step": steps}
                        if index == 0 else model_state)
        states.append(model_state)
        paths.append(str(path))
    return states, paths


def test_average_is_the_mean_and_integer_buffers_stay_integers(three_checkpoints):
    states, paths = three_checkpoints
    averaged = average_checkpoints(paths)
    assert averaged.keys() == states[0].keys()
    for key, value in averaged.items():
        stacked = torch.stack([state[key] for state in states])
        if stacked.is_floating_point():
            assert value.dtype == torch.float32
            torch.testing.assert_close(value, stacked.mean(0))
    counter = averaged["1.num_batches_tracked"]
    assert counter.dtype == torch.int64 and counter.item() == (3 + 4 + 6) // 3 == 4
    model = tiny_model()
    model.load_state_dict(averaged)  # strict: same keys, shapes and dtypes
    assert model.eval()(torch.randn(5, 4)).shape == (5, 2)


def test_low_precision_and_bool_tensors():
    states = [{"h": torch.tensor([1.0, 2.0], dtype=torch.bfloat16) * k,
               "mask": torch.tensor([True, True, False]) if k < 3 else torch.tensor([True, False, False]),
               "n": torch.tensor([-1, 5], dtype=torch.int32) * k} for k in (1, 2, 3)]
    averaged = average_state_dicts((str(k), state) for k, state in enumerate(states))
    assert averaged["h"].dtype == torch.bfloat16 and averaged["h"].tolist() == [2.0, 4.0]
    assert averaged["mask"].tolist() == [True, False, False]  # true where all are true
    assert averaged["n"].dtype == torch.int32 and averaged["n"].tolist() == [-2, 10]  # floor(-6/3), 30/3


def test_mismatched_checkpoints_are_data_errors(tmp_path, three_checkpoints):
    _, paths = three_checkpoints
    save_checkpoint(tmp_path / "other.pth", {"0.weight": torch.zeros(3, 4)})
    with pytest.raises(DataError, match="other.pth does not hold the same parameters"):
        average_checkpoints([paths[0], str(tmp_path / "other.pth")])
    wrong_shape = load_checkpoint(paths[1])
    wrong_shape["0.weight"] = torch.zeros(8, 5)
    save_checkpoint(tmp_path / "shape.pth", wrong_shape)
    with pytest.raises(DataError, match=r"shape.pth: 0.weight is torch.float32 of shape \(8, 5\)"):
        average_checkpoints([paths[0], str(tmp_path / "shape.pth")])


def test_cli_with_checkpoint_list(tmp_path, three_checkpoints, capsys):
    states, paths = three_checkpoints
    main(["--out", str(tmp_path / "model.ave.pth"), "--checkpoints", *paths[1:]])
    averaged = load_checkpoint(tmp_path / "model.ave.pth")
    torch.testing.assert_close(averaged["2.bias"], (states[1]["2.bias"] + states[2]["2.bias"]) / 2)
    assert "averaged 2 checkpoint(s)" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["--out", str(tmp_path / "x.pth"), "--checkpoints", str(tmp_path / "missing.pth")])
    assert exit_info.value.code == 1
    assert "ERROR: checkpoint" in capsys.readouterr().err


def test_cli_with_exp_dir_nbest(tmp_path):
    exp = tmp_path / "exp"
    selection = ModelSelection(exp, ["valid loss min", "valid acc max"], keep_nbest=2)
    snapshots = {}
    for epoch, acc in [(1, 0.2), (2, 0.7), (3, 0.5), (4, 0.6)]:
        snapshots[epoch] = trained_state(epoch, epoch)
        selection.update(epoch, {"valid": {"loss": 1 - acc, "acc": acc}}, snapshots[epoch])
    main(["--exp_dir", str(exp), "--criterion", "valid acc max", "--nbest", "2"])
    out = exp / "valid.acc.ave_2best.pth"
    assert os.readlink(exp / "valid.acc.ave.pth") == "valid.acc.ave_2best.pth"
    averaged = load_checkpoint(out)
    torch.testing.assert_close(averaged["0.weight"],
                               (snapshots[2]["0.weight"] + snapshots[4]["0.weight"]) / 2)
    assert averaged["1.num_batches_tracked"].item() == (2 + 4) // 2
    # more than kept (epochs 2 and 4): averages those there are, named as asked
    main(["--exp_dir", str(exp), "--criterion", "valid acc max", "--nbest", "5"])
    torch.testing.assert_close(load_checkpoint(exp / "valid.acc.ave_5best.pth")["2.weight"],
                               (snapshots[2]["2.weight"] + snapshots[4]["2.weight"]) / 2)
