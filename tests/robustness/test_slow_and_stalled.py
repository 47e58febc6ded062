"""Servers that answer slowly are waited for; servers that stall are given up on, with a clear error."""
import socket
import threading
import time

import pytest

import servers
from conftest import load_json, run_cli
from documents import DK, SE

CREDS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_EC2_METADATA_DISABLED": "true"}


class SlowProxy:
    """A loopback TCP proxy that hands on every piece of data late: a slow link to a real server."""

    def __init__(self, port: int, delay: float):
        self.target, self.delay = port, delay
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = socket.create_connection(("127.0.0.1", self.target))
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while data := src.recv(4096):
                time.sleep(self.delay)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.listener.close()


def _silent_listener():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held = []

    def hold():
        while True:
            try:
                held.append(listener.accept())  # accepted, never answered
            except OSError:
                return
    threading.Thread(target=hold, daemon=True).start()
    return listener


def _s3_config(path, endpoint, extra="", bucket="exports"):
    path.write_text(f'[[targets]]\nname = "s3"\ntype = "s3"\nendpoint_url = "{endpoint}"\nregion = "eu-north-1"\n'
                    f'buckets = ["{bucket}"]\n{extra}')
    return path


def test_a_slow_s3_endpoint_gives_the_same_findings_as_a_fast_one(tmp_path):
    moto, endpoint, s3 = servers.start_moto()
    port = int(endpoint.rsplit(":", 1)[1])
    proxy = SlowProxy(port, delay=0.02)
    try:
        s3.create_bucket(Bucket="exports", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        for i in range(5):
            s3.put_object(Bucket="exports", Key=f"hr/{i}.csv", Body=f"personnummer {SE}\nCPR-nr {DK}\n".encode())
        results = {}
        for name, p in (("fast", port), ("slow", proxy.port)):
            cfg = _s3_config(tmp_path / f"{name}.toml", f"http://127.0.0.1:{p}")
            proc = run_cli("scan", "--config", cfg, "--out", tmp_path / name, "--state-dir", tmp_path / f"s-{name}",
                           "--quiet", env=CREDS)
            assert proc.returncode != 2, proc.stdout + proc.stderr
            report = load_json(tmp_path / name / "report.json")
            results[name] = sorted((f["resource"].rsplit("/", 1)[1], f["kind"], f["count"]) for f in report["findings"]
                                   if f["check_id"] == "identifiers")
    finally:
        proxy.close()
        moto.stop()
    assert results["slow"] == results["fast"] and len(results["fast"]) == 10


STALLED = {  # a target of each network connector pointed at a server that accepts and never answers
    "sftp": 'type = "sftp"\nhost = "127.0.0.1"\nport = {port}\npaths = ["/"]\nusername = "audit"\n'
            'password_env = "PW"\nhost_key_fingerprint = "SHA256:AAAA"\ntimeout = 2\n',
    "smb": 'type = "smb"\nserver = "127.0.0.1"\nport = {port}\nshare = "projects"\nusername = "u"\n'
           'password_env = "PW"\ntimeout = 2\n',
    "s3": 'type = "s3"\nendpoint_url = "http://127.0.0.1:{port}"\nregion = "eu-north-1"\nbuckets = ["x"]\n'
          'timeout = 2\nmax_attempts = 1\n',
}


@pytest.mark.parametrize("kind", sorted(STALLED))
def test_a_stalled_server_ends_the_target_with_a_clear_error(tmp_path, kind):
    listener = _silent_listener()
    try:
        cfg = tmp_path / f"{kind}.toml"
        cfg.write_text(f'[[targets]]\nname = "{kind}"\n' + STALLED[kind].format(port=listener.getsockname()[1]))
        t0 = time.monotonic()
        proc = run_cli("scan", "--config", cfg, "--out", tmp_path / "o", "--state-dir", tmp_path / "s", "--quiet",
                       env={**CREDS, "PW": "not-to-be-repeated"})
    finally:
        listener.close()
    assert proc.returncode == 2 and time.monotonic() - t0 < 90
    assert "Traceback" not in proc.stderr and "not-to-be-repeated" not in proc.stdout + proc.stderr
    report = load_json(tmp_path / "o" / "report.json")
    assert report["targets"][0]["errors"] and not report["targets"][0]["complete"]


class TlsProxy(SlowProxy):
    """The same proxy, speaking TLS with a self-signed certificate to its clients."""

    def __init__(self, port: int, cert, key):
        import ssl
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        super().__init__(port, delay=0)

    def _serve(self, raw):
        try:
            client = self.context.wrap_socket(raw, server_side=True)
        except OSError:  # the scanner refused the certificate: the handshake fails here too
            raw.close()
            return
        super()._serve(client)


def test_tls_certificates_are_verified_unless_turned_off_which_the_report_prints(tmp_path):
    cert, key = servers.self_signed(tmp_path)
    moto, endpoint, s3 = servers.start_moto()
    proxy = TlsProxy(int(endpoint.rsplit(":", 1)[1]), cert, key)
    try:
        # moto keeps its buckets per process, across servers: a bucket name of this test's own
        s3.create_bucket(Bucket="exports-tls", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        s3.put_object(Bucket="exports-tls", Key="hr.csv", Body=f"personnummer {SE}\n".encode())
        endpoint = f"https://127.0.0.1:{proxy.port}"
        runs = {}
        for name, extra in (("verified", "max_attempts = 1\n"), ("off", "verify_tls = false\n"),
                            ("pinned", f'ca_bundle = "{cert}"\n')):
            cfg = _s3_config(tmp_path / f"{name}.toml", endpoint, extra, bucket="exports-tls")
            proc = run_cli("scan", "--config", cfg, "--out", tmp_path / name, "--state-dir", tmp_path / f"s-{name}",
                           "--quiet", env=CREDS)
            runs[name] = (proc, load_json(tmp_path / name / "report.json"))
    finally:
        proxy.close()
        moto.stop()
    proc, report = runs["verified"]
    assert proc.returncode == 2 and "Traceback" not in proc.stderr  # an unknown certificate: refused
    assert "SSL" in " ".join(report["targets"][0]["errors"]) + proc.stdout + proc.stderr
    proc, report = runs["off"]
    assert proc.returncode != 2 and any(f["kind"] == "se.personnummer" for f in report["findings"])
    assert any("not verified" in w for w in report["targets"][0]["weaknesses"])
    proc, report = runs["pinned"]  # the store's own CA bundle: verified, and no weakness
    assert proc.returncode != 2 and report["targets"][0]["weaknesses"] == []
