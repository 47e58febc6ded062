"""A headless Chromium driven over the DevTools protocol (loopback port), for report tests."""
from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import servers

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio"]


class Browser:
    """One Chromium process; `load` opens a page and records its console messages and requests."""

    def __init__(self):
        exe = shutil.which("chromium") or shutil.which("chromium-browser")
        if not exe:
            raise RuntimeError("chromium is not installed: scripts/setup.sh installs the Debian package chromium")
        self.port = servers.free_port()
        self.profile = tempfile.mkdtemp(prefix="vendorscan-chromium-")
        self.proc = subprocess.Popen([exe, *FLAGS, f"--remote-debugging-port={self.port}",
                                      "--remote-debugging-address=127.0.0.1", f"--user-data-dir={self.profile}",
                                      "--window-size=1280,800", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                tabs = json.load(urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json", timeout=2))
                page = next(t for t in tabs if t["type"] == "page")
                break
            except (OSError, StopIteration):
                if time.monotonic() > deadline:
                    self.close()
                    raise RuntimeError("chromium did not open its DevTools port within 30 s") from None
                time.sleep(0.2)
        import websocket
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
        self._id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        """Send one DevTools command and return its result (events seen meanwhile are kept)."""
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def load(self, url: str, width: int = 1280) -> dict:
        """Open url at a viewport `width` px wide and wait for load; returns {'requests', 'console', 'exceptions'}."""
        for domain in ("Page", "Network", "Runtime", "Log"):
            self.call(f"{domain}.enable")
        self.events.clear()
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=800, deviceScaleFactor=1,
                  mobile=width < 600)
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            if time.monotonic() > deadline:
                raise RuntimeError("page did not finish loading in 30 s")
            self.events.append(json.loads(self.ws.recv()))
        time.sleep(0.3)
        self.call("Runtime.evaluate", expression="1")  # drain events queued after load
        requests = [e["params"]["request"]["url"] for e in self.events if e.get("method") == "Network.requestWillBeSent"]
        console = [e["params"] for e in self.events if e.get("method") in ("Runtime.consoleAPICalled", "Log.entryAdded")]
        exceptions = [e["params"] for e in self.events if e.get("method") == "Runtime.exceptionThrown"]
        return {"requests": requests, "console": console, "exceptions": exceptions}

    def evaluate(self, expression: str):
        """The value of a JavaScript expression in the page (a promise is waited for)."""
        found = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in found:
            raise RuntimeError(f"script failed: {found['exceptionDetails'].get('text')}")
        return found["result"].get("value")

    def axe(self, source: Path) -> list[dict]:
        """axe-core's WCAG 2 A/AA violations of the loaded page: [{id, impact, nodes}]."""
        self.evaluate(source.read_text(encoding="utf-8") + "\n;1")
        return self.evaluate("axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}})"
                             ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,"
                             " targets: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))")

    def screenshot(self, path: Path) -> None:
        """PNG of the viewport."""
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def pdf(self, path: Path) -> None:
        """The page printed to PDF, as a person would print the report."""
        path.write_bytes(base64.b64decode(self.call("Page.printToPDF", printBackground=True,
                                                    preferCSSPageSize=True)["data"]))

    def close(self) -> None:
        """Stop the browser and remove its profile."""
        if getattr(self, "ws", None):
            self.ws.close()
        servers.stop_process(self.proc, grace=10)
        shutil.rmtree(self.profile, ignore_errors=True)
