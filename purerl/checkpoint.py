"""Checkpoints: a learner's whole state in one .npz file, written atomically.

Layout of the file (every entry a plain array; loaded with allow_pickle=False):

    format          int, FORMAT below (the layout's version)
    purerl_version  str, the version that wrote the file
    algo, env       str, registry name of the algorithm and environment name
    config          str, the algorithm's Config as a JSON object
    meta            str, JSON: seed, env_kwargs, env_steps, iteration,
                    total_steps, metrics_rows, wall_time
    state/...       the learner's state_dict(), nested dicts flattened with "/"

Writing goes to a temporary file in the same directory, is flushed and
fsync'ed, then renamed over the target with os.replace (atomic on POSIX and
Windows), so a crash or a kill mid-write leaves the previous file intact.
Every way a file can be unreadable becomes one CheckpointError whose message
says what is wrong.
"""

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass

import numpy as np

from purerl import __version__

FORMAT = 1
SEP = "/"
_STATE = "state" + SEP
_HEADER = ("format", "purerl_version", "algo", "env", "config", "meta")


class CheckpointError(ValueError):
    """A checkpoint cannot be read or does not fit the learner (one-line message)."""


def flatten(tree, prefix=""):
    """{"a": {"b": x}} -> {"a/b": x}; leaves become numpy arrays (no object dtype)."""
    flat = {}
    for key, value in tree.items():
        if not isinstance(key, str) or SEP in key or key == "":
            raise ValueError(f"state key {prefix + str(key)!r} must be a non-empty str without {SEP!r}")
        name = prefix + key
        if isinstance(value, dict):
            flat.update(flatten(value, name + SEP))
            continue
        array = np.asarray(value)
        if array.dtype == object:
            raise ValueError(f"state entry {name!r} is not a numeric or string array (dtype object)")
        flat[name] = array
    return flat


def unflatten(flat):
    """Inverse of `flatten`: {"a/b": x} -> {"a": {"b": x}}."""
    tree = {}
    for name, value in flat.items():
        *parents, leaf = name.split(SEP)
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def atomic_write(path, write, suffix=".tmp"):
    """Call write(binary file) on a temp file, fsync it, then os.replace it onto `path`.

    Readers see either the old file or the complete new one, never a mix.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    try:
        # mkstemp creates the file readable by its owner only; give it the
        # permissions an ordinary open() would (0666 less the umask).
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _umask():
    mask = os.umask(0)  # the only way to read it is to set it; put it back at once
    os.umask(mask)
    return mask


def atomic_savez(path, arrays):
    """np.savez to `path` atomically (see atomic_write)."""
    atomic_write(path, lambda f: np.savez(f, **arrays), suffix=".npz")


def atomic_write_text(path, text):
    """Write a text file atomically (see atomic_write)."""
    atomic_write(path, lambda f: f.write(text.encode("utf-8")))


def _fsync_directory(directory):
    # Makes the rename itself durable; not possible (nor needed) on Windows.
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass
class Checkpoint:
    """A loaded checkpoint: header fields, run info and the flat learner state."""

    path: str
    algo: str
    env: str
    config_json: str
    meta: dict
    flat_state: dict

    @property
    def state(self):
        return unflatten(self.flat_state)


def save(path, state, *, algo, env, config_json, meta):
    """Write a checkpoint of `state` (the learner's state_dict) atomically."""
    arrays = {
        "format": np.array(FORMAT, dtype=np.int64),
        "purerl_version": np.array(__version__),
        "algo": np.array(algo),
        "env": np.array(env),
        "config": np.array(config_json),
        "meta": np.array(json.dumps(meta)),
    }
    arrays.update({_STATE + k: v for k, v in flatten(state).items()})
    atomic_savez(path, arrays)


def _read_all(path):
    """Every array of the npz, read eagerly so CRC and truncation errors surface here."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {path} does not exist") from None
    except PermissionError:
        raise CheckpointError(f"checkpoint {path} is not readable (permission denied)") from None
    except Exception as err:  # noqa: BLE001 - any damage (zip, header, CRC, size) is one error
        raise CheckpointError(
            f"cannot read checkpoint {path}: the file is truncated or corrupted "
            f"({type(err).__name__}: {err})"
        ) from None


def load(path):
    """Read and check a checkpoint's header; CheckpointError says what is wrong."""
    path = os.fspath(path)
    arrays = _read_all(path)
    missing = [k for k in _HEADER if k not in arrays]
    if missing:
        raise CheckpointError(f"{path} is not a purerl checkpoint (missing {', '.join(missing)})")
    fmt = int(arrays["format"])
    if fmt != FORMAT:
        raise CheckpointError(f"{path} has checkpoint format {fmt}; this purerl reads format {FORMAT}")
    version = str(arrays["purerl_version"])
    if version != __version__:
        raise CheckpointError(
            f"{path} was written by purerl {version}; this is purerl {__version__} "
            f"(use purerl {version} to load it)"
        )
    try:
        meta = json.loads(str(arrays["meta"]))
        json.loads(str(arrays["config"]))
    except json.JSONDecodeError as err:
        raise CheckpointError(f"{path}: unreadable config or meta JSON ({err})") from None
    flat = {k[len(_STATE):]: v for k, v in arrays.items() if k.startswith(_STATE)}
    return Checkpoint(path, str(arrays["algo"]), str(arrays["env"]), str(arrays["config"]), meta, flat)


def check_compatible(checkpoint, algo, fresh_state):
    """Check a checkpoint against a freshly built learner's state_dict().

    Every entry of the fresh state must be in the file, with a dtype of the
    same kind and the same shape, except for entries that are empty in the
    fresh learner (growing buffers such as the recent-returns window), where
    only the number of dimensions must agree. The file may hold entries the
    fresh learner lacks: state created on first use (an optimizer's moments
    before its first step). Raises CheckpointError naming every mismatch.
    """
    where = checkpoint.path
    if checkpoint.algo != algo:
        raise CheckpointError(f"{where} holds a {checkpoint.algo!r} learner, not {algo!r}")
    fresh = flatten(fresh_state)
    saved = checkpoint.flat_state
    problems = [f"missing {k}" for k in sorted(set(fresh) - set(saved))]
    for key in sorted(set(fresh) & set(saved)):
        want, got = fresh[key], saved[key]
        if want.dtype.kind != got.dtype.kind:
            problems.append(f"{key} has dtype {got.dtype} in the file, {want.dtype} expected")
        elif want.size == 0 and want.ndim == got.ndim:
            continue
        elif want.shape != got.shape:
            problems.append(f"{key} has shape {got.shape} in the file, {want.shape} expected")
    if problems:
        shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if len(problems) > 6 else "")
        raise CheckpointError(f"{where} does not fit this {algo} learner: {shown}")
