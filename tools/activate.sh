# Source me: puts tools/venv and utils/ on PATH and the repository on PYTHONPATH.
_tk_tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_tk_root=$(dirname "$_tk_tools")
if [ ! -x "$_tk_tools/venv/bin/python" ]; then
    echo "tools/venv is missing: run 'make install' in $_tk_root" >&2
    return 1 2>/dev/null || exit 1
fi
export TOOLKIT_ROOT="$_tk_root"
export PATH="$_tk_tools/venv/bin:$_tk_root/utils:$PATH"
export PYTHONPATH="$_tk_root${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONIOENCODING=UTF-8
export LC_ALL=C
unset _tk_tools _tk_root
