"""Checkpoints: exact round trip, atomic writes, and a clear error for every kind of damage."""

import os
import stat

import numpy as np
import pytest

import purerl
from purerl import checkpoint
from purerl.checkpoint import CheckpointError


def _state(rng):
    return {
        "params": {"theta": rng.normal(size=7), "phi": rng.normal(size=(2, 3)).astype(np.float32)},
        "optim": {"m": rng.normal(size=7), "t": np.int64(5)},
        "rng": {"pcg64": np.array([2**64 - 1, 3, 0, 1], dtype=np.uint64)},
        "stats": {"returns": np.array([1.5, -2.0]), "episodes": np.int64(2)},
        "name": np.array("CartPole-v1"),
    }


def _save(path, state, **overrides):
    kwargs = dict(algo="fake", env="Fake-v0", config_json='{"lr": 0.1}',
                  meta={"env_steps": 64, "seed": 3})
    kwargs.update(overrides)
    checkpoint.save(path, state, **kwargs)


@pytest.fixture
def saved(tmp_path):
    state = _state(np.random.default_rng(0))
    path = tmp_path / "step.npz"
    _save(path, state)
    return path, state


def test_round_trip_is_exact_and_nested(saved):
    path, state = saved
    ck = checkpoint.load(path)
    assert (ck.algo, ck.env, ck.meta, ck.config_json) == ("fake", "Fake-v0", {"env_steps": 64, "seed": 3},
                                                          '{"lr": 0.1}')
    flat = checkpoint.flatten(state)
    assert sorted(ck.flat_state) == sorted(flat)
    for key, value in flat.items():
        got = ck.flat_state[key]
        assert got.dtype == value.dtype and got.shape == value.shape and got.tobytes() == value.tobytes()
    assert ck.state["params"]["phi"].dtype == np.float32
    assert int(ck.state["rng"]["pcg64"][0]) == 2**64 - 1


def test_files_are_plain_arrays_loadable_without_pickle(saved):
    path, _ = saved
    with np.load(path, allow_pickle=False) as npz:
        assert "state/params/theta" in npz.files
        assert str(npz["purerl_version"]) == purerl.__version__
        assert int(npz["format"]) == checkpoint.FORMAT


def test_flatten_rejects_ambiguous_keys_and_objects():
    with pytest.raises(ValueError, match="'a/b'.*without '/'"):
        checkpoint.flatten({"a/b": np.zeros(1)})
    with pytest.raises(ValueError, match="'x/y' is not a numeric"):
        checkpoint.flatten({"x": {"y": np.array([{}], dtype=object)}})
    assert checkpoint.unflatten(checkpoint.flatten({"a": {"b": {"c": 1}}}))["a"]["b"]["c"] == 1


def test_every_truncation_is_one_clear_error(saved):
    path, _ = saved
    data = path.read_bytes()
    bad = path.with_name("bad.npz")
    for n in list(range(0, len(data), max(1, len(data) // 97))) + [len(data) - 1]:
        bad.write_bytes(data[:n])
        with pytest.raises(CheckpointError, match="cannot read checkpoint .*truncated or corrupted"):
            checkpoint.load(bad)


def test_corrupted_bytes_are_caught_or_the_content_is_unchanged(saved):
    """Flip each of many bytes: either the load fails with a CheckpointError (CRC,
    zip structure, header) or, for bytes that carry no data (timestamps), the
    arrays read back unchanged or under a changed name, which check_compatible
    then reports."""
    path, state = saved
    data = path.read_bytes()
    bad = path.with_name("bad.npz")
    flat = checkpoint.flatten(state)
    caught = 0
    for i in range(0, len(data), 13):
        flipped = bytearray(data)
        flipped[i] ^= 0xA5
        bad.write_bytes(bytes(flipped))
        try:
            ck = checkpoint.load(bad)
        except CheckpointError:
            caught += 1
            continue
        for key in set(ck.flat_state) & set(flat):
            assert ck.flat_state[key].tobytes() == flat[key].tobytes()
        if set(ck.flat_state) != set(flat):
            with pytest.raises(CheckpointError, match="does not fit"):
                checkpoint.check_compatible(ck, "fake", state)
    assert caught > 0


def test_kill_during_write_leaves_the_previous_checkpoint(saved, monkeypatch):
    path, state = saved
    before = path.read_bytes()

    def killed(src, dst):  # the process dies after writing the temp file, before the rename
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", killed)
    new_state = _state(np.random.default_rng(1))
    with pytest.raises(KeyboardInterrupt):
        _save(path, new_state)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert checkpoint.load(path).flat_state["params/theta"].tobytes() == state["params"]["theta"].tobytes()
    assert os.listdir(path.parent) == ["step.npz"]  # the temp file was removed


def test_half_written_temp_file_is_ignored(tmp_path):
    from purerl import runs

    (tmp_path / runs.CHECKPOINTS).mkdir()
    good = runs.checkpoint_path(tmp_path, 64)
    _save(good, _state(np.random.default_rng(0)))
    # What a SIGKILL in the middle of np.savez leaves: a partial temp file next to it.
    partial = tmp_path / runs.CHECKPOINTS / ".tmp-abc123.npz"
    partial.write_bytes(open(good, "rb").read()[:100])
    assert runs.latest_checkpoint(tmp_path) == good
    checkpoint.load(runs.latest_checkpoint(tmp_path))


def test_error_while_writing_removes_the_temp_file(tmp_path):
    path = tmp_path / "x.npz"
    with pytest.raises(ValueError):
        _save(path, {"bad": np.array([object()], dtype=object)})
    with pytest.raises(RuntimeError):
        checkpoint.atomic_write(path, lambda f: (f.write(b"partial"), (_ for _ in ()).throw(RuntimeError())))
    assert os.listdir(tmp_path) == []


def test_wrong_version_and_format_are_named(saved, monkeypatch):
    path, state = saved
    monkeypatch.setattr(checkpoint, "__version__", "0.0.1")
    _save(path, state)
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match=f"written by purerl 0.0.1; this is purerl {purerl.__version__}"):
        checkpoint.load(path)
    monkeypatch.setattr(checkpoint, "FORMAT", 99)
    _save(path, state)
    monkeypatch.undo()
    with pytest.raises(CheckpointError, match=f"checkpoint format 99; this purerl reads format {checkpoint.FORMAT}"):
        checkpoint.load(path)


def test_not_a_checkpoint(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, x=np.zeros(3))
    with pytest.raises(CheckpointError, match="is not a purerl checkpoint"):
        checkpoint.load(path)
    with pytest.raises(CheckpointError, match="does not exist"):
        checkpoint.load(tmp_path / "missing.npz")


def test_compatibility_names_every_mismatch(saved):
    path, state = saved
    ck = checkpoint.load(path)
    checkpoint.check_compatible(ck, "fake", state)
    with pytest.raises(CheckpointError, match="holds a 'fake' learner, not 'ppo'"):
        checkpoint.check_compatible(ck, "ppo", state)
    other = _state(np.random.default_rng(0))
    other["params"]["theta"] = np.zeros(9)
    other["params"]["phi"] = np.zeros((2, 3))  # float64 expected, float32 saved: same kind
    other["optim"]["t"] = np.float64(5)
    other["extra"] = np.zeros(1)
    del other["name"]
    with pytest.raises(CheckpointError) as info:
        checkpoint.check_compatible(ck, "fake", other)
    message = str(info.value)
    assert "missing extra" in message and "unexpected" not in message  # extra entries in the file are fine
    assert "params/theta has shape (7,) in the file, (9,) expected" in message
    assert "optim/t has dtype int64 in the file, float64 expected" in message
    assert "params/phi" not in message


def test_growing_buffers_may_differ_in_length(saved):
    path, state = saved
    ck = checkpoint.load(path)
    fresh = _state(np.random.default_rng(0))
    fresh["stats"]["returns"] = np.zeros(0)  # a new learner has no finished episodes yet
    checkpoint.check_compatible(ck, "fake", fresh)
    fresh["stats"]["returns"] = np.zeros((0, 2))
    with pytest.raises(CheckpointError, match="stats/returns has shape"):
        checkpoint.check_compatible(ck, "fake", fresh)


def test_written_files_get_ordinary_permissions(tmp_path):
    # mkstemp makes owner-only files; a run directory should be as readable
    # as any file the user creates (0666 less the umask).
    old = os.umask(0o022)
    try:
        checkpoint.atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.txt").st_mode) == 0o644
