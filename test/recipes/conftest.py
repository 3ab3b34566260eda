"""Recipe tests run a copy of a recipe in a temporary tree that links to this checkout."""
import os
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def recipe(tmp_path):
    """Return a function copying egs/<corpus>/<task> into tmp_path and running its run.sh."""

    def make(corpus, task):
        for name in ("tools", "utils", "toolkit"):
            os.symlink(os.path.join(ROOT, name), tmp_path / name)
        os.makedirs(tmp_path / "egs" / corpus)
        os.symlink(os.path.join(ROOT, "egs", "TEMPLATE"), tmp_path / "egs" / "TEMPLATE")
        workdir = tmp_path / "egs" / corpus / task
        shutil.copytree(os.path.join(ROOT, "egs", corpus, task), workdir, symlinks=True,
                        ignore=shutil.ignore_patterns("data", "dump", "exp", "downloads"))

        def run(*args, timeout=600):
            proc = subprocess.run(["./run.sh", *args], cwd=workdir, capture_output=True, text=True,
                                  timeout=timeout)
            assert proc.returncode == 0, f"run.sh {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            return proc

        return workdir, run

    return make
