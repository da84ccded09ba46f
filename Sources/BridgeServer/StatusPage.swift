/// The status page's three files, compiled in: no external assets, so the page works on an
/// isolated network. The script polls `/api/*` every 1.5 s and builds every element with
/// `createElement` and `textContent` (never HTML from data): everything it shows may come
/// from a tracker or from MQTT. The CSP (`StatusEndpoints`) forbids inline code, so the
/// script and style sheet are their own same-origin files.
enum StatusPage {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer">
        <title>cctr-bridge status</title>
        <link rel="stylesheet" href="/app.css">
        </head>
        <body>
        <header><h1>cctr-bridge</h1><span id="instance"></span><span id="updated" class="muted"></span></header>
        <main>
        <section id="bridge-section">
        <h2>Bridge</h2>
        <div class="bridge">
        <dl id="bridge-facts"></dl>
        <div class="sparks">
        <figure><figcaption>frames/s, last minute: <b id="frames-rate"></b></figcaption><svg id="spark-frames" viewBox="0 0 240 40" preserveAspectRatio="none"></svg></figure>
        <figure><figcaption>dead letters/s, last minute: <b id="deadletters-rate"></b></figcaption><svg id="spark-deadletters" viewBox="0 0 240 40" preserveAspectRatio="none"></svg></figure>
        </div>
        </div>
        </section>
        <section id="device-section" hidden>
        <h2>Device <span id="device-title"></span> <a href="#" id="device-back">back to all devices</a></h2>
        <table id="device-row"><thead></thead><tbody></tbody></table>
        <h3>Last frames, newest first</h3>
        <table id="frames"><thead><tr><th>received</th><th>protocol</th><th>raw</th><th>decoded</th></tr></thead><tbody></tbody></table>
        </section>
        <section id="devices-section">
        <h2>Devices <span id="devices-count" class="muted"></span></h2>
        <div class="filters">
        <input id="filter" type="search" placeholder="filter: id, protocol, transport, peer">
        <select id="state-filter"><option value="">any state</option><option value="online">online</option><option value="offline">offline</option></select>
        <select id="age-filter"><option value="">any last seen</option><option value="60">seen in the last minute</option><option value="600">in the last 10 minutes</option><option value="3600">in the last hour</option><option value="-3600">not for an hour</option></select>
        </div>
        <table id="devices"><thead><tr>
        <th data-sort="id">id</th><th data-sort="protocol">protocol</th><th data-sort="transport">transport</th><th data-sort="peer">peer</th>
        <th data-sort="state">state</th><th data-sort="connected_since">connected since</th><th data-sort="last_seen">last seen</th>
        <th data-sort="frames">frames</th><th data-sort="fix">last fix</th><th data-sort="pending_commands">pending commands</th>
        </tr></thead><tbody></tbody></table>
        </section>
        <section id="deadletters-section">
        <h2>Dead letters <span class="muted">(last 100, newest first)</span></h2>
        <table id="deadletters"><thead><tr><th>received</th><th>reason</th><th>transport</th><th>peer</th><th>device</th><th>detail</th><th>raw bytes</th></tr></thead><tbody></tbody></table>
        </section>
        <section id="commands-section">
        <h2>Commands</h2>
        <h3>In flight</h3>
        <table id="inflight"><thead><tr><th>at</th><th>id</th><th>device</th><th>type</th><th>status</th><th>reason</th></tr></thead><tbody></tbody></table>
        <h3>Last 50 results</h3>
        <table id="results"><thead><tr><th>at</th><th>id</th><th>device</th><th>type</th><th>status</th><th>reason</th></tr></thead><tbody></tbody></table>
        </section>
        </main>
        <script src="/app.js"></script>
        </body>
        </html>

        """#

    static let style = #"""
        body { font: 14px/1.4 system-ui, sans-serif; margin: 0; color: #1b1f24; background: #f6f7f9; }
        header { display: flex; gap: 1em; align-items: baseline; padding: .6em 1.2em; background: #1f3b57; color: #fff; }
        header h1 { font-size: 1.3em; margin: 0; }
        main { padding: 0 1.2em 2em; }
        h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
        h3 { font-size: 1em; margin: .8em 0 .3em; }
        section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: .2em 1em 1em; margin-top: 1em; }
        .bridge { display: flex; flex-wrap: wrap; gap: 2em; }
        dl { display: grid; grid-template-columns: max-content auto; gap: .15em 1em; margin: 0; }
        dt { color: #57606a; }
        dd { margin: 0; font-variant-numeric: tabular-nums; }
        .sparks figure { margin: 0 0 .8em; }
        .sparks svg { width: 240px; height: 40px; background: #f0f3f6; border-radius: 3px; }
        .sparks polyline { fill: none; stroke: #1f6feb; stroke-width: 1.5; }
        .sparks polyline.bad { stroke: #cf222e; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: .2em .5em; border-bottom: 1px solid #eaeef2; vertical-align: top; }
        th[data-sort] { cursor: pointer; user-select: none; }
        th.sorted-asc::after { content: " \25B2"; }
        th.sorted-desc::after { content: " \25BC"; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .raw { font-family: ui-monospace, monospace; font-size: 12px; white-space: pre-wrap; word-break: break-all; max-width: 48em; }
        .hex { color: #57606a; }
        .online { color: #1a7f37; font-weight: 600; }
        .offline { color: #57606a; }
        .bad { color: #cf222e; }
        .muted { color: #8c959f; font-weight: normal; }
        header .muted { color: #c9d1d9; }
        .filters { display: flex; gap: .5em; margin-bottom: .5em; }
        .filters input { flex: 1; max-width: 30em; }

        """#

    static let script = #"""
        "use strict";
        (function () {
          const token = new URLSearchParams(location.search).get("token");
          const view = { sort: "id", dir: 1, devices: null, now: null };

          function api(path) {
            const url = token ? path + "?token=" + encodeURIComponent(token) : path;
            return fetch(url, { cache: "no-store" }).then(function (r) {
              if (!r.ok) { throw new Error(path + ": HTTP " + r.status); }
              return r.json();
            });
          }
          function $(id) { return document.getElementById(id); }
          function el(tag, text, cls) {
            const e = document.createElement(tag);
            if (text !== undefined && text !== null) { e.textContent = String(text); }
            if (cls) { e.className = cls; }
            return e;
          }
          function cell(tr, content, cls) {
            const td = el("td", null, cls);
            if (content instanceof Node) { td.appendChild(content); } else if (content !== undefined && content !== null) { td.textContent = String(content); }
            tr.appendChild(td);
            return td;
          }
          function ageSeconds(iso, now) {
            if (!iso) { return null; }
            return Math.max(0, (Date.parse(now) - Date.parse(iso)) / 1000);
          }
          function age(seconds) {
            if (seconds === null) { return "never"; }
            if (seconds < 60) { return Math.round(seconds) + " s ago"; }
            if (seconds < 3600) { return Math.round(seconds / 60) + " min ago"; }
            if (seconds < 86400) { return (seconds / 3600).toFixed(1) + " h ago"; }
            return (seconds / 86400).toFixed(1) + " d ago";
          }
          function duration(seconds) {
            const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60), s = Math.floor(seconds % 60);
            return (d ? d + "d " : "") + (d || h ? h + "h " : "") + (d || h || m ? m + "m " : "") + s + "s";
          }
          function time(iso) { return iso ? iso.replace("T", " ").replace("Z", " UTC") : "—"; }
          // Raw bytes as text an operator can read and nothing can execute: printable ASCII
          // as is, every other byte (NUL, controls, non-ASCII) as \xNN, a backslash doubled.
          function escapedBytes(hex) {
            let out = "";
            for (let i = 0; i + 1 < hex.length; i += 2) {
              const b = parseInt(hex.substr(i, 2), 16);
              if (b === 0x5c) { out += "\\\\"; } else if (b >= 0x20 && b < 0x7f) { out += String.fromCharCode(b); } else { out += "\\x" + hex.substr(i, 2); }
            }
            return out;
          }
          function rawBlock(item) {
            const box = el("div", null, "raw");
            box.appendChild(el("div", escapedBytes(item.raw_hex) + (item.truncated ? " … (" + item.raw_length + " bytes)" : "")));
            box.appendChild(el("div", item.raw_hex, "hex"));
            return box;
          }
          function spark(svg, values, cls) {
            const max = Math.max(1, Math.max.apply(null, values));
            const step = 240 / Math.max(1, values.length - 1);
            const points = values.map(function (v, i) { return (i * step).toFixed(1) + "," + (38 - 36 * v / max).toFixed(1); }).join(" ");
            const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
            line.setAttribute("points", points);
            if (cls) { line.setAttribute("class", cls); }
            svg.replaceChildren(line);
          }
          function mean(values) {
            // The current second is incomplete: the rate is over the 59 complete ones.
            const done = values.slice(0, -1);
            return done.reduce(function (a, b) { return a + b; }, 0) / Math.max(1, done.length);
          }
          function mapLink(fix) {
            const lat = Number(fix.lat), lon = Number(fix.lon);
            const text = (fix.valid ? "" : "(invalid) ") + lat.toFixed(5) + ", " + lon.toFixed(5);
            if (!isFinite(lat) || !isFinite(lon)) { return el("span", text); }
            const a = el("a", text);
            a.href = "https://www.openstreetmap.org/?mlat=" + lat.toFixed(6) + "&mlon=" + lon.toFixed(6) + "#map=16/" + lat.toFixed(6) + "/" + lon.toFixed(6);
            a.rel = "noreferrer noopener";
            a.target = "_blank";
            return a;
          }
          function fixCell(fix) {
            if (!fix) { return el("span", "—", "muted"); }
            const box = el("span");
            box.appendChild(el("span", time(fix.time) + " "));
            box.appendChild(mapLink(fix));
            return box;
          }
          function deviceLink(id) {
            const a = el("a", id);
            a.href = "#device=" + encodeURIComponent(id);
            return a;
          }

          function renderBridge(b) {
            $("instance").textContent = b.instance + " · " + b.version;
            const facts = [
              ["instance", b.instance], ["version", b.version], ["uptime", duration(b.uptime_s)],
              ["listeners", b.listeners.join(", ")], ["broker", b.broker.url],
              ["broker connection", (b.broker.connected ? "connected" : "disconnected") + (b.broker.since ? " since " + time(b.broker.since) : "")],
              ["MQTT protocol", b.broker.mqtt_protocol || "—"], ["publishes in flight", b.publish.in_flight],
              ["spool", b.publish.spool_bytes + " bytes, " + b.publish.spool_pending + " records"],
              ["oldest spooled record", b.publish.spool_oldest_age_ms === null ? "—" : (b.publish.spool_oldest_age_ms / 1000).toFixed(1) + " s old"],
              ["devices", b.devices_online + " online, " + b.devices_known + " known"]
            ];
            const dl = $("bridge-facts");
            dl.replaceChildren();
            facts.forEach(function (f) {
              dl.appendChild(el("dt", f[0]));
              dl.appendChild(el("dd", f[1], f[0] === "broker connection" ? (b.broker.connected ? "online" : "bad") : null));
            });
            spark($("spark-frames"), b.frames_per_s);
            spark($("spark-deadletters"), b.deadletters_per_s, "bad");
            $("frames-rate").textContent = mean(b.frames_per_s).toFixed(2);
            $("deadletters-rate").textContent = mean(b.deadletters_per_s).toFixed(2);
          }

          function sortKey(d, key) {
            if (key === "fix") { return d.last_fix ? d.last_fix.time || "" : ""; }
            const v = d[key];
            return v === null || v === undefined ? "" : v;
          }
          function renderDevices() {
            if (!view.devices) { return; }
            const text = $("filter").value.trim().toLowerCase();
            const state = $("state-filter").value;
            const ageLimit = Number($("age-filter").value || 0);
            const rows = view.devices.filter(function (d) {
              if (state && d.state !== state) { return false; }
              if (text && ![d.id, d.protocol, d.transport, d.peer, d.state].some(function (v) { return v && String(v).toLowerCase().indexOf(text) >= 0; })) { return false; }
              if (ageLimit) {
                const seen = ageSeconds(d.last_seen, view.now);
                if (ageLimit > 0 && (seen === null || seen > ageLimit)) { return false; }
                if (ageLimit < 0 && seen !== null && seen <= -ageLimit) { return false; }
              }
              return true;
            });
            rows.sort(function (a, b) {
              const x = sortKey(a, view.sort), y = sortKey(b, view.sort);
              return (x < y ? -1 : x > y ? 1 : 0) * view.dir;
            });
            // A large fleet: the first rows of the sorted, filtered list; the filter finds the rest.
            const shown = rows.slice(0, 500);
            $("devices-count").textContent = "(" + rows.length + " of " + view.devices.length
              + (shown.length < rows.length ? ", first " + shown.length + " shown" : "") + ")";
            $("devices").tBodies[0].replaceChildren.apply($("devices").tBodies[0], shown.map(deviceRow));
            document.querySelectorAll("#devices th").forEach(function (th) {
              th.className = th.dataset.sort === view.sort ? (view.dir > 0 ? "sorted-asc" : "sorted-desc") : "";
            });
          }
          function deviceRow(d) {
            const tr = el("tr");
            tr.dataset.device = d.id;
            cell(tr, deviceLink(d.id));
            cell(tr, d.protocol || "—");
            cell(tr, d.transport || "—");
            cell(tr, d.peer || "—");
            cell(tr, d.state, d.state);
            cell(tr, d.connected_since ? time(d.connected_since) : "—");
            cell(tr, age(ageSeconds(d.last_seen, view.now)));
            cell(tr, d.frames, "num");
            cell(tr, fixCell(d.last_fix));
            cell(tr, d.pending_commands, "num");
            return tr;
          }

          function renderDevice(data) {
            $("device-title").textContent = data.device.id;
            const head = $("device-row").tHead;
            if (!head.rows.length) { head.appendChild($("devices").tHead.rows[0].cloneNode(true)); }
            $("device-row").tBodies[0].replaceChildren(deviceRow(data.device));
            $("frames").tBodies[0].replaceChildren.apply($("frames").tBodies[0], data.frames.map(function (f) {
              const tr = el("tr");
              cell(tr, time(f.received_at));
              cell(tr, f.protocol);
              cell(tr, rawBlock(f));
              const decoded = f.decoded ? JSON.stringify(f.decoded, null, 1) : (f.error || "—");
              cell(tr, decoded, f.decoded ? "raw" : "raw bad");
              return tr;
            }));
          }

          function renderDeadLetters(data) {
            $("deadletters").tBodies[0].replaceChildren.apply($("deadletters").tBodies[0], data.deadletters.map(function (d) {
              const tr = el("tr");
              cell(tr, time(d.received_at));
              cell(tr, d.reason, "bad");
              cell(tr, d.transport);
              cell(tr, d.peer);
              cell(tr, d.device_id ? deviceLink(d.device_id) : "—");
              cell(tr, d.detail);
              cell(tr, rawBlock(d));
              return tr;
            }));
          }

          function commandRows(list) {
            return list.map(function (c) {
              const tr = el("tr");
              cell(tr, time(c.at));
              cell(tr, c.id === null ? "—" : c.id);
              cell(tr, deviceLink(c.device_id));
              cell(tr, c.type || "—");
              cell(tr, c.status, c.status === "acked" ? "online" : c.status === "sent" || c.status === "queued" ? null : "bad");
              cell(tr, c.reason || "");
              return tr;
            });
          }
          function renderCommands(data) {
            $("inflight").tBodies[0].replaceChildren.apply($("inflight").tBodies[0], commandRows(data.in_flight));
            $("results").tBodies[0].replaceChildren.apply($("results").tBodies[0], commandRows(data.results));
          }

          function selectedDevice() {
            const m = /^#device=(.+)$/.exec(location.hash);
            return m ? decodeURIComponent(m[1]) : null;
          }
          function refresh() {
            const id = selectedDevice();
            $("device-section").hidden = id === null;
            const calls = [api("/api/bridge"), api("/api/devices"), api("/api/deadletters"), api("/api/commands")];
            if (id !== null) { calls.push(api("/api/devices/" + encodeURIComponent(id))); }
            return Promise.all(calls).then(function (r) {
              view.now = r[1].now;
              view.devices = r[1].devices;
              renderBridge(r[0]);
              renderDevices();
              renderDeadLetters(r[2]);
              renderCommands(r[3]);
              if (id !== null) { renderDevice(r[4]); }
              $("updated").textContent = "updated " + time(r[0].now);
              document.body.dataset.updates = String(Number(document.body.dataset.updates || 0) + 1);
            }).catch(function (e) {
              $("updated").textContent = "update failed: " + e.message;
            });
          }

          document.querySelectorAll("#devices th[data-sort]").forEach(function (th) {
            th.addEventListener("click", function () {
              view.dir = view.sort === th.dataset.sort ? -view.dir : 1;
              view.sort = th.dataset.sort;
              renderDevices();
            });
          });
          ["filter", "state-filter", "age-filter"].forEach(function (id) { $(id).addEventListener("input", renderDevices); });
          $("device-back").addEventListener("click", function (e) { e.preventDefault(); location.hash = ""; });
          window.addEventListener("hashchange", refresh);
          refresh();
          setInterval(refresh, 1500);
        })();

        """#
}
