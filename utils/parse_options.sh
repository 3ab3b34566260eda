# Kaldi-style option parsing for bash scripts; source it after setting defaults:
#
#   stage=1; use_gpu=false; help_message="Usage: $0 [options] <data-dir>"
#   . utils/parse_options.sh
#   data=$1
#
# `--foo-bar v`, `--foo_bar v` and `--foo-bar=v` set $foo_bar, which must already
# have a default: anything else is an error. Options whose default is true/false
# only take true/false. `--config FILE` sources a file of var=value lines before
# the other options are applied; `--help`/`-h` prints $help_message and the options
# with their current values. Parsing stops at `--` or at the first argument that
# is not an option; the remaining arguments are left in "$@".

_po_die() {
    echo "$0: $*" >&2
    exit 1
}

# _po_set OPTION VALUE: set the variable named by OPTION (--foo-bar -> foo_bar).
_po_set() {
    local _po_var=${1#--}
    _po_var=${_po_var//-/_}
    [[ $_po_var =~ ^[A-Za-z_][A-Za-z0-9_]*$ && -v $_po_var ]] \
        || _po_die "unknown option $1 (see --help)"
    if [[ ${!_po_var} == true || ${!_po_var} == false ]] && [[ $2 != true && $2 != false ]]; then
        _po_die "option $1 takes true or false, not '$2'"
    fi
    printf -v "$_po_var" '%s' "$2"
}

# _po_config FILE: check that FILE only sets known variables, then source it.
_po_config() {
    [[ -r $1 ]] || _po_die "cannot read config file '$1'"
    local _po_line _po_n=0
    while IFS= read -r _po_line || [[ -n $_po_line ]]; do
        _po_n=$((_po_n + 1))
        [[ $_po_line =~ ^[[:space:]]*(#.*)?$ ]] && continue
        [[ $_po_line =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)= ]] \
            || _po_die "$1 line $_po_n: expected var=value, got '$_po_line'"
        [[ -v ${BASH_REMATCH[1]} ]] || _po_die "$1 line $_po_n: unknown option ${BASH_REMATCH[1]}"
    done < "$1"
    . "$1"
}

# Print $help_message and every option (a lowercase, unexported scalar) with its value.
_po_help() {
    [[ -z ${help_message-} ]] || printf '%s\n' "$help_message"
    echo "Options (current values; --foo-bar is the same as --foo_bar):"
    local _po_name
    for _po_name in $(compgen -v); do
        [[ $_po_name =~ ^[a-z][a-z0-9_]*$ && $_po_name != help_message ]] || continue
        [[ ${!_po_name@a} != *[xaAr]* ]] || continue
        printf '  --%-24s %s\n' "$_po_name" "${!_po_name:-"''"}"
    done
}

# First pass: source config files, so that command-line options override them.
_po_args=("$@")
for ((_po_i = 0; _po_i < ${#_po_args[@]}; _po_i++)); do
    case ${_po_args[_po_i]} in
        --config)
            ((++_po_i < ${#_po_args[@]})) || _po_die "option --config needs a value"
            _po_config "${_po_args[_po_i]}" ;;
        --config=*) _po_config "${_po_args[_po_i]#--config=}" ;;
        --help | -h | --*=*) ;;
        --) break ;;
        --*) ((++_po_i)) ;;
        *) break ;;
    esac
done

# Second pass: apply the options and leave the positional arguments in "$@".
while (($# > 0)); do
    case $1 in
        --help | -h) _po_help; exit 0 ;;
        --) shift; break ;;
        --config=*) shift ;;
        --config) shift 2 ;;
        --*=*) _po_set "${1%%=*}" "${1#*=}"; shift ;;
        --*)
            (($# > 1)) || _po_die "option $1 needs a value"
            _po_set "$1" "$2"; shift 2 ;;
        *) break ;;
    esac
done

unset _po_args _po_i
unset -f _po_die _po_set _po_config _po_help
true
