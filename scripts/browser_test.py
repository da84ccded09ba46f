#!/usr/bin/env python3
"""The status page in a real browser: headless Chromium against a live bridge.

Starts mosquitto and `cctr-bridge serve` on free loopback ports (with --http-token, so the
page must carry ?token= into its API calls), connects raw TCP trackers (carscop and H02),
opens the page in Debian's `chromium --headless=new` and drives it over the Chrome DevTools
Protocol (websocket-client from scripts/requirements-ci.txt). Checks:

  * the device table fills, and a device that logs in later appears without a reload;
  * a dead letter whose raw bytes hold <script>, an <img onerror>, quotes, NUL and invalid
    UTF-8 is shown as text: no element is created from it and `window.__pwned` stays unset;
  * a command whose id is `<img src=x onerror=...>` is shown as text in the results;
  * the device page shows the device's last frames, raw and decoded.

With --screenshot PATH it saves a PNG of the page (docs/status-page.png is made this way).
Bounded: the whole run has a 60 s alarm. Exits 0 when every check passed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from processes import stop

try:
    import websocket  # websocket-client
except ImportError:
    sys.exit("browser_test.py needs websocket-client: pip install -r scripts/requirements-ci.txt")

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "browser-T0ken"
HOSTILE = b'<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">"\'\x00\xff\xc3\x28\r\n'
HOSTILE_ID = '<img src=x onerror="window.__pwned=3">'
TRACKERS = [
    b"*150817160254UB05CC8011400042499160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^",
    b"*160618232529UB05CW9999C00000538232529A5009.1747N01910.3829E0.000160618298.2811000000L000000^",
    b"*HQ,4105131188,V1,101112,A,2106.8799,S,14910.2583,E,012.30,158,241126,FFFFFBFF#",
]
LATE = b"*161101144927UB05LIMA00000000007144927A1203.5394S07657.7255W000.4161101255.0011111111L022043^"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, condition, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class DevTools:
    """One page target over the Chrome DevTools Protocol."""

    def __init__(self, ws_url: str):
        self.ws = websocket.create_connection(ws_url, timeout=20, suppress_origin=True)
        self.next_id = 0

    def call(self, method: str, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise AssertionError(f"{method}: {message['error']}")
                return message.get("result", {})

    def eval(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    sys.exit("browser_test.py needs Debian's chromium (scripts/install-deps.sh installs it)")


def run(args) -> list[str]:
    failures: list[str] = []

    def check(ok: bool, what: str):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    work = Path(tempfile.mkdtemp(prefix="cctr-browser-"))
    processes: list[subprocess.Popen] = []
    sockets: list[socket.socket] = []
    try:
        broker_port, device_port, http_port, debug_port = free_port(), free_port(), free_port(), free_port()
        (work / "mosquitto.conf").write_text(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
        mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        processes.append(subprocess.Popen([mosquitto, "-c", str(work / "mosquitto.conf")],
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        wait_until("mosquitto", lambda: accepting(broker_port))
        log = open(work / "bridge.log", "wb")
        processes.append(subprocess.Popen([
            args.bridge, "serve", "--mqtt-url", f"mqtt://127.0.0.1:{broker_port}", "--instance", "browser",
            "--listen", f"tcp://127.0.0.1:{device_port}", "--metrics-listen", f"127.0.0.1:{http_port}",
            "--http-token", TOKEN,
        ], stdout=log, stderr=subprocess.STDOUT))
        wait_until("the bridge", lambda: accepting(device_port) and accepting(http_port))

        def connect(frame: bytes) -> socket.socket:
            s = socket.create_connection(("127.0.0.1", device_port))
            s.sendall(frame)
            sockets.append(s)
            return s

        connect(HOSTILE + TRACKERS[0])
        for frame in TRACKERS[1:]:
            connect(frame)
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker_port), "-q", "1",
                        "-t", "cctr/OFFLINE0000001/cmd",
                        "-m", json.dumps({"id": HOSTILE_ID, "type": "custom", "params": {"data": "X"}, "ttl_s": 600})],
                       check=True, timeout=10)

        profile = work / "profile"
        browser = [chromium_binary(), "--headless=new", f"--remote-debugging-port={debug_port}",
                   "--remote-allow-origins=*", f"--user-data-dir={profile}", "--no-first-run",
                   "--no-default-browser-check", "--disable-gpu", "--disable-extensions", "--window-size=1400,1100",
                   "about:blank"]
        if os.geteuid() == 0:
            browser.insert(1, "--no-sandbox")
        processes.append(subprocess.Popen(browser, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        def page_target():
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{debug_port}/json/list", timeout=1) as r:
                    pages = [t for t in json.load(r) if t.get("type") == "page"]
                    return pages[0]["webSocketDebuggerUrl"] if pages else None
            except OSError:
                return None

        tools = DevTools(wait_until("chromium's DevTools", page_target))
        tools.call("Page.enable")
        tools.call("Runtime.enable")
        tools.call("Emulation.setDeviceMetricsOverride", width=1400, height=1100, deviceScaleFactor=1, mobile=False)
        tools.call("Page.navigate", url=f"http://127.0.0.1:{http_port}/?token={TOKEN}")

        rows = "document.querySelectorAll('#devices tbody tr').length"
        wait_until("the device table to fill", lambda: tools.eval(rows) == 3)
        check(True, "the device table fills (3 devices)")
        updates = tools.eval("Number(document.body.dataset.updates)")
        connect(LATE)
        wait_until("the new device without a reload", lambda: tools.eval(rows) == 4)
        check(tools.eval("Number(document.body.dataset.updates)") > updates
              and tools.eval("performance.getEntriesByType('navigation').length") == 1,
              "a device that logs in later appears without a reload")
        check("LIMA00000000007" in tools.eval("document.querySelector('#devices tbody').textContent"),
              "the late device's row names it")

        letters = "document.querySelectorAll('#deadletters tbody tr').length"
        wait_until("the dead letter", lambda: tools.eval(letters) >= 1)
        text = tools.eval("document.querySelector('#deadletters tbody').textContent")
        check("<script>window.__pwned=1</script>" in text, "the dead letter's <script> is shown as text")
        check("\\x00" in text and "\\xff" in text, "NUL and invalid UTF-8 are shown as \\xNN")
        check(tools.eval("document.querySelectorAll('#deadletters script, #deadletters img').length") == 0,
              "no element is made from the dead letter")
        wait_until("the command", lambda: "onerror" in tools.eval("document.querySelector('#inflight tbody').textContent"))
        check(HOSTILE_ID in tools.eval("document.querySelector('#inflight tbody').textContent"),
              "the hostile command id is shown as text")
        check(tools.eval("document.querySelectorAll('main img, main script').length") == 0, "no <img> or <script> anywhere in the page")
        check(tools.eval("typeof window.__pwned") == "undefined", "window.__pwned stays unset: nothing executed")
        check(tools.eval("document.querySelector('#devices a[href*=\"openstreetmap.org/?mlat=\"]') !== null"),
              "a fix links to the map")

        tools.eval("location.hash = '#device=CC8011400042499'")
        wait_until("the device page", lambda: tools.eval("document.querySelectorAll('#frames tbody tr').length") >= 1)
        frames = tools.eval("document.querySelector('#frames tbody').textContent")
        check("UB05" in frames and "CC8011400042499" in frames, "the device page shows its frame raw and decoded")
        tools.eval("location.hash = ''")
        wait_until("the overview again", lambda: tools.eval("document.getElementById('device-section').hidden"))

        if args.screenshot:
            # A few seconds of traffic so the sparklines show something.
            for _ in range(8):
                sockets[0].sendall(b"*161101144927UD00144927A1203.5394S07657.7255W000.4161101255.0011111111L022043^")
                sockets[1].sendall(b"*170821223045UB00HSO^")
                sockets[2].sendall(b"*HQ,4105131188,V1,101212,A,2106.8799,S,14910.2583,E,0.00,000,241126,FFFFFBFF#")
                time.sleep(0.25)
            sockets[1].sendall(b"*170821223045UD00TRUNCATED^")
            time.sleep(1.6)
            shot = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
            Path(args.screenshot).write_bytes(base64.b64decode(shot["data"]))
            print(f"screenshot: {args.screenshot}")
        check(tools.eval("typeof window.__pwned") == "undefined", "window.__pwned still unset at the end")
    finally:
        for s in sockets:
            s.close()
        for process in reversed(processes):
            stop(process, timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bridge", default=str(ROOT / ".build" / "debug" / "cctr-bridge"), help="the cctr-bridge binary")
    parser.add_argument("--screenshot", help="save a PNG of the page here")
    args = parser.parse_args()

    def timeout(*_):
        raise TimeoutError("the browser test took longer than 60 s")

    signal.signal(signal.SIGALRM, timeout)
    signal.alarm(60)
    failures = run(args)
    print("all checks passed" if not failures else f"{len(failures)} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
