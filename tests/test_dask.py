"""The Dask executor against real clusters (worker processes, TCP on loopback): an S3 bucket on moto's
server and a local tree give the findings a local scan gives; a worker killed mid-scan loses nothing; a
unit that kills its worker twice is listed as skipped with the reason."""
import json
import os
import signal
import time

import dask
import pytest
from distributed import Client, LocalCluster, WorkerPlugin

import servers
from conftest import assert_no_planted, crash_estate, files_under, load_json, popen_cli, run_cli, write_bulk

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-north-1",
         "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null",
         "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
BUCKET = "dask-exports"  # moto keeps one backend per process: the other modules' buckets too
ROW = "namn;personnummer;e-post\nAnna Lindqvist;850412-1230;anna.lindqvist@kommun-exempel.se\n"


@pytest.fixture(scope="module")
def estate(tmp_path_factory):
    """A bucket of 120 objects (every fifth with an id) on moto's server, and a local tree of 150 files."""
    server, endpoint, s3 = servers.start_moto()
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
    for i in range(120):
        body = ROW.replace("Anna", f"Anna{i}") if i % 5 == 0 else f"rad {i}: inget att rapportera\n"
        s3.put_object(Bucket=BUCKET, Key=f"hr/{i:04d}.csv", Body=body.encode())
    tree = tmp_path_factory.mktemp("tree")
    write_bulk(tree / "bulk", 150)
    (tree / "poison.txt").write_text("personnummer 850412-1230\n")
    yield endpoint, tree
    server.stop()


def _config(tmp_path, endpoint, tree, executor: str) -> str:
    cfg = tmp_path / "scan.toml"
    cfg.write_text(f"[executor]\n{executor}\nunit_files = 6\n\n"
                   f'[[targets]]\nname = "bucket"\ntype = "s3"\nendpoint_url = "{endpoint}"\nregion = "eu-north-1"\n'
                   f'buckets = ["{BUCKET}"]\n\n'
                   f'[[targets]]\nname = "tree"\ntype = "local"\npaths = ["{tree}"]\n')
    return str(cfg)


def _scan(cfg: str, state, out, env=None):
    proc = run_cli("scan", "--config", cfg, "--out", out, "--state-dir", state, "--quiet", "--full",
                   "--fail-on", "low", env={**CREDS, **(env or {})})
    return proc, (load_json(out / "report.json") if (out / "report.json").exists() else None)


def _findings(report) -> list[str]:
    """The findings, without their lifecycle (a second scan in the same state sees them persisting)."""
    return sorted(json.dumps({k: v for k, v in f.items() if k != "lifecycle"}, sort_keys=True)
                  for f in report["findings"])


@pytest.fixture(scope="module")
def local_scan(estate, tmp_path_factory):
    """The reference: the same estate through the local process pool, in a state dir the Dask scans reuse
    (one hash key, so value hashes and fingerprints compare)."""
    tmp = tmp_path_factory.mktemp("local")
    endpoint, tree = estate
    proc, report = _scan(_config(tmp, endpoint, tree, 'type = "local"\nworkers = 2'), tmp / "state", tmp / "out")
    assert proc.returncode == 1, proc.stderr
    return tmp / "state", report


def test_a_local_dask_cluster_finds_what_the_local_executor_finds(estate, local_scan, tmp_path):
    endpoint, tree = estate
    state, reference = local_scan
    proc, report = _scan(_config(tmp_path, endpoint, tree, 'type = "dask-local"\nworkers = 2'), state,
                         tmp_path / "out")
    assert proc.returncode == 1, proc.stderr
    assert all(line.startswith("vendorscan: ") for line in proc.stderr.splitlines()), proc.stderr  # not Dask's
    assert all(t["complete"] for t in report["targets"])
    assert _findings(report) == _findings(reference)
    seen = {t["target"]: t["resources_read"] for t in report["targets"]}
    assert seen == {t["target"]: t["resources_read"] for t in reference["targets"]} and seen["bucket"] == 120
    # what came back from the workers, and all the client wrote of it: masked and hashed only
    written = {p: p.read_bytes() for p in files_under(tmp_path / "out", state)}
    assert_no_planted(written | {"stderr": proc.stderr.encode()})


@pytest.fixture
def cluster():
    """A cluster of our own on loopback (two worker processes with nannies); a unit may kill its worker once.
    The workers hold the S3 credentials in their own environment, as a cluster's workers must."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 1}):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                          dashboard_address=None, env=CREDS) as c, Client(c) as client:
            yield c, client


def test_workers_without_the_credentials_skip_with_a_reason_that_says_so(estate, tmp_path):
    endpoint, tree = estate
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None,
                      env={"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null",
                           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_ACCESS_KEY_ID": "",
                           "AWS_SECRET_ACCESS_KEY": ""}) as c:
        cfg = _config(tmp_path, endpoint, tree, f'type = "dask"\nscheduler = "{c.scheduler_address}"')
        proc, report = _scan(cfg, tmp_path / "state", tmp_path / "out")
    assert proc.returncode == 2, proc.stderr
    bucket = next(t for t in report["targets"] if t["target"] == "bucket")
    assert bucket["skipped"] == {"permission-denied": 120}
    assert all("no AWS credentials" in s["detail"] for s in report["skipped"] if s["target"] == "bucket")


def _scan_in_background(cfg: str, state, out):
    return popen_cli("scan", "--config", cfg, "--out", out, "--state-dir", state, "--quiet", "--full", "--fail-on",
                     "low", env=CREDS)


def test_a_worker_killed_mid_scan_loses_nothing(estate, local_scan, cluster, tmp_path):
    endpoint, tree = estate
    state, reference = local_scan
    c, client = cluster
    cfg = _config(tmp_path, endpoint, tree, f'type = "dask"\nscheduler = "{c.scheduler_address}"\nmax_pending = 3')
    scan = _scan_in_background(cfg, state, tmp_path / "out")
    killed, most = None, 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and scan.poll() is None:
        # backpressure: the scheduler never holds much more than max_pending of the scan's units
        most = max(most, client.run_on_scheduler(
            lambda dask_scheduler: sum(str(k).startswith("vendorscan-") for k in dask_scheduler.tasks)))
        busy = {w: keys for w, keys in client.processing().items() if any("vendorscan-" in k for k in keys)}
        if busy and killed is None:
            worker = next(iter(busy))
            pid = client.run(os.getpid, workers=[worker])[worker]
            os.kill(pid, signal.SIGKILL)  # mid-unit: its unit must run again on the other worker
            killed = worker
        time.sleep(0.01)
    stdout, stderr = scan.communicate(timeout=300)
    assert killed is not None, "the scan ended before a worker could be killed mid-unit"
    assert 1 <= most <= 3 + 2, most  # 46 units in all; one finishing while the next is submitted
    assert scan.returncode == 1, stderr
    report = load_json(tmp_path / "out" / "report.json")
    assert all(t["complete"] for t in report["targets"]), report["targets"]
    assert _findings(report) == _findings(reference)


class _DiesOnPoison(WorkerPlugin):
    """A worker process that dies whenever it reads poison.txt: a fault no real server shows on demand."""

    def setup(self, worker):
        from vendorscan.agent import worker as scanner_worker
        read = scanner_worker.Worker._read

        def _read(self, connector, resource, *args):
            if resource.uri.endswith("/poison.txt"):
                os._exit(1)
            return read(self, connector, resource, *args)

        scanner_worker.Worker._read = _read


def test_a_unit_that_kills_its_worker_twice_is_skipped_with_the_reason(estate, cluster, tmp_path):
    endpoint, tree = estate
    c, client = cluster
    client.register_plugin(_DiesOnPoison(), name="dies-on-poison")
    cfg = _config(tmp_path, endpoint, tree, f'type = "dask"\nscheduler = "{c.scheduler_address}"')
    proc, report = _scan(cfg, tmp_path / "state", tmp_path / "out")
    assert proc.returncode == 2, proc.stderr  # incomplete: a unit could not be read
    tree_cov = next(t for t in report["targets"] if t["target"] == "tree")
    assert tree_cov["complete"] is False and tree_cov["skipped"] == {"worker-crashed": 1}
    (poison,) = [s for s in report["skipped"] if s["reason"] == "worker-crashed"]
    assert poison["uri"].endswith("/poison.txt") and "KilledWorker" in poison["detail"]
    # the other files of its unit, and of any unit that shared a dying worker with it, were read again
    assert tree_cov["resources_read"] == 150
    assert next(t for t in report["targets"] if t["target"] == "bucket")["complete"] is True


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, estate):
    endpoint, tree = estate
    port = servers.free_port()
    cfg = _config(tmp_path, endpoint, tree, f'type = "dask"\nscheduler = "tcp://127.0.0.1:{port}"\nconnect_timeout = 2')
    proc, report = _scan(cfg, tmp_path / "state", tmp_path / "out")
    assert proc.returncode == 2 and report is None
    assert f"tcp://127.0.0.1:{port}" in proc.stderr and "Traceback" not in proc.stderr


def test_a_scheduler_without_workers_is_a_clear_error(tmp_path, estate):
    endpoint, tree = estate
    with LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None) as c:
        cfg = _config(tmp_path, endpoint, tree,
                      f'type = "dask"\nscheduler = "{c.scheduler_address}"\nconnect_timeout = 2')
        proc, report = _scan(cfg, tmp_path / "state", tmp_path / "out")
    assert proc.returncode == 2 and report is None
    assert "no worker joined" in proc.stderr and "Traceback" not in proc.stderr


def test_a_cluster_that_requires_tls(estate, local_scan, tmp_path):
    # The hash key travels to the workers: on a network, the cluster's comms are TLS, mutual, required.
    from distributed.security import Security
    endpoint, tree = estate
    state, reference = local_scan
    cert, key = (str(p) for p in servers.self_signed(tmp_path))
    roles = {f"tls_{role}_{part}": path for role in ("scheduler", "worker", "client")
             for part, path in (("cert", cert), ("key", key))}
    security = Security(tls_ca_file=cert, require_encryption=True, **roles)
    tls_env = {"DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION": "True", "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": cert,
               "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": cert, "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": key}
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", protocol="tls://",
                      security=security, dashboard_address=None, env=CREDS) as c:
        assert c.scheduler_address.startswith("tls://127.0.0.1:")
        cfg = _config(tmp_path, endpoint, tree, f'type = "dask"\nscheduler = "{c.scheduler_address}"\n'
                                                'connect_timeout = 5')
        proc, report = _scan(cfg, state, tmp_path / "out", env=tls_env)
        assert proc.returncode == 1, proc.stderr
        assert _findings(report) == _findings(reference)
        # without a client certificate the scheduler does not let the scan in, and the scan says where it failed
        proc, report = _scan(cfg, tmp_path / "state2", tmp_path / "out2",
                             env={"DASK_DISTRIBUTED__COMM__TLS__CA_FILE": cert})
        assert proc.returncode == 2 and report is None
        assert c.scheduler_address in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_a_local_cluster_whose_worker_dies_keeps_the_scan_and_its_stderr_to_itself(tmp_path):
    # dask-local: the cluster lives in the scanning process, so its nannies and scheduler would print there.
    cfg, env = crash_estate(tmp_path, 24, 7, 'type = "dask-local"\nworkers = 2\nunit_files = 4')
    proc, report = _scan(str(cfg), tmp_path / "state", tmp_path / "out", env=env)
    assert proc.returncode == 2, proc.stderr
    (cov,) = report["targets"]
    assert cov["skipped"] == {"worker-crashed": 1} and cov["resources_read"] == 23, cov  # 24 files, one kills
    assert report["skipped"][0]["uri"].endswith("/f07.txt")
    assert all(line.startswith("vendorscan: ") for line in proc.stderr.splitlines()), proc.stderr
