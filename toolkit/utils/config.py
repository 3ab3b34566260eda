"""Options from code defaults, a yaml file and the command line, in that order.

Declare options on the parser from `get_parser` in --snake_case, nested model
options (`encoder_conf: {...}`) with `add_dict_option`, then call `parse_args`:

    code default  <  yaml given by --config  <  command line

A dict option is merged key by key (recursively) at each step, so every layer
names only the keys it changes: `--encoder_conf '{output_size: 128}'` or
`--encoder_conf.output_size 128` (dotted overrides apply last). Dashes work in
option names (`--max-epoch` is `--max_epoch`). An unknown key in the yaml is a
ConfigError naming the key and the file; an unknown command-line option is an
argparse error. `save_config` writes the resolved options; giving that file
back as --config reproduces them.

Yaml files are read with PyYAML's safe loader, except that `1e-3` is a float
(plain PyYAML reads it as a string) and a repeated key is an error.
"""
import argparse
import copy
import difflib
import pathlib
import re
import sys

import configargparse
import yaml

from toolkit.utils.errors import ConfigError

_META_OPTIONS = ("config", "print_config")
_EXPONENT_FLOAT = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_LONG_OPTION = re.compile(r"--([\w-]+)(?=$|[.=])")


class _Loader(yaml.SafeLoader):
    """Safe loader reading `1e-3` as a float and refusing repeated keys."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                key = self.construct_object(key_node)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        "while reading a mapping", node.start_mark,
                        f"found key {key!r} twice", key_node.start_mark)
                seen.add(key)
        return super().construct_mapping(node, deep)


class _Dumper(yaml.SafeDumper):
    """Safe dumper matching `_Loader`: quotes strings like '1e-3', writes paths as strings."""


for _cls in (_Loader, _Dumper):
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789"))
_Dumper.add_multi_representer(pathlib.PurePath, lambda dumper, p: dumper.represent_str(str(p)))


def str2bool(value):
    """Argparse type: true/false, yes/no, 1/0 (any case) -> bool."""
    lowered = value.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false/yes/no/1/0, got {value!r}")


def int_or_none(value):
    """Argparse type: an int, or None for 'none'/'null' (any case)."""
    return None if value.lower() in ("none", "null") else int(value)


def str_or_none(value):
    """Argparse type: a string, or None for 'none'/'null' (any case)."""
    return None if value.lower() in ("none", "null") else value


def _yaml_mapping(text):
    """Argparse type of dict options: a yaml mapping such as '{output_size: 128}'."""
    try:
        value = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as err:
        raise argparse.ArgumentTypeError(f"invalid yaml {text!r}: {err}") from None
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected a yaml mapping like '{{key: value}}', got {text!r}")
    return value


def _merge(base, override):
    """Return a new dict: `override` merged over `base`, recursing into nested dicts."""
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class _MergeDictAction(argparse.Action):
    """Merge the given mapping over the option's current value instead of replacing it."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, _merge(getattr(namespace, self.dest) or {}, values))


def get_parser(description=None):
    """A configargparse parser with --config and --print_config already added."""
    parser = configargparse.ArgumentParser(
        description=description,
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument("--config", metavar="YAML",
                        help="yaml file of option values; command-line options override it")
    parser.add_argument("--print_config", action="store_true",
                        help="print the resolved config as yaml and exit")
    return parser


def add_dict_option(parser, name, default=None, help=""):
    """Add `--name`, a nested mapping merged over its default, the yaml value, then the command line."""
    parser.add_argument(
        f"--{name}", action=_MergeDictAction, type=_yaml_mapping, default=dict(default or {}),
        metavar="YAML", help=f"{help} (a yaml mapping; or set one key with --{name}.KEY VALUE)".lstrip())


def load_config(path):
    """Read a yaml config file into a dict; ConfigError naming the file (and line) if it cannot."""
    try:
        with open(path, "rb") as stream:
            data = yaml.load(stream, Loader=_Loader)
    except OSError as err:
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"invalid yaml in config file {path}:\n{err}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a yaml mapping of option: value, "
                          f"not a {type(data).__name__}")
    return data


def _resolved(config):
    """The options of a Namespace or dict, without --config and --print_config."""
    items = vars(config) if isinstance(config, argparse.Namespace) else config
    return {key: value for key, value in items.items() if key not in _META_OPTIONS}


def to_yaml(config):
    """The resolved options of a Namespace or dict as yaml text, in declaration order."""
    return yaml.dump(_resolved(config), Dumper=_Dumper, sort_keys=False,
                     allow_unicode=True, default_flow_style=False)


def save_config(config, path):
    """Write the resolved options (Namespace or dict) to `path` as yaml, creating its directory."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(to_yaml(config), encoding="utf-8")


def parse_args(parser, argv=None):
    """Resolve code defaults < --config yaml < command line into a Namespace.

    Handles dashes in option names, dotted dict overrides and --print_config
    (prints the yaml and exits 0). Raises ConfigError for a bad yaml file.
    Options a yaml may set must not be `required=True`: argparse would still ask for them.
    """
    argv = _snake_case_options(sys.argv[1:] if argv is None else list(argv))
    argv, dotted = _split_dotted(parser, argv)
    namespace = argparse.Namespace(**{
        action.dest: copy.deepcopy(action.default) for action in parser._actions
        if action.dest != argparse.SUPPRESS and action.default != argparse.SUPPRESS})
    config_path = _config_path(argv)
    if config_path is not None:
        _apply_yaml(parser, namespace, config_path)
    namespace = parser.parse_args(argv, namespace)
    for dest, keys, value in dotted:
        for key in reversed(keys):
            value = {key: value}
        setattr(namespace, dest, _merge(getattr(namespace, dest), value))
    if namespace.print_config:
        print(to_yaml(namespace), end="")
        sys.exit(0)
    return namespace


def _snake_case_options(argv):
    """Turn dashes into underscores in long option names (`--max-epoch=3` -> `--max_epoch=3`)."""
    result = []
    for index, token in enumerate(argv):
        if token == "--":
            return result + argv[index:]
        match = _LONG_OPTION.match(token)
        if match:
            token = "--" + match[1].replace("-", "_") + token[match.end():]
        result.append(token)
    return result


def _split_dotted(parser, argv):
    """Take `--dict_option.key.subkey VALUE` out of argv as (dest, [key, subkey], yaml value)."""
    dict_dests = {action.dest for action in parser._actions if isinstance(action, _MergeDictAction)}
    rest, dotted = [], []
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            rest += [token, *tokens]
            break
        option, has_value, value = token.partition("=")
        dest, _, keys = option.removeprefix("--").partition(".")
        if not (option.startswith("--") and keys and dest in dict_dests):
            rest.append(token)
            continue
        if not has_value:
            value = next(tokens, None)
            if value is None:
                parser.error(f"argument {option}: expected one argument")
        if "" in keys.split("."):
            parser.error(f"argument {option}: empty key in dotted option")
        try:
            dotted.append((dest, keys.split("."), yaml.load(value, Loader=_Loader)))
        except yaml.YAMLError as err:
            parser.error(f"argument {option}: invalid yaml value {value!r}: {err}")
    return rest, dotted


def _config_path(argv):
    """The last `--config PATH` or `--config=PATH` in argv, or None."""
    path = None
    for index, token in enumerate(argv):
        if token == "--":
            break
        if token == "--config" and index + 1 < len(argv):
            path = argv[index + 1]
        elif token.startswith("--config="):
            path = token[len("--config="):]
    return path


def _apply_yaml(parser, namespace, path):
    """Set the options found in yaml file `path` on `namespace`, checking each key and value."""
    config = load_config(path)
    actions = {action.dest: action for action in parser._actions
               if hasattr(namespace, action.dest) and action.dest not in _META_OPTIONS}
    unknown = [key for key in config if key not in actions]
    if unknown:
        raise _unknown_keys_error(unknown, actions, path)
    for key, value in config.items():
        action = actions[key]
        if isinstance(value, str) and callable(action.type):
            try:
                value = action.type(value)
            except (argparse.ArgumentTypeError, TypeError, ValueError) as err:
                raise ConfigError(
                    f"config file {path}: invalid value {value!r} for {key}: {err}") from None
        if action.choices is not None:
            for item in value if isinstance(value, list) else [value]:
                if item not in action.choices:
                    raise ConfigError(f"config file {path}: {key} is {item!r}, "
                                      f"expected one of {list(action.choices)}")
        if isinstance(action, _MergeDictAction):
            if not isinstance(value, (dict, type(None))):
                raise ConfigError(f"config file {path}: {key} must be a yaml mapping, got {value!r}")
            value = _merge(getattr(namespace, key), value or {})
        setattr(namespace, key, value)


def _unknown_keys_error(unknown, known, path):
    """ConfigError listing the unknown keys of config file `path`, with close known names."""
    names = []
    for key in map(str, unknown):
        close = difflib.get_close_matches(key, known, n=1)
        names.append(repr(key) + (f" (did you mean {close[0]!r}?)" if close else ""))
    plural = "s" if len(names) > 1 else ""
    return ConfigError(f"unknown key{plural} {', '.join(names)} in config file {path}")
