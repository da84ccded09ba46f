#!/usr/bin/env python3
"""Validate cctr-bridge MQTT output against schemas/ and the contract's topic rules.

Modes:
  --lines FILE|-   JSON lines {"topic", "payload", "qos", "retain"} as printed by
                   `cctr-bridge decode` (or captured by a test subscriber): every line is
                   checked against the schema its topic selects, and against the contract's
                   QoS / retain table and cross-field rules a JSON Schema cannot express.
  --examples       schemas/examples/* must pass, schemas/examples/invalid/* must fail.

Prints one line per failure and ends with `N passed, M failed`; exits 1 on any failure,
2 on bad usage or a missing dependency.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

try:
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover - reported to the user
    sys.exit("validate_payloads.py needs the jsonschema package: pip install -r scripts/requirements-ci.txt")

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"

# Example file names are `<schema>.<case>.json`; `history` examples use the position schema.
EXAMPLE_PREFIX_TO_SCHEMA = {"history": "position"}

# Topic kind -> (schema name or None for a plain string payload, qos, retain rule).
# Retain rule: True / False = must be that; "position" = retained only for valid fixes not
# older than the last retained one.
DEVICE_KINDS: dict[str, tuple[str | None, int, bool | str]] = {
    "position": ("position", 1, "position"),
    "history": ("position", 1, False),
    "alarm": ("alarm", 1, False),
    "event": ("event", 1, False),
    "status": ("status", 1, True),
    "availability": (None, 1, True),
    "cmd": ("command", 1, False),
    "cmd/result": ("command-result", 1, False),
    "raw": (None, 0, False),
}
BRIDGE_KINDS: dict[str, tuple[str | None, int, bool | str]] = {
    "state": (None, 1, True),
    "info": ("info", 1, True),
    "deadletter": ("deadletter", 1, False),
    "forward": ("forward", 1, False),
}
HISTORY_TYPES = {"UD04"}
# Live position types: carscop's words and every H02 position type (H02 has no stored records).
POSITION_TYPES = {"UB05", "UD00", "UB04", "V1", "V2", "VI1", "V19", "VP1", "V4", "binary"}


def load_validators() -> dict[str, Draft202012Validator]:
    checker = Draft202012Validator.FORMAT_CHECKER
    if "date-time" not in checker.checkers:
        sys.exit(
            "jsonschema cannot check format date-time here (rfc3339-validator missing): "
            "pip install -r scripts/requirements-ci.txt"
        )
    validators = {}
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        validators[path.name.removesuffix(".schema.json")] = Draft202012Validator(schema, format_checker=checker)
    return validators


def schema_errors(validator: Draft202012Validator, payload: Any) -> list[str]:
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    out = []
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        title = e.schema.get("title") if isinstance(e.schema, dict) else None
        if e.validator in ("not", "anyOf", "oneOf") and title:
            out.append(f"{where}: fails rule: {title}")
        else:
            out.append(f"{where}: {e.message[:300]}")
    return out


def short_id(text: str) -> str:
    """The contract's message id: first 8 bytes of SHA-256 over ISO-8859-1 bytes, as hex."""
    return hashlib.sha256(text.encode("latin-1")).digest()[:8].hex()


@dataclass
class Route:
    kind: str
    schema: str | None
    qos: int
    retain: bool | str
    device_id: str | None = None
    instance: str | None = None


def route(topic: str, ha_prefix: str, owntracks_base: str | None, topic_base: str | None) -> Route | str:
    """Select the topic's kind by matching from the end, since the base may contain `/`."""
    levels = topic.split("/")
    if any(level == "" or "+" in level or "#" in level or "\0" in level for level in levels):
        return f"topic {topic!r} has an empty level or a wildcard"
    ha = ha_prefix.split("/")
    if levels[: len(ha)] == ha and len(levels) == len(ha) + 3 and levels[len(ha)] == "device" and levels[-1] == "config":
        node = levels[-2]
        if not node.startswith("cctr_"):
            return f"discovery topic {topic!r}: node id must be cctr_<id>"
        return Route("ha-discovery", "ha-discovery", 1, True, device_id=node.removeprefix("cctr_"))
    if owntracks_base:
        ot = owntracks_base.split("/")
        if levels[: len(ot)] == ot and len(levels) == len(ot) + 1:
            return Route("owntracks", "owntracks", 1, True, device_id=levels[-1])
    if len(levels) >= 4 and levels[-3] == "bridge" and levels[-1] in BRIDGE_KINDS:
        schema, qos, retain = BRIDGE_KINDS[levels[-1]]
        base = levels[:-3]
        r = Route(levels[-1], schema, qos, retain, instance=levels[-2])
    elif len(levels) >= 4 and levels[-2:] == ["cmd", "result"]:
        schema, qos, retain = DEVICE_KINDS["cmd/result"]
        base = levels[:-3]
        r = Route("cmd/result", schema, qos, retain, device_id=levels[-3])
    elif len(levels) >= 3 and levels[-1] in DEVICE_KINDS:
        schema, qos, retain = DEVICE_KINDS[levels[-1]]
        base = levels[:-2]
        r = Route(levels[-1], schema, qos, retain, device_id=levels[-2])
    else:
        return f"topic {topic!r} is not a cctr-bridge topic"
    if topic_base is not None and base != topic_base.split("/"):
        return f"topic {topic!r} is not under --topic-base {topic_base!r}"
    if base and base[0].startswith("$"):
        return f"topic {topic!r}: base must not start with $"
    if r.device_id is not None and (r.device_id == "bridge" or not is_device_id(r.device_id)):
        return f"topic {topic!r}: device id level fails the id rule"
    if r.instance is not None and not is_instance(r.instance):
        return f"topic {topic!r}: instance level fails the instance rule"
    return r


def is_device_id(s: str) -> bool:
    return 1 <= len(s) <= 64 and all(c.isascii() and (c.isalnum() or c in "_-") for c in s)


def is_instance(s: str) -> bool:
    return 1 <= len(s) <= 32 and is_device_id(s)


class LineChecker:
    """Checks a stream of published messages; keeps the state that spans messages."""

    def __init__(self, validators: dict[str, Draft202012Validator], args: argparse.Namespace) -> None:
        self.validators = validators
        self.args = args
        self.retained_fix: dict[str, str] = {}

    def check(self, record: Any) -> list[str]:
        if not isinstance(record, dict) or set(record) != {"topic", "payload", "qos", "retain"}:
            return ["line must be an object with exactly topic, payload, qos, retain"]
        topic, payload, qos, retain = record["topic"], record["payload"], record["qos"], record["retain"]
        if not isinstance(topic, str) or not isinstance(retain, bool) or qos not in (0, 1, 2) or isinstance(qos, bool):
            return ["topic must be a string, qos 0-2, retain a boolean"]
        r = route(topic, self.args.ha_prefix, self.args.owntracks_base, self.args.topic_base)
        if isinstance(r, str):
            return [r]
        problems: list[str] = []
        if qos != r.qos:
            problems.append(f"qos {qos}, the contract says {r.qos}")
        if retain and payload == "" and r.retain in (True, "position"):
            return problems  # clearing a retained topic (`cctr-bridge forget`)
        if r.schema is None:
            allowed = {"online", "offline"} if r.kind in ("state", "availability") else None
            if not isinstance(payload, str) or (allowed and payload not in allowed):
                problems.append(f"payload must be {' or '.join(sorted(allowed)) if allowed else 'a string'}")
        else:
            problems += schema_errors(self.validators[r.schema], payload)
        if r.retain == "position":
            problems += self.check_position_retain(topic, payload, retain)
        elif retain != r.retain:
            problems.append(f"retain {str(retain).lower()}, the contract says {str(r.retain).lower()}")
        if isinstance(payload, dict):
            problems += self.cross_checks(r, payload)
        return problems

    def check_position_retain(self, topic: str, payload: Any, retain: bool) -> list[str]:
        if not isinstance(payload, dict) or not retain:
            return []
        if payload.get("valid") is not True:
            return ["an invalid fix must never be retained"]
        fix = payload.get("fix_time")
        last = self.retained_fix.get(topic)
        if isinstance(fix, str):
            if last is not None and fix < last:
                return [f"retained fix {fix} is older than the retained {last}"]
            self.retained_fix[topic] = fix
        return []

    def cross_checks(self, r: Route, p: dict[str, Any]) -> list[str]:
        problems = []
        if r.device_id is not None and r.kind not in ("cmd", "owntracks", "ha-discovery") and "device_id" in p:
            if p["device_id"] != r.device_id:
                problems.append(f"device_id {p['device_id']!r} differs from the topic's {r.device_id!r}")
        if r.instance is not None and "instance" in p and p["instance"] != r.instance:
            problems.append(f"instance {p['instance']!r} differs from the topic's {r.instance!r}")
        mt = p.get("message_type")
        if r.kind == "position" and mt in HISTORY_TYPES:
            problems.append(f"{mt} belongs on history, not position")
        if r.kind == "history" and mt in POSITION_TYPES:
            problems.append(f"{mt} belongs on position, not history")
        if r.kind == "alarm" and isinstance(p.get("position"), dict) and p.get("time") != p["position"].get("fix_time"):
            problems.append("alarm time must equal position.fix_time")
        if r.kind == "event" and isinstance(p.get("raw"), str) and isinstance(p.get("device_id"), str):
            raw = p["raw"]
            if p.get("id") != short_id(f"{p['device_id']}|{raw}"):
                problems.append("id is not SHA-256(device_id|raw)[0:8]")
            source = p.get("source")
            expected = event_type_and_body(raw, source.get("protocol") if isinstance(source, dict) else None)
            if expected is not None and (p.get("message_type"), p.get("body")) != expected:
                problems.append("message_type/body do not match raw")
        if r.kind == "deadletter" and isinstance(p.get("raw"), str):
            raw = p["raw"]
            if p.get("id") != short_id(f"deadletter|{p.get('reason')}|{raw}"):
                problems.append("id is not SHA-256(deadletter|reason|raw)[0:8]")
            if p.get("truncated") is False and p.get("raw_length") != len(raw):
                problems.append("raw_length differs from the length of raw")
        if r.kind == "cmd/result" and p.get("status") == "rejected" and p.get("final") is not True:
            problems.append("rejected must be final")
        return problems


def event_type_and_body(raw: str, protocol: Any) -> tuple[str, str] | None:
    """An event's `message_type` and `body` as its protocol lays them out in `raw`; None when
    `raw` is too short to say (the schema judges those)."""
    if protocol == "carscop":
        # `*` + 12-digit header + 4-character word + body + `^`.
        return (raw[13:17], raw[17:-1]) if len(raw) >= 18 else None
    if protocol == "h02":
        if raw.startswith("$"):
            # Binary: no type field; the body is what follows the id (8 bytes in 42-byte frames, else 5).
            return ("binary", raw[9:] if len(raw) == 42 else raw[6:])
        # Text: `*XX,<id>,<type>[,<body>]#`.
        fields = raw[1:-1].split(",", 3)
        return (fields[2], fields[3] if len(fields) > 3 else "") if len(fields) >= 3 else None
    return None


def read_lines(source: str) -> Iterable[tuple[int, str]]:
    stream = sys.stdin if source == "-" else open(source, encoding="utf-8")
    with stream:
        for number, line in enumerate(stream, 1):
            if line.strip():
                yield number, line


def run_lines(args: argparse.Namespace, validators: dict[str, Draft202012Validator]) -> tuple[int, int]:
    checker = LineChecker(validators, args)
    passed = failed = 0
    for number, line in read_lines(args.lines):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            problems, topic = [f"not JSON: {e}"], "?"
        else:
            topic = record.get("topic", "?") if isinstance(record, dict) else "?"
            problems = checker.check(record)
        if problems:
            failed += 1
            for problem in problems:
                print(f"FAIL line {number} {topic}: {problem}")
        else:
            passed += 1
    return passed, failed


def run_examples(validators: dict[str, Draft202012Validator]) -> tuple[int, int]:
    passed = failed = 0
    covered = {EXAMPLE_PREFIX_TO_SCHEMA.get(p, p) for p in (f.name.split(".", 1)[0] for f in (SCHEMA_DIR / "examples").glob("*.json"))}
    for name in sorted(set(validators) - covered):
        print(f"FAIL schemas/{name}.schema.json: no valid example in schemas/examples")
        failed += 1
    for must_pass, folder in ((True, SCHEMA_DIR / "examples"), (False, SCHEMA_DIR / "examples" / "invalid")):
        for path in sorted(folder.glob("*.json")):
            prefix = path.name.split(".", 1)[0]
            name = EXAMPLE_PREFIX_TO_SCHEMA.get(prefix, prefix)
            if name not in validators:
                print(f"FAIL {path.relative_to(SCHEMA_DIR.parent)}: no schema {name}.schema.json")
                failed += 1
                continue
            errors = schema_errors(validators[name], json.loads(path.read_text(encoding="utf-8")))
            rel = path.relative_to(SCHEMA_DIR.parent)
            if must_pass and errors:
                failed += 1
                for error in errors:
                    print(f"FAIL {rel}: {error}")
            elif not must_pass and not errors:
                failed += 1
                print(f"FAIL {rel}: an invalid example passed its schema")
            else:
                passed += 1
    return passed, failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--lines", metavar="FILE", help="JSON lines to check; - for stdin")
    mode.add_argument("--examples", action="store_true", help="check schemas/examples")
    parser.add_argument("--topic-base", help="require this base (default: any base)")
    parser.add_argument("--ha-prefix", default="homeassistant", help="Home Assistant discovery prefix (default homeassistant)")
    parser.add_argument("--owntracks-base", help="OwnTracks base topic, when the bridge was run with it")
    args = parser.parse_args()
    validators = load_validators()
    passed, failed = run_examples(validators) if args.examples else run_lines(args, validators)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
