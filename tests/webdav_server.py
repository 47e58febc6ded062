"""A real WebDAV server for the tests: WsgiDAV on cheroot, loopback, basic auth, and recorded OCS share answers.

Run by tests/test_webdav.py's fixture (never by hand in CI):

    python tests/webdav_server.py --root DIR --port P --user alice --mount /remote.php/dav/files/alice
                                  [--ocs SHARES.json] [--cert C --key K]

with the password in the environment variable WEBDAV_TEST_PASSWORD. WsgiDAV serves DIR under --mount (the
way Nextcloud serves an account under /remote.php/dav/files/USER/), writable as a real server is, so the
contract's snapshot test would see a write. Started as root it drops to the account "nobody" once it has
bound its port: a file with mode 0000 is then one the server may not read (HTTP 403), as on a real server.

Why /ocs/ is a recorded answer and not a server: no installable server here gives Nextcloud's OCS Share API
(Nextcloud needs PHP and a database). With --ocs, a small WSGI app beside WsgiDAV answers
/ocs/v2.php/apps/files_sharing/api/v1/shares as Nextcloud does: the share records in SHARES.json (in the
shape of Nextcloud's ShareAPIController::formatShare), chosen by `path` (its own shares) or `path` +
`subfiles=true` (the shares of the entries of that folder), behind the same basic auth and the
`OCS-APIRequest: true` header (Nextcloud's CSRF rule); a path that does not exist gives Nextcloud's 404.
Without --ocs the server is plain WebDAV: /ocs/ is WsgiDAV's 404, as on Apache mod_dav or nginx.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import posixpath
import sys
from urllib.parse import parse_qs


def _envelope(status: str, code: int, message: str, data) -> bytes:
    return json.dumps({"ocs": {"meta": {"status": status, "statuscode": code, "message": message,
                                        "totalitems": "", "itemsperpage": ""}, "data": data}}).encode()


class OcsShares:
    """Nextcloud's share listing endpoint over recorded share records."""

    def __init__(self, root: str, user: str, password: str, records: list[dict]):
        self.root, self.records = root, records
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.asked: list[str] = []

    def __call__(self, environ, start_response):
        def answer(http: str, body: bytes, ctype: str = "application/json; charset=utf-8"):
            start_response(http, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
            return [body]

        path = environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", "")
        if path != "/ocs/v2.php/apps/files_sharing/api/v1/shares" or environ["REQUEST_METHOD"] != "GET":
            return answer("404 Not Found", _envelope("failure", 404, "Invalid query", []))
        if environ.get("HTTP_AUTHORIZATION") != self.auth:
            return answer("401 Unauthorized", _envelope("failure", 997, "Current user is not logged in", []))
        if environ.get("HTTP_OCS_APIREQUEST", "").lower() != "true":
            return answer("412 Precondition Failed", json.dumps({"message": "CSRF check failed"}).encode())
        query = {k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        want = "/" + query.get("path", "").strip("/")  # "/" or "/a/b"
        local = os.path.join(self.root, want.strip("/"))
        if not os.path.exists(local):
            return answer("404 Not Found", _envelope("failure", 404, "Wrong path, file/folder does not exist", []))
        if query.get("subfiles") == "true":
            if not os.path.isdir(local):
                return answer("400 Bad Request", _envelope("failure", 400, "Not a directory", []))
            found = [r for r in self.records if posixpath.dirname(r["path"].rstrip("/")) == want
                     and r["path"].rstrip("/") != want]
        else:
            found = [r for r in self.records if (r["path"].rstrip("/") or "/") == want]
        return answer("200 OK", _envelope("ok", 200, "OK", found))


def build(root: str, user: str, password: str, mount: str, ocs: str | None):
    """The WSGI app: WsgiDAV under `mount`, and the OCS endpoint under /ocs when given recorded shares."""
    from wsgidav.wsgidav_app import WsgiDAVApp
    config = {
        "host": "127.0.0.1", "provider_mapping": {mount: {"root": root, "readonly": False}},
        "simple_dc": {"user_mapping": {"*": {user: {"password": password}}}},
        "http_authenticator": {"domain_controller": None, "accept_basic": True, "accept_digest": False,
                               "default_to_digest": False},
        "verbose": 0, "logging": {"enable": False}, "dir_browser": {"enable": False},
        "property_manager": None, "lock_storage": True,
    }
    dav = WsgiDAVApp(config)
    if not ocs:
        return dav
    with open(ocs, encoding="utf-8") as f:
        shares = OcsShares(root, user, password, json.load(f)["shares"])

    def app(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/ocs/"):
            return shares(environ, start_response)
        return dav(environ, start_response)
    return app


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--mount", default="/")
    p.add_argument("--ocs", default="")
    p.add_argument("--cert", default="")
    p.add_argument("--key", default="")
    args = p.parse_args()
    password = os.environ["WEBDAV_TEST_PASSWORD"]
    from cheroot import wsgi
    app = build(args.root, args.user, password, args.mount, args.ocs or None)
    server = wsgi.Server(("127.0.0.1", args.port), app, numthreads=16, server_name="vendorscan-test-dav")
    if args.cert:
        from cheroot.ssl.builtin import BuiltinSSLAdapter
        server.ssl_adapter = BuiltinSSLAdapter(args.cert, args.key)
    server.prepare()  # binds the port
    if os.geteuid() == 0:
        _warm_up(app, args.user, password, args.mount)
        os.setgroups([])
        os.setgid(65534)
        os.setuid(65534)  # "nobody": file modes now decide what the server may read
    print("ready", flush=True)
    try:
        server.serve()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


def _warm_up(app, user: str, password: str, mount: str) -> None:
    """One request of each kind before dropping root: the modules they import lazily are read while root still
    may (this Python may live under a folder that "nobody" cannot enter)."""
    import io
    import email.utils  # noqa: F401
    auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    for method, path, body, extra in [
            ("PROPFIND", mount.rstrip("/") + "/", b'<?xml version="1.0"?><propfind xmlns="DAV:"><allprop/></propfind>',
             {"HTTP_DEPTH": "1"}),
            ("GET", mount.rstrip("/") + "/.no-such-file", b"", {}),
            ("GET", "/ocs/v2.php/apps/files_sharing/api/v1/shares", b"", {"QUERY_STRING": "path=/&format=json",
                                                                          "HTTP_OCS_APIREQUEST": "true"}),
            ("GET", mount.rstrip("/") + "/", b"", {"HTTP_AUTHORIZATION": "Basic eDp5"})]:
        environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
                   "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "0", "SERVER_PROTOCOL": "HTTP/1.1",
                   "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(body), "wsgi.errors": sys.stderr,
                   "CONTENT_LENGTH": str(len(body)), "HTTP_AUTHORIZATION": auth, "wsgi.version": (1, 0),
                   "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False, **extra}
        for _ in app(environ, lambda *a, **k: None):
            pass


if __name__ == "__main__":
    main()
