"""utils/parse_options.sh, sourced by a real bash script."""
import subprocess
from pathlib import Path

PARSE_OPTIONS = Path(__file__).resolve().parents[2] / "utils" / "parse_options.sh"

SCRIPT = f"""set -euo pipefail
stage=1
foo_bar=abc
use_gpu=false
help_message="Usage: demo.sh [options] <dir>"
. {PARSE_OPTIONS}
echo "stage=$stage foo_bar=$foo_bar use_gpu=$use_gpu"
for arg in "$@"; do echo "arg=$arg"; done
"""


def run(tmp_path, *args):
    script = tmp_path / "demo.sh"
    script.write_text(SCRIPT)
    return subprocess.run(["bash", str(script), *args], cwd=tmp_path, capture_output=True, text=True)


def test_defaults_and_positional_args(tmp_path):
    res = run(tmp_path, "a b", "c")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["stage=1 foo_bar=abc use_gpu=false", "arg=a b", "arg=c"]


def test_dash_underscore_and_equals_forms(tmp_path):
    res = run(tmp_path, "--stage", "3", "--foo-bar=x y", "--use_gpu", "true", "pos", "--stage", "9")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["stage=3 foo_bar=x y use_gpu=true", "arg=pos", "arg=--stage", "arg=9"]
    assert run(tmp_path, "--foo_bar", "q").stdout.startswith("stage=1 foo_bar=q ")


def test_double_dash_ends_options(tmp_path):
    assert run(tmp_path, "--stage", "2", "--", "--x").stdout.splitlines()[1:] == ["arg=--x"]


def test_unknown_option_is_an_error(tmp_path):
    res = run(tmp_path, "--no-such", "1")
    assert res.returncode == 1
    assert "unknown option --no-such" in res.stderr
    assert res.stdout == ""


def test_missing_value_is_an_error(tmp_path):
    res = run(tmp_path, "--stage")
    assert res.returncode == 1
    assert "option --stage needs a value" in res.stderr


def test_boolean_only_takes_true_or_false(tmp_path):
    res = run(tmp_path, "--use-gpu", "yes")
    assert res.returncode == 1
    assert "--use-gpu takes true or false" in res.stderr


def test_config_file_then_command_line(tmp_path):
    (tmp_path / "my.conf").write_text("# comment\n\nstage=5\nfoo_bar='from conf'\n")
    res = run(tmp_path, "--stage", "7", "--config", "my.conf")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["stage=7 foo_bar=from conf use_gpu=false"]


def test_config_file_with_unknown_variable(tmp_path):
    (tmp_path / "bad.conf").write_text("stage=2\nnope=1\n")
    res = run(tmp_path, "--config=bad.conf")
    assert res.returncode == 1
    assert "bad.conf line 2: unknown option nope" in res.stderr


def test_help_lists_options_with_defaults(tmp_path):
    res = run(tmp_path, "--foo-bar", "zz", "--help")
    assert res.returncode == 0
    lines = res.stdout.splitlines()
    assert lines[0] == "Usage: demo.sh [options] <dir>"
    options = {line.split()[0]: line.split()[1] for line in lines[2:]}
    assert options == {"--stage": "1", "--foo_bar": "zz", "--use_gpu": "false"}
    assert run(tmp_path, "-h").returncode == 0
