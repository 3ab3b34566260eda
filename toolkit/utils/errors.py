"""Errors a user can fix, and the CLI wrapper that prints them without a traceback."""
import functools
import logging
import sys


class ToolkitError(Exception):
    """An error caused by input or configuration; the message says what to fix."""


class DataError(ToolkitError):
    """Bad data: the message names the file, line or utterance."""


class ConfigError(ToolkitError):
    """Bad configuration: the message names the key and the file."""


def cli_main(func):
    """Wrap a CLI `main`: ToolkitError -> 'ERROR: message' on stderr and exit status 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ToolkitError as err:
            logging.shutdown()
            print(f"ERROR: {err}", file=sys.stderr)
            sys.exit(1)

    return wrapper
