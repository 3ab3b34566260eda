"""Atomic checkpoint files: save, load, link, and find the newest one to resume from.

A checkpoint is written to a hidden temp file in the same directory
(`.NAME~tmp~HOST~PID`), flushed and fsync'ed, renamed over the final name with
`os.replace`, and the directory is fsync'ed. A file under its final name is
therefore always complete; a writer killed mid-save leaves only a temp file,
which readers ignore and the next save in that directory removes (when its
writer, on this host, is no longer running).

Resume checkpoints are named `checkpoint_ep{E}_step{S}.pth` (no `latest`
pointer file: the name alone says which is newest, and there is no second file
to keep in step). `latest_checkpoint` picks the largest (epoch, step) whose file
is a complete zip archive (the format of `torch.save`), skipping and logging
damaged ones.

A trainer state holds the model's state dict under 'model' (beside optimizer,
scheduler, epoch, ...); averaging and --init_param accept it or a bare state dict.
"""
import logging
import os
import pickle
import re
import shutil
import socket
import uuid
import zipfile

import torch

from toolkit.utils.errors import DataError

_RESUME_NAME = re.compile(r"^checkpoint_ep(\d+)_step(\d+)\.pth$")
_TEMP_NAME = re.compile(r"^\..+~tmp~(?P<host>[^~]+)~(?P<pid>\d+)~[0-9a-f]+$")
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"


def _temp_path(path):
    """A hidden temp name next to `path` that says which host and process writes it."""
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{name}~tmp~{_HOST}~{os.getpid()}~{uuid.uuid4().hex[:8]}")


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temp_files(directory):
    """Delete temp files left by killed writers on this host; return their paths."""
    removed = []
    for name in os.listdir(directory):
        match = _TEMP_NAME.match(name)
        if match and match["host"] == _HOST and not _pid_alive(int(match["pid"])):
            path = os.path.join(directory, name)
            try:
                os.remove(path)
            except FileNotFoundError:  # another process cleaned it first
                continue
            removed.append(path)
    if removed:
        logging.info("removed %d temp file(s) of interrupted saves in %s", len(removed), directory)
    return removed


def _fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path, write):
    """Make `path` appear complete or not at all: write(temp_path) fills a temp file in the
    same directory, which is fsync'ed and renamed to `path` (parent dirs are created)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temp_files(directory)
    tmp = _temp_path(path)
    try:
        write(tmp)
        if not os.path.islink(tmp):
            with open(tmp, "rb+") as stream:
                os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.lexists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(directory)


def save_checkpoint(path, state):
    """Write `state` (tensors and plain python values) to `path` atomically."""
    def write(tmp):
        with open(tmp, "wb") as stream:
            torch.save(state, stream)
            stream.flush()

    write_atomically(path, write)


def load_checkpoint(path, map_location="cpu", weights_only=True):
    """Read a checkpoint written by `save_checkpoint` (or any torch.save file).

    weights_only=True (the default) unpickles only tensors and plain python values;
    pass False only for a trusted file holding other objects. A missing, truncated
    or corrupt file raises DataError naming it.
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=weights_only)
    except FileNotFoundError:
        raise DataError(f"checkpoint {path} does not exist") from None
    except pickle.UnpicklingError as err:
        if "Weights only load failed" in str(err):
            raise DataError(
                f"checkpoint {path} holds objects other than tensors and plain python values; "
                "re-save it with state dicts only, or load it with weights_only=False "
                "if you trust its source") from None
        raise DataError(f"checkpoint {path} is corrupt ({err}); delete it or "
                        "use an earlier checkpoint") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as err:
        detail = str(err).split(". ")[0] or type(err).__name__
        raise DataError(f"checkpoint {path} cannot be read ({detail}): it is probably truncated "
                        "or corrupt; delete it or use an earlier checkpoint") from None


def extract_model_state(checkpoint, path):
    """The model state dict in a loaded checkpoint: its 'model' entry (a trainer state) or itself."""
    state = checkpoint
    if isinstance(checkpoint, dict) and isinstance(checkpoint.get("model"), dict):
        state = checkpoint["model"]
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise DataError(f"checkpoint {path} is neither a state dict of tensors nor a trainer "
                        "state with one under 'model'")
    return state


def link_checkpoint(target, link):
    """Point `link` at file `target` atomically: a relative symlink, or a copy where symlinks fail."""
    target_abs = os.path.abspath(target)
    relative = os.path.relpath(target_abs, os.path.dirname(os.path.abspath(link)))
    try:
        write_atomically(link, lambda tmp: os.symlink(relative, tmp))
    except OSError:
        write_atomically(link, lambda tmp: shutil.copyfile(target_abs, tmp))


def resume_checkpoint_name(epoch, step):
    """File name of the resume checkpoint after `epoch` / global `step`."""
    return f"checkpoint_ep{epoch}_step{step}.pth"


def list_checkpoints(directory):
    """Resume checkpoints in `directory` as (epoch, step, path), oldest first; temp files ignored."""
    if not os.path.isdir(directory):
        return []
    found = []
    for name in os.listdir(directory):
        match = _RESUME_NAME.match(name)
        if match:
            found.append((int(match[1]), int(match[2]), os.path.join(directory, name)))
    return sorted(found)


def latest_checkpoint(directory):
    """Path of the newest complete resume checkpoint in `directory`, or None if there is none.

    A file that is not a complete zip archive (damaged outside our atomic save, e.g. by
    an interrupted copy) is skipped with a warning naming it.
    """
    for _, _, path in reversed(list_checkpoints(directory)):
        if zipfile.is_zipfile(path):
            return path
        logging.warning("skipping checkpoint %s: truncated or not a torch.save file", path)
    return None


def save_resume_checkpoint(directory, state, epoch, step, keep=1):
    """Save `state` as the resume checkpoint of (epoch, step) and delete the others but `keep`.

    Kept: this one and the `keep - 1` newest before it. Checkpoints after it belong to a
    run that was resumed from an earlier point; they are removed so that a later resume
    does not pick them up. Each removal is logged.
    """
    if keep < 1:
        raise ValueError(f"keep must be at least 1, got {keep}")
    path = os.path.join(directory, resume_checkpoint_name(epoch, step))
    save_checkpoint(path, state)
    others = [entry for entry in list_checkpoints(directory) if entry[2] != path]
    older = [p for e, s, p in others if (e, s) < (epoch, step)]
    newer = [p for e, s, p in others if (e, s) > (epoch, step)]
    for old in older[:len(older) - (keep - 1)]:
        os.remove(old)
        logging.info("removed old resume checkpoint %s", old)
    for stale in newer:
        os.remove(stale)
        logging.warning("removed resume checkpoint %s: it is past the one just saved "
                        "(left by a run that went further before this one resumed)", stale)
    return path
