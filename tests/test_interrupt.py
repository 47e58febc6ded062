"""Ctrl-C and kill -9 of the installed command: one line, exit 130, a consistent state; no worker outlives it."""
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from conftest import load_json, popen_cli, run_cli, wait_for_cached, write_bulk

FILES = 400  # ~440 KB each: a scan of a few seconds, in units of 64 files


@pytest.fixture(scope="module")
def bulk(tmp_path_factory):
    tree = tmp_path_factory.mktemp("bulk")
    os.chmod(tree, 0o755)
    write_bulk(tree / "bulk", files=FILES)
    return tree


def _scan(tree, state, out, *extra):
    # A session of its own: the test sends SIGINT to the whole process group, as a terminal does on Ctrl-C,
    # so the pool's workers get it too.
    return popen_cli("scan", tree, "--state-dir", state, "--out", out, "--quiet", "--workers", "2", *extra,
                     start_new_session=True)


def _ctrl_c(proc, delays=(0,)):
    for delay in delays:
        time.sleep(delay)
        try:
            os.killpg(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            break
    return proc.communicate(timeout=120)


def _ctrl_c_while_importing(tree, state, out_dir):
    """Ctrl-C while the command imports its own modules (after its first line ran; a Ctrl-C before Python has
    loaded any of vendorscan is Python's own): Python's import-time lines say when agent.cli imports its executor module."""
    proc = popen_cli("scan", tree, "--state-dir", state, "--out", out_dir, "--quiet", "--workers", "2", "--full",
                     env={"PYTHONPROFILEIMPORTTIME": "1"}, start_new_session=True)
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.rstrip().endswith("vendorscan.agent.executor"):
            os.killpg(proc.pid, signal.SIGINT)
            break
    out, err = proc.communicate(timeout=120)
    err = "".join(line for line in lines + err.splitlines(keepends=True) if not line.startswith("import time:"))
    return proc, out, err


def _state_is_consistent(state: Path) -> None:
    db = sqlite3.connect(state / "state.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.close()
    history = run_cli("history", "--state-dir", state)
    assert history.returncode == 0 and "Traceback" not in history.stderr, history.stderr


# Moments: while the command imports, while the pool starts (by time); once the first units, a third and half of
# the files are done (by progress, so a fast machine does not finish first); a burst of three.
@pytest.mark.parametrize("seconds, files, delays", [(0.05, 0, (0,)), (0.4, 0, (0,)), (0, 1, (0,)),
                                                    (0, FILES // 3, (0,)), (0, FILES // 3, (0, 0.05, 0.05)),
                                                    (0, FILES // 2, (0,))],
                         ids=["importing", "starting", "first-units", "a-third", "burst", "half"])
def test_ctrl_c_exits_130_with_one_line_and_a_consistent_state(bulk, tmp_path, seconds, files, delays):
    state = tmp_path / "state"
    if seconds and seconds < 0.1:
        proc, out, err = _ctrl_c_while_importing(bulk, state, tmp_path / "o")
    else:
        proc = _scan(bulk, state, tmp_path / "o", "--full")
        time.sleep(seconds)
        if files:
            wait_for_cached(state, files)
        out, err = _ctrl_c(proc, delays)
    assert proc.returncode == 130, out + err
    assert len(err.splitlines()) == 1 and err.startswith("vendorscan: interrupted"), err
    assert "Traceback" not in out + err and "BrokenProcessPool" not in out + err
    if (state / "state.db").exists():
        _state_is_consistent(state)


def test_the_scan_after_a_ctrl_c_resumes(bulk, tmp_path):
    state = tmp_path / "state"
    proc = _scan(bulk, state, tmp_path / "o1")
    wait_for_cached(state, 64)  # some units done, most still to come
    out, err = _ctrl_c(proc)
    assert proc.returncode == 130, out + err
    _state_is_consistent(state)
    db = sqlite3.connect(state / "state.db")
    assert [s for (s,) in db.execute("SELECT status FROM scans")] == ["interrupted"]
    db.close()
    rerun = run_cli("scan", bulk, "--state-dir", state, "--out", tmp_path / "o2", "--quiet", "--workers", "2")
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr  # complete; the ids are in a private folder
    assert "resumed after the interrupted scan" in rerun.stdout
    report = load_json(tmp_path / "o2" / "report.json")
    cov = report["targets"][0]
    assert cov["resources_unchanged"] >= 64 and cov["resources_read"] + cov["resources_unchanged"] == FILES
    se = [f for f in report["findings"] if f["kind"] == "se.personnummer"]
    assert len(se) == FILES and all(f["count"] == 1 for f in se)  # nothing lost, nothing counted twice


def _descendants(pid: int) -> set[int]:
    """Every live process below pid (the forkserver, pool workers, the resource tracker)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_kill_9_of_the_command_takes_its_workers_along(bulk, tmp_path):
    state = tmp_path / "state"
    proc = _scan(bulk, state, tmp_path / "o", "--full")
    wait_for_cached(state, 1)  # the pool is up and reading
    helpers = _descendants(proc.pid)
    assert len(helpers) >= 3, helpers  # forkserver and two workers at least
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in helpers):
        time.sleep(0.1)
    left = [p for p in helpers if _alive(p)]
    for p in left:  # do not leave them to the next test
        os.kill(p, signal.SIGKILL)
    assert not left, f"{len(left)} processes outlived the killed command by 5 s"
