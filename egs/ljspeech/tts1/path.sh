# Sourced by the stage scripts: the toolkit's venv, utils/ and python package.
. "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/../../../tools/activate.sh"
