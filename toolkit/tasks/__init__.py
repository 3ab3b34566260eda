"""Tasks: what a model learns from which data. `get_task(name)` finds one by name."""
import importlib

from toolkit.utils.errors import ConfigError

BUILTIN = ("asr", "lm", "sep", "tts", "vocoder")

_TASKS = {}


def register_task(cls):
    """Class decorator adding a Task subclass to the registry under cls.name."""
    _TASKS[cls.name] = cls
    return cls


def get_task(name):
    """The Task class registered as `name` (a built-in task's module is imported on first use)."""
    if name in BUILTIN and name not in _TASKS:
        importlib.import_module(f"toolkit.tasks.{name}")  # registers itself
    if name not in _TASKS:
        raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(sorted(set(BUILTIN) | set(_TASKS)))}")
    return _TASKS[name]
