"""The shared trainer in real processes: DDP over gloo, exact resume after kill -9, selection."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

from toolkit.models.lm.rnn_lm import RNNLM
from toolkit.text.token_list import read_token_list
from toolkit.train.checkpoint import latest_checkpoint, load_checkpoint
from toolkit.utils.seed import set_seed

COMMON = ["--task", "lm", "--model_conf.hidden_dim", "32", "--model_conf.embed_dim", "16",
          "--model_conf.num_layers", "1", "--model_conf.dropout", "0.0", "--batch_type", "static",
          "--log_interval", "4", "--tensorboard", "false", "--seed", "3", "--deterministic", "true"]


def _env():
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.getcwd() + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _train_cmd(data, out, *extra, nproc=1):
    args = [*COMMON, "--token_list", str(data / "tokens.txt"), "--train_data_dir", str(data / "train"),
            "--valid_data_dir", str(data / "dev"), "--output_dir", str(out), *extra]
    if nproc == 1:
        return [sys.executable, "-m", "toolkit.bin.train", *args]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "toolkit.bin.train", *args]


def _run(cmd, timeout=240):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=timeout)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def _final_model(out):
    return load_checkpoint(latest_checkpoint(str(out)), weights_only=False)["model"]


@pytest.fixture
def data(lm_data):
    return lm_data


def test_two_process_ddp_equals_one_process_with_double_batch(data, tmp_path):
    opts = ["--max_epoch", "1", "--shuffle", "false", "--max_steps", "4"]
    _run(_train_cmd(data, tmp_path / "ddp", *opts, "--batch_size", "8", nproc=2))
    _run(_train_cmd(data, tmp_path / "single", *opts, "--batch_size", "16"))
    ddp, single = _final_model(tmp_path / "ddp"), _final_model(tmp_path / "single")
    for key in single:
        torch.testing.assert_close(ddp[key], single[key], rtol=1e-5, atol=1e-6)
    # both trained 4 steps away from the same seeded initialisation
    set_seed(3)
    initial = RNNLM(len(read_token_list(str(data / "tokens.txt"))), embed_dim=16, hidden_dim=32, num_layers=1,
                    dropout=0.0).state_dict()
    assert all(k in initial for k in single)
    assert min(float((single[k] - initial[k]).abs().max()) for k in single) > 1e-4
    log = (tmp_path / "ddp" / "train.log").read_text()
    assert "world size 2" in log


def test_uneven_data_across_ranks_finishes(data, tmp_path):
    # 96 utterances in batches of 7: 14 batches -> 7 per rank... use 3 ranks: 14 is padded to 15
    proc = _run(_train_cmd(data, tmp_path / "uneven", "--max_epoch", "2", "--batch_size", "7", nproc=3),
                timeout=300)
    assert "training finished after epoch 2" in proc.stderr
    history = json.loads((tmp_path / "uneven" / "selection.json").read_text())
    assert history


def _kill_when(cmd, out, predicate, deadline=120):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=_env())
    start = time.time()
    while proc.poll() is None and time.time() - start < deadline:
        names = os.listdir(out) if os.path.isdir(out) else []
        if predicate(names):
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.02)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "training ended before the kill point"


def test_kill_9_and_resume_gives_identical_parameters(data, tmp_path):
    opts = ["--max_epoch", "3", "--batch_size", "8", "--save_interval_steps", "2", "--num_workers", "1"]
    _run(_train_cmd(data, tmp_path / "straight", *opts))
    reference = _final_model(tmp_path / "straight")

    out = tmp_path / "killed"
    cmd = _train_cmd(data, out, *opts)
    kill_points = [
        lambda names: any(n.startswith("checkpoint_ep1_step4") for n in names),   # mid epoch 1
        lambda names: "1epoch.pth" in names,                                       # during epoch-end work
        lambda names: any(n.startswith("checkpoint_ep2_step") for n in names),    # epoch 2
        lambda names: any(n.startswith(".checkpoint_ep3") for n in names),        # while a checkpoint is written
    ]
    for predicate in kill_points:
        if predicate(os.listdir(out) if out.is_dir() else []):
            continue
        try:
            _kill_when(cmd, str(out), predicate)
        except AssertionError:
            break  # the run outpaced this kill point and finished: nothing left to interrupt
        path = latest_checkpoint(str(out))
        if path is not None:
            load_checkpoint(path, weights_only=False)  # never a corrupt checkpoint
    _run(cmd)
    resumed = _final_model(out)
    assert resumed.keys() == reference.keys()
    for key in reference:
        assert torch.equal(resumed[key], reference[key]), key
    straight_sel = json.loads((tmp_path / "straight" / "selection.json").read_text())
    resumed_sel = json.loads((out / "selection.json").read_text())
    assert straight_sel == resumed_sel


def test_rerun_after_finish_does_nothing_and_nbest_files(data, tmp_path):
    opts = ["--max_epoch", "3", "--batch_size", "16", "--keep_nbest_models", "2",
            "--best_model_criterion", "valid loss min", "valid acc max"]
    _run(_train_cmd(data, tmp_path / "exp", *opts))
    names = set(os.listdir(tmp_path / "exp"))
    assert {"valid.loss.best.pth", "valid.acc.best.pth", "config.yaml", "train.log"} <= names
    assert len([n for n in names if n.endswith("epoch.pth")]) <= 3
    assert os.path.isfile(tmp_path / "exp" / "images" / "loss.png")
    again = _run(_train_cmd(data, tmp_path / "exp", *opts))
    assert "nothing to do" in again.stderr
