"""Speech separation networks: mixture [batch, samples] -> sources [batch, num_spks, samples].

Each network is built from the yaml `separator:` name and `separator_conf:` keyword arguments.
"""
import importlib
import inspect

from toolkit.utils.errors import ConfigError

SEPARATORS = {
    "conv_tasnet": "toolkit.models.sep.conv_tasnet:ConvTasNet",
    "dprnn": "toolkit.models.sep.dprnn:DPRNN",
    "mossformer2": "toolkit.models.sep.mossformer2:MossFormer2",
}


def separator_class(name):
    if name not in SEPARATORS:
        raise ConfigError(f"separator {name!r}: expected one of {sorted(SEPARATORS)}")
    module, cls = SEPARATORS[name].split(":")
    return getattr(importlib.import_module(module), cls)


def build_separator(name, conf=None):
    """The separator `name` built with the keyword arguments in `conf`; unknown keys are an error."""
    cls, conf = separator_class(name), dict(conf or {})
    accepted = inspect.signature(cls).parameters
    unknown = sorted(set(conf) - set(accepted))
    if unknown:
        raise ConfigError(f"separator_conf for {name}: unknown keys {unknown}; accepted: {sorted(accepted)}")
    return cls(**conf)
