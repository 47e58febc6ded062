"""`vendorscan agent`: schedules run, SIGTERM stops cleanly; a scan killed with -9 is resumed."""
import json
import signal
import sqlite3
import subprocess
import time

from conftest import OUTSIDE, cli, load_json, popen_cli, run_cli, wait_for_cached, write_bulk


def _config(tmp_path, tree, **agent):
    extra = "".join(f'{k} = "{v}"\n' if isinstance(v, str) else f"{k} = {v}\n" for k, v in agent.items())
    cfg = tmp_path / "agent.toml"
    cfg.write_text(f'[scan]\nstate_dir = "{tmp_path / "state"}"\n\n[agent]\nreports_dir = "{tmp_path / "reports"}"\n'
                   f'{extra}\n[[targets]]\nname = "tree"\ntype = "local"\npaths = ["{tree}"]\n'
                   f'schedule = "* * * * * */1"\n')
    return cfg


def _agent(cfg, *args):
    return popen_cli("--log-format", "json", "--log-level", "info", "agent", "--config", cfg, *args)


def test_schedule_every_second_runs_scans_and_keeps_n(open_dir, tmp_path):
    tree = open_dir / "t"
    tree.mkdir()
    (tree / "a.csv").write_text("personnummer 850412-1230\n")
    proc = _agent(_config(tmp_path, tree, keep=2, deliver_to=str(tmp_path / "dropbox")), "--runs", "3")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    runs = sorted((tmp_path / "reports" / "tree").iterdir())
    assert len(runs) == 2  # three scans ran, the oldest report directory was pruned
    assert all((r / "report.json").exists() for r in runs)
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert sum(1 for entry in logs if entry["message"].startswith("scan of tree finished")) == 3
    assert len(list((tmp_path / "dropbox").glob("bundle-*"))) == 3
    delivered = next((tmp_path / "dropbox").glob("bundle-*"))
    assert run_cli("verify", delivered, "--state-dir", tmp_path / "state").returncode == 0  # the agent's own key


def test_sigterm_stops_cleanly(open_dir, tmp_path):
    tree = open_dir / "t"
    tree.mkdir()
    (tree / "a.csv").write_text("personnummer 850412-1230\n")
    proc = _agent(_config(tmp_path, tree))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list((tmp_path / "reports").glob("tree/*/report.json")):
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "agent stopped after" in err and "Traceback" not in err
    db = sqlite3.connect(tmp_path / "state" / "state.db")
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_kill_9_mid_scan_then_rerun_resumes(open_dir, tmp_path):
    tree = open_dir / "big"
    tree.mkdir()
    write_bulk(tree / "bulk", files=300)
    state, total = tmp_path / "state", 300
    cmd = cli("scan", tree, "--quiet", "--workers", "1", "--state-dir", state)
    proc = subprocess.Popen(cmd + ["--out", str(tmp_path / "o1")], cwd=OUTSIDE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_for_cached(state, 64)  # kill once some work units are done
    cache = state / "state.db"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rerun = subprocess.run(cmd + ["--out", str(tmp_path / "o2")], cwd=OUTSIDE, capture_output=True, text=True)
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    report = load_json(tmp_path / "o2" / "report.json")
    cov = report["targets"][0]
    assert report["scan"]["resumed_from"] and "resumed after the interrupted scan" in rerun.stdout
    assert cov["resources_unchanged"] >= 64 and cov["resources_read"] + cov["resources_unchanged"] == total
    se = [f for f in report["findings"] if f["kind"] == "se.personnummer"]
    assert len(se) == total and all(f["count"] == 1 for f in se)  # nothing lost, nothing counted twice
    db = sqlite3.connect(cache)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert ("interrupted",) in db.execute("SELECT status FROM scans").fetchall()


def test_bundles_delivered_to_an_s3_drop_box(open_dir, tmp_path):
    import servers
    server, endpoint, s3 = servers.start_moto()
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-north-1",
           "AWS_ENDPOINT_URL": endpoint, "AWS_EC2_METADATA_DISABLED": "true"}
    try:
        s3.create_bucket(Bucket="dropbox", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        tree = open_dir / "t"
        tree.mkdir()
        (tree / "a.csv").write_text("personnummer 850412-1230\n")
        cfg = _config(tmp_path, tree, deliver_to="s3://dropbox/audits")
        proc = run_cli("agent", "--config", cfg, "--runs", "1", env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="dropbox")["Contents"]]
        assert any(k.endswith("/manifest.json") for k in keys) and any(k.endswith("/manifest.sig") for k in keys)
        assert all(k.startswith("audits/bundle-") for k in keys)
    finally:
        server.stop()


def test_the_agent_waits_while_another_scan_holds_its_state_dir(open_dir, tmp_path):
    from vendorscan.agent.state import ScanLock
    tree = open_dir / "busy"
    tree.mkdir()
    (tree / "a.csv").write_text("personnummer 850412-1230\n")
    cfg = _config(tmp_path, tree)
    (tmp_path / "state").mkdir()
    with ScanLock(tmp_path / "state"):  # a manual scan is running
        proc = _agent(cfg, "--runs", "1")
        time.sleep(3)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    logs = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert any("not started" in e["message"] and "another scan" in e["message"] for e in logs)
    assert sum(1 for e in logs if e["message"].startswith("scan of tree finished")) == 1  # after the lock went
