"""Run a command as parallel jobs, each with its own log (the Kaldi run.pl interface).

    utils/run.sh [--max_jobs N] JOB=1:N exp/log/foo.JOB.log cmd args...
    utils/run.sh exp/log/foo.log cmd args...

Every JOB in the log path and the command is replaced by the job index. The command
runs through `bash -c`: a single argument is taken as a shell command line, so
`"a | b > out.JOB"` works; several arguments are joined, quoting those that hold
whitespace, so Kaldi's escaped `\\|` and `\\>` stay shell operators. stdout and
stderr go to the log, framed by Kaldi's `# command` header and `# Accounting` and
`# Ended (code C)` footer. Exits 1 if any job fails, after printing each failed
job's exit code, log path and log tail.
"""
import argparse
import collections
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TAIL_LINES = 20
FOOTER_LINES = 2
JOB_RANGE = re.compile(r"([A-Za-z_]\w*)=(\d+)(?::(\d+))?")


class Interrupted(Exception):
    """Raised in the main thread on SIGINT/SIGTERM."""


def _on_signal(signum, frame):
    raise Interrupted(signum)


def shell_command(args):
    """One argument is a shell command line; several are joined like run.pl does."""
    if len(args) == 1:
        return args[0]
    return " ".join(a if re.fullmatch(r"\S+", a) else shlex.quote(a) for a in args)


class Runner:
    """Runs jobs in their own process groups so that all can be killed at once."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running = set()
        self._stopped = False

    def run(self, cmd, log):
        """Run `cmd` with its output in `log`; return the exit code (None if stopped)."""
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "w") as out:
            out.write(f"# {cmd}\n# Started at {time.ctime()}\n#\n")
            out.flush()  # the job writes after the header through the shared file offset
            start = time.time()
            with self._lock:
                if self._stopped:
                    return None
                proc = subprocess.Popen(["bash", "-c", cmd], stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, start_new_session=True)
                self._running.add(proc)
            code = proc.wait()
            with self._lock:
                self._running.discard(proc)
            code = 128 - code if code < 0 else code  # killed by a signal: shell convention
            elapsed = round(time.time() - start)
            out.write(f"# Accounting: time={elapsed} threads=1\n"
                      f"# Ended (code {code}) at {time.ctime()}, elapsed time {elapsed} seconds\n")
        return code

    def kill_all(self):
        """Stop starting jobs and send SIGTERM to every running job's process group."""
        with self._lock:
            self._stopped = True
            for proc in self._running:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass


def log_tail(log):
    """The last TAIL_LINES lines the job wrote (without the runner's footer)."""
    with open(log, errors="replace") as f:
        lines = list(collections.deque(f, maxlen=TAIL_LINES + FOOTER_LINES))
    return lines[:-FOOTER_LINES]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="run.sh", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="%(prog)s [--max_jobs N] [JOB=1:N] LOG CMD [ARG...]")
    parser.add_argument("--max_jobs", "--max-jobs", type=int, default=None,
                        help="jobs running at once (default: all)")
    parser.add_argument("words", nargs=argparse.REMAINDER, metavar="[JOB=1:N] LOG CMD [ARG...]")
    args = parser.parse_args(argv)
    match = JOB_RANGE.fullmatch(args.words[0]) if args.words else None
    if match:
        args.words.pop(0)
        args.name, first, last = match[1], int(match[2]), int(match[3] or match[2])
        args.jobs = list(range(first, last + 1))
    else:
        args.name, args.jobs = None, [None]
    if len(args.words) < 2:
        parser.error("need a log path and a command")
    if not args.jobs:
        parser.error(f"empty job range {match[0]}")
    if len(args.jobs) > 1 and args.name not in args.words[0]:
        parser.error(f"{len(args.jobs)} jobs would share one log: put {args.name} in the log path")
    if args.max_jobs is not None and args.max_jobs < 1:
        parser.error("--max_jobs must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    log, cmd = args.words[0], shell_command(args.words[1:])

    def fill(text, job):
        return text if job is None else text.replace(args.name, str(job))

    logs = [Path(fill(log, job)) for job in args.jobs]
    cmds = [fill(cmd, job) for job in args.jobs]
    runner = Runner()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_signal)
    pool = ThreadPoolExecutor(args.max_jobs or len(args.jobs))
    try:
        codes = list(pool.map(runner.run, cmds, logs))
    except Interrupted as e:
        runner.kill_all()
        pool.shutdown(cancel_futures=True)
        print(f"run.sh: interrupted by signal {e.args[0]}; killed the running jobs", file=sys.stderr)
        sys.exit(128 + e.args[0])
    pool.shutdown()

    failed = [(job, code, path) for job, code, path in zip(args.jobs, codes, logs) if code]
    for job, code, path in failed:
        what = "command" if job is None else f"job {job}"
        print(f"run.sh: {what} failed with exit code {code}; log: {path}", file=sys.stderr)
        for line in log_tail(path):
            print(f"  | {line}", end="" if line.endswith("\n") else "\n", file=sys.stderr)
    if failed:
        if len(args.jobs) > 1:
            print(f"run.sh: {len(failed)} of {len(args.jobs)} jobs failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
