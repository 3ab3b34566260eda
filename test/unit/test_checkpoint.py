"""Atomic checkpoints (a writer killed with SIGKILL never leaves a partial file), resume
listing, damaged files, n-best snapshot keeping with best links, and early stopping."""
import json
import logging
import multiprocessing
import os
import random
import signal
import time

import pytest
import torch

from toolkit.train.checkpoint import (
    latest_checkpoint, link_checkpoint, list_checkpoints, load_checkpoint, resume_checkpoint_name,
    save_checkpoint, save_resume_checkpoint)
from toolkit.train.model_selection import ModelSelection, nbest_snapshots, parse_criterion
from toolkit.utils.errors import ConfigError, DataError

BIG = 4 << 20  # floats per tensor: a 16 MB file takes tens of ms to write and fsync


def temp_files(directory):
    return sorted(name for name in os.listdir(directory) if name.startswith("."))


def test_save_load_round_trip(tmp_path):
    state = {"model": {"w": torch.arange(6.0).reshape(2, 3), "n": torch.tensor(3)},
             "epoch": 2, "lr": [1e-3, None], "name": "x", "pair": (1, 2)}
    path = tmp_path / "sub" / "c.pth"
    save_checkpoint(path, state)
    loaded = load_checkpoint(path)
    assert torch.equal(loaded["model"]["w"], state["model"]["w"])
    assert loaded["model"]["n"].dtype == torch.int64
    assert {k: loaded[k] for k in ("epoch", "lr", "name", "pair")} == \
        {"epoch": 2, "lr": [1e-3, None], "name": "x", "pair": (1, 2)}
    assert temp_files(path.parent) == []


def _save_forever(directory, first_epoch, pipe):
    """Child process: write big checkpoints, sending '.' as each save starts and '+' as it ends."""
    torch.set_num_threads(1)
    epoch = first_epoch
    while True:
        state = {"epoch": epoch, "w": torch.full((BIG,), float(epoch))}
        os.write(pipe, b".")
        save_checkpoint(os.path.join(directory, resume_checkpoint_name(epoch, 10 * epoch)), state)
        os.write(pipe, b"+")
        epoch += 1


def read_until(read_end, wanted):
    while os.read(read_end, 1) != wanted:
        pass


def check_latest(directory):
    """latest_checkpoint gives a complete checkpoint whose content matches its name; its epoch."""
    path = latest_checkpoint(directory)
    assert path is not None and not os.path.basename(path).startswith(".")
    state = load_checkpoint(path)
    assert os.path.basename(path) == resume_checkpoint_name(state["epoch"], 10 * state["epoch"])
    assert state["w"].shape == (BIG,) and bool((state["w"] == state["epoch"]).all())
    return state["epoch"]


def test_writer_killed_mid_save_leaves_no_partial_checkpoint(tmp_path):
    save_checkpoint(tmp_path / resume_checkpoint_name(0, 0), {"epoch": 0, "w": torch.zeros(BIG)})
    fork = multiprocessing.get_context("fork")
    delays = random.Random(0)
    interrupted = completed = 0
    for round_ in range(12):
        first_epoch = 1000 * round_ + 1
        read_end, write_end = os.pipe()
        child = fork.Process(target=_save_forever, args=(str(tmp_path), first_epoch, write_end))
        child.start()
        os.close(write_end)
        if round_ % 2:  # let one save finish, then kill at any point of the next one
            read_until(read_end, b"+")
            read_until(read_end, b".")
            time.sleep(delays.uniform(0.0, 0.1))
        else:  # kill early in the first save
            read_until(read_end, b".")
            time.sleep(delays.uniform(0.005, 0.03))
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        os.close(read_end)
        interrupted += any(f"~{child.pid}~" in name for name in temp_files(tmp_path))
        completed += check_latest(tmp_path) >= first_epoch
    assert completed >= 6  # every odd round
    assert interrupted >= 3, "the writer was hardly ever killed mid-save: the test proves nothing"
    # the next save removes the temp files of the killed writers
    save_checkpoint(tmp_path / resume_checkpoint_name(99999, 999990),
                    {"epoch": 99999, "w": torch.full((BIG,), 99999.0)})
    assert temp_files(tmp_path) == []
    assert check_latest(tmp_path) == 99999


def test_temp_file_of_a_live_writer_is_kept(tmp_path):
    writer_dir = tmp_path / "shared"
    writer_dir.mkdir()
    read_end, write_end = os.pipe()
    child = multiprocessing.get_context("fork").Process(
        target=_save_forever, args=(str(writer_dir), 1, write_end))
    child.start()
    os.close(write_end)
    try:
        os.read(read_end, 1)
        for _ in range(200):  # pause the writer while it holds a temp file
            os.kill(child.pid, signal.SIGSTOP)
            if temp_files(writer_dir):
                break
            os.kill(child.pid, signal.SIGCONT)
            time.sleep(0.005)
        live = temp_files(writer_dir)
        assert live, "never caught the writer mid-save"
        save_checkpoint(writer_dir / "other.pth", {"x": 1})
        assert set(live) <= set(temp_files(writer_dir))
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        os.close(read_end)


def test_truncated_checkpoint_is_a_data_error_and_skipped_by_latest(tmp_path, caplog):
    save_checkpoint(tmp_path / resume_checkpoint_name(1, 100), {"w": torch.ones(1000)})
    save_checkpoint(tmp_path / resume_checkpoint_name(2, 200), {"w": torch.ones(1000)})
    newest = tmp_path / resume_checkpoint_name(2, 200)
    data = newest.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 10):
        newest.write_bytes(data[:size])
        with pytest.raises(DataError, match=str(newest)):
            load_checkpoint(newest)
        with caplog.at_level(logging.WARNING):
            assert latest_checkpoint(tmp_path) == str(tmp_path / resume_checkpoint_name(1, 100))
        assert str(newest) in caplog.text
    with pytest.raises(DataError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.pth")


def test_arbitrary_objects_are_refused_by_weights_only_load(tmp_path):
    import argparse
    torch.save({"args": argparse.Namespace(a=1)}, tmp_path / "obj.pth")
    with pytest.raises(DataError, match="weights_only=False"):
        load_checkpoint(tmp_path / "obj.pth")
    assert load_checkpoint(tmp_path / "obj.pth", weights_only=False)["args"].a == 1


def test_resume_checkpoints_listing_and_keep(tmp_path):
    assert latest_checkpoint(tmp_path / "missing") is None
    for epoch, step in [(1, 50), (2, 100), (2, 150), (10, 500)]:
        save_resume_checkpoint(tmp_path, {"step": step}, epoch, step, keep=2)
    assert [(e, s) for e, s, _ in list_checkpoints(tmp_path)] == [(2, 150), (10, 500)]
    assert load_checkpoint(latest_checkpoint(tmp_path))["step"] == 500  # 10 > 2 numerically
    # resuming from (2, 150) and saving (3, 200) removes (10, 500), left by the abandoned run
    save_resume_checkpoint(tmp_path, {"step": 200}, 3, 200, keep=2)
    assert [(e, s) for e, s, _ in list_checkpoints(tmp_path)] == [(2, 150), (3, 200)]


def test_link_checkpoint_is_relative_and_replaced(tmp_path):
    save_checkpoint(tmp_path / "1epoch.pth", {"v": torch.tensor(1)})
    save_checkpoint(tmp_path / "2epoch.pth", {"v": torch.tensor(2)})
    link = tmp_path / "valid.loss.best.pth"
    link_checkpoint(tmp_path / "1epoch.pth", link)
    link_checkpoint(tmp_path / "2epoch.pth", link)
    assert os.readlink(link) == "2epoch.pth"
    assert load_checkpoint(link)["v"].item() == 2
    assert temp_files(tmp_path) == []


def model_state(epoch):
    return {"w": torch.full((3,), float(epoch))}


LOSS = {1: 5.0, 2: 3.0, 3: 4.0, 4: 2.0, 5: 2.5, 6: 2.0, 7: 3.5}
ACC = {1: 0.1, 2: 0.5, 3: 0.6, 4: 0.4, 5: 0.3, 6: 0.2, 7: 0.1}


def run_epochs(selection, epochs):
    for epoch in epochs:
        selection.update(epoch, {"valid": {"loss": LOSS[epoch], "acc": torch.tensor(ACC[epoch])},
                                 "train": {"loss": 1.0}}, model_state(epoch))


def snapshots(exp_dir):
    return sorted(int(n[:-len("epoch.pth")]) for n in os.listdir(exp_dir) if n.endswith("epoch.pth"))


def test_nbest_keeping_and_best_links(tmp_path):
    selection = ModelSelection(tmp_path, ["valid loss min", ["valid", "acc", "max"]], keep_nbest=2)
    run_epochs(selection, range(1, 8))
    # loss best: 4 (2.0, first to reach it), 6 (2.0); acc best: 3, 2; latest: 7
    assert snapshots(tmp_path) == [2, 3, 4, 6, 7]
    assert os.readlink(tmp_path / "valid.loss.best.pth") == "4epoch.pth"
    assert os.readlink(tmp_path / "valid.acc.best.pth") == "3epoch.pth"
    assert torch.equal(load_checkpoint(tmp_path / "valid.acc.best.pth")["w"], model_state(3)["w"])
    summary = json.loads((tmp_path / "selection.json").read_text())
    assert summary["ranking"]["valid loss min"] == [4, 6, 5, 2, 7, 3, 1]
    assert summary["history"]["3"] == {"valid.loss": 4.0, "valid.acc": pytest.approx(0.6),
                                       "train.loss": 1.0}
    assert nbest_snapshots(tmp_path, "valid acc max", 2) == [str(tmp_path / "3epoch.pth"),
                                                            str(tmp_path / "2epoch.pth")]
    # a criterion not tracked during training ranks the snapshots that remain
    assert nbest_snapshots(tmp_path, "train loss min", 10) == [
        str(tmp_path / f"{e}epoch.pth") for e in (2, 3, 4, 6, 7)]
    assert temp_files(tmp_path) == []


def test_resume_restores_history_and_removes_stray_snapshots(tmp_path):
    first = ModelSelection(tmp_path, ["valid loss min"], keep_nbest=2)
    run_epochs(first, [1, 2])
    saved = first.state_dict()
    run_epochs(first, [3, 4])  # lost: the run resumes from the checkpoint taken after epoch 2
    assert snapshots(tmp_path) == [2, 4]
    resumed = ModelSelection(tmp_path, ["valid loss min"], keep_nbest=2)
    resumed.load_state_dict(saved)
    with pytest.raises(ValueError, match="not after"):
        resumed.update(2, {"valid": {"loss": 1.0}}, model_state(2))
    run_epochs(resumed, [3])
    assert snapshots(tmp_path) == [2, 3]  # the 2 best; 4 was the lost run's
    assert os.readlink(tmp_path / "valid.loss.best.pth") == "2epoch.pth"


def test_best_snapshot_deleted_by_a_lost_run_is_reported(tmp_path, caplog):
    first = ModelSelection(tmp_path, ["valid loss min"], keep_nbest=1)
    run_epochs(first, [1, 2])
    saved = first.state_dict()
    run_epochs(first, [3, 4])  # epoch 4 is best: the lost run deletes 2epoch.pth
    resumed = ModelSelection(tmp_path, ["valid loss min"], keep_nbest=1)
    resumed.load_state_dict(saved)
    with caplog.at_level(logging.WARNING):
        run_epochs(resumed, [3])
    assert "snapshot of epoch 2" in caplog.text
    assert os.readlink(tmp_path / "valid.loss.best.pth") == "3epoch.pth"
    assert snapshots(tmp_path) == [3]


def test_missing_criterion_and_bad_spec_are_config_errors(tmp_path):
    selection = ModelSelection(tmp_path, ["valid acc max"])
    with pytest.raises(ConfigError, match="valid.acc.*reported stats: valid.loss"):
        selection.update(1, {"valid": {"loss": 1.0}}, model_state(1))
    for bad in ("valid loss", "valid loss lowest", ["valid", "loss"]):
        with pytest.raises(ConfigError, match="PHASE METRIC"):
            parse_criterion(bad)


def test_early_stopping_on_first_criterion(tmp_path, caplog):
    selection = ModelSelection(tmp_path, ["valid loss min", "valid acc max"], patience=2)
    stopped_after = None
    with caplog.at_level(logging.INFO):
        for epoch in range(1, 8):
            run_epochs(selection, [epoch])
            if selection.should_stop():
                stopped_after = epoch
                break
    # loss improves at 2 and 4; epoch 5 and epoch 6 (a tie) are no improvement
    assert stopped_after == 6
    assert "valid.loss has not improved for 2 epochs" in caplog.text
    assert not ModelSelection(tmp_path / "x", patience=None).should_stop()
