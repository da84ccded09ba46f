#!/usr/bin/env python3
"""Hostile clients for scripts/hostile-test.sh, on loopback only and bounded in time.

Usage: hostile_attackers.py PORT SECONDS KIND... where KIND is one of
  udp       random datagrams (20-200 bytes) from 4 sockets, paced at 100,000 a second
  garbage   50 TCP connections sending random bytes as fast as they can (reconnecting
            when the bridge closes them)
  loris     200 TCP connections dripping a login frame at one byte a second
  endless   20 TCP connections each sending one frame start and then 50 MB without an end
            (reconnecting when closed)
  churn     500 TCP connects a second, each closed at once

Prints one JSON line of counts at the end. Run it at `nice -n 19`: the bridge gets the CPU
first, as on a server where the attackers are other machines.
"""
import asyncio
import json
import multiprocessing
import os
import random
import socket
import sys
import time

HOST = "127.0.0.1"
CHUNK = 65_536


def udp_flood(port, seconds, results):
    """Paced in batches: sends 1,000 datagrams, then sleeps until the schedule catches up."""
    rate = 100_000
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(4)]
    payloads = [os.urandom(random.randint(20, 200)) for _ in range(256)]
    sent = 0
    start = time.monotonic()
    while (now := time.monotonic()) - start < seconds:
        for index in range(1000):
            try:
                sockets[index & 3].sendto(payloads[index & 255], (HOST, port))
                sent += 1
            except OSError:
                pass
        ahead = sent / rate - (time.monotonic() - start)
        if ahead > 0:
            time.sleep(ahead)
    results.put({"udp_datagrams": sent, "udp_per_second": round(sent / max(time.monotonic() - start, 1e-9))})


class Tally:
    def __init__(self):
        self.counts = {}

    def add(self, key, amount=1):
        self.counts[key] = self.counts.get(key, 0) + amount


async def stream_forever(port, deadline, tally, name, first, body):
    """Connects, sends `first` once, then `body` chunks until the bridge closes the
    connection; reconnects until the deadline. Counts connections and bytes."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
        except OSError:
            tally.add(f"{name}_connect_failures")
            await asyncio.sleep(0.01)
            continue
        tally.add(f"{name}_connections")
        sent = len(first)
        try:
            writer.write(first)
            while loop.time() < deadline and sent < 50_000_000:
                writer.write(body[(sent // CHUNK) % len(body)])
                sent += CHUNK
                await asyncio.wait_for(writer.drain(), max(deadline - loop.time(), 0.001))
        except TimeoutError:
            tally.add(f"{name}_held_at_deadline")
        except OSError:
            tally.add(f"{name}_closed_by_bridge")
        finally:
            tally.add(f"{name}_bytes_written", sent)
            writer.close()


async def loris(port, deadline, tally):
    frame = b"*150817160254UB05LORIS0000000001160254A2106.8799S14910.2583E000.0150817158.3511111111L000000^"
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        tally.add("loris_connect_failures")
        return
    tally.add("loris_connections")
    loop = asyncio.get_running_loop()
    try:
        for byte in frame:
            if loop.time() >= deadline:
                break
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(1)
    except OSError:
        tally.add("loris_closed_by_bridge")
    finally:
        writer.close()


async def churn(port, deadline, tally):
    loop = asyncio.get_running_loop()
    started = loop.time()
    opened = 0

    async def one():
        try:
            _, writer = await asyncio.open_connection(HOST, port)
            tally.add("churn_connections")
            writer.close()
        except OSError:
            tally.add("churn_connect_failures")

    pending = set()
    while loop.time() < deadline:
        due = int((loop.time() - started) * 500)
        while opened < due:
            task = asyncio.create_task(one())
            pending.add(task)
            task.add_done_callback(pending.discard)
            opened += 1
        await asyncio.sleep(0.01)
    if pending:
        await asyncio.wait(pending, timeout=2)


async def tcp_attacks(port, seconds, kinds):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    tally = Tally()
    tasks = []
    if "garbage" in kinds:
        noise = [os.urandom(CHUNK) for _ in range(4)]
        tasks += [stream_forever(port, deadline, tally, "garbage", b"", noise) for _ in range(50)]
    if "endless" in kinds:
        digits = [b"7" * CHUNK] * 4
        tasks += [stream_forever(port, deadline, tally, "endless", b"*150817160254UB05", digits) for _ in range(20)]
    if "loris" in kinds:
        tasks += [loris(port, deadline, tally) for _ in range(200)]
    if "churn" in kinds:
        tasks.append(churn(port, deadline, tally))
    await asyncio.gather(*tasks)
    return tally.counts


def main():
    port, seconds, kinds = int(sys.argv[1]), float(sys.argv[2]), set(sys.argv[3:])
    results = multiprocessing.Queue()
    flood = None
    if "udp" in kinds:
        flood = multiprocessing.Process(target=udp_flood, args=(port, seconds, results))
        flood.start()
    counts = asyncio.run(tcp_attacks(port, seconds, kinds)) if kinds - {"udp"} else {}
    if flood:
        counts.update(results.get(timeout=seconds + 10))
        flood.join(10)
    print(json.dumps(counts, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
