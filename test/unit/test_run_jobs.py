"""utils/run.sh (toolkit.bin.run_jobs) with real bash jobs."""
import signal
import subprocess
import time
from pathlib import Path

from toolkit.bin.run_jobs import shell_command

RUN_SH = Path(__file__).resolve().parents[2] / "utils" / "run.sh"


def run(tmp_path, *args):
    return subprocess.run([str(RUN_SH), *args], cwd=tmp_path, capture_output=True, text=True)


def test_job_substitution_and_log_format(tmp_path):
    res = run(tmp_path, "JOB=1:4", "exp/log/echo.JOB.log", "echo", "job JOB", "of", "4")
    assert res.returncode == 0, res.stderr
    for job in range(1, 5):
        lines = (tmp_path / f"exp/log/echo.{job}.log").read_text().splitlines()
        assert lines[0] == f"# echo 'job {job}' of 4"
        assert f"job {job} of 4" in lines
        assert lines[-2] == "# Accounting: time=0 threads=1"
        assert lines[-1].startswith("# Ended (code 0) at ")


def test_pipes_and_redirections_in_quoted_command(tmp_path):
    res = run(tmp_path, "JOB=1:2", "log/JOB.log", "echo abc JOB | tr a-z A-Z > out.JOB; echo err >&2")
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "out.2").read_text() == "ABC 2\n"
    assert "err" in (tmp_path / "log/2.log").read_text().splitlines()


def test_escaped_pipe_between_arguments(tmp_path):
    res = run(tmp_path, "one.log", "echo", "a b", "|", "wc", "-w")
    assert res.returncode == 0, res.stderr
    assert "2" in (tmp_path / "one.log").read_text().splitlines()
    assert shell_command(["echo", "a b", "|", "wc"]) == "echo 'a b' | wc"


def test_max_jobs_1_runs_one_at_a_time(tmp_path):
    cmd = "echo start JOB >> events; sleep 0.02; echo end JOB >> events"
    res = run(tmp_path, "--max_jobs", "1", "JOB=1:3", "log/JOB.log", cmd)
    assert res.returncode == 0, res.stderr
    expected = [f"{what} {job}" for job in (1, 2, 3) for what in ("start", "end")]
    assert (tmp_path / "events").read_text().splitlines() == expected


def test_jobs_run_at_once_by_default(tmp_path):
    # Job 1 waits for job 2's flag, so the run only succeeds if both run together.
    cmd = ("if [ JOB = 2 ]; then touch flag; exit 0; fi; "
           "for i in $(seq 500); do [ -e flag ] && exit 0; sleep 0.01; done; exit 1")
    res = run(tmp_path, "--max-jobs", "2", "JOB=1:2", "log/JOB.log", cmd)
    assert res.returncode == 0, res.stderr


def test_failed_jobs_report_their_log_tail(tmp_path):
    cmd = "seq 1 30; echo failing job JOB >&2; exit $((JOB % 2 * 3))"
    res = run(tmp_path, "JOB=1:4", "exp/log/fail.JOB.log", cmd)
    assert res.returncode == 1
    for job in (1, 3):
        assert f"job {job} failed with exit code 3; log: exp/log/fail.{job}.log" in res.stderr
        assert f"failing job {job}" in res.stderr
    assert "job 2 failed" not in res.stderr and "job 4 failed" not in res.stderr
    tail = [line for line in res.stderr.splitlines() if line.startswith("  | ")]
    assert len(tail) == 2 * 20
    assert tail[:2] == ["  | 12", "  | 13"]
    assert "2 of 4 jobs failed" in res.stderr


def test_single_job_form_and_usage_errors(tmp_path):
    assert run(tmp_path, "new/dir/x.log", "true").returncode == 0
    assert (tmp_path / "new/dir/x.log").exists()
    res = run(tmp_path, "x.log", "exit 4")
    assert res.returncode == 1 and "command failed with exit code 4; log: x.log" in res.stderr
    res = run(tmp_path, "JOB=1:2", "shared.log", "true")
    assert res.returncode == 2 and "put JOB in the log path" in res.stderr


def test_sigterm_kills_running_jobs(tmp_path):
    proc = subprocess.Popen([str(RUN_SH), "JOB=1:2", "log/JOB.log", "echo $$ > pid.JOB; sleep 30 | cat"],
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    pid_files = [tmp_path / "pid.1", tmp_path / "pid.2"]
    while not all(p.exists() and p.read_text() for p in pid_files):
        time.sleep(0.01)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 128 + signal.SIGTERM
    assert "killed the running jobs" in proc.stderr.read()
    for p in pid_files:  # each job's shell and pipeline shared one process group
        deadline = time.time() + 5
        while live_in_group(int(p.read_text())) and time.time() < deadline:
            time.sleep(0.01)
        assert not live_in_group(int(p.read_text()))


def live_in_group(pgid):
    """Whether a process of group `pgid` is running (zombies, unreaped orphans here, are not)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, _, group = stat.read_text().rsplit(")", 1)[1].split()[:3]
        except OSError:
            continue
        if int(group) == pgid and state != "Z":
            return True
    return False
