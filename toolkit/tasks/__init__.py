"""Tasks: what a model learns from which data. `get_task(name)` finds one by name."""
from toolkit.utils.errors import ConfigError

_TASKS = {}


def register_task(cls):
    """Class decorator adding a Task subclass to the registry under cls.name."""
    _TASKS[cls.name] = cls
    return cls


def get_task(name):
    """The Task class registered as `name` (imports the built-in tasks first)."""
    from toolkit.tasks import asr, lm  # noqa: F401  (they register themselves)

    if name not in _TASKS:
        raise ConfigError(f"unknown task {name!r}; known tasks: {', '.join(sorted(_TASKS))}")
    return _TASKS[name]
