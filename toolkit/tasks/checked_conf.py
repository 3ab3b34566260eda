"""Check a yaml option mapping against the constructor it is passed to."""
import inspect

from toolkit.data.augment.conf import check_keys


def checked_conf(where, cls, conf, skip):
    """A copy of `conf` after checking its keys against cls's constructor, minus `skip` (the task's own)."""
    params = [name for name in inspect.signature(cls).parameters if name not in skip]
    check_keys(where, conf or {}, params)
    return dict(conf or {})
