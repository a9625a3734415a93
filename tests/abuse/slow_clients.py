#!/usr/bin/env python3
"""Slow and hostile clients against the real binary (issue 23 §2; figures in docs/reliability.md).

Starts BINARY on a fresh SQLite database with short timeouts (header and body: TIMEOUT seconds),
then, one case at a time: slowloris (heads dribbled a byte at a time), a body dribbled slower than
any sane client, 10,000 idle connections, and 1 MB of headers. During each case a well-behaved
client keeps asking `GET /health`; the case passes when every abuser is cut off (closed, or
answered 408/431) within the timeout plus one second, the well-behaved client was answered every
time within two seconds, and the server's memory stayed bounded.

Usage: tests/abuse/slow_clients.py BINARY [--timeout SECONDS] [--idle N]
"""
import argparse
import os
import resource
import select
import socket
import sys
import tempfile
import threading
import time

from authify_process import environment, start


def start_with_timeouts(binary, work, timeout):
    env = environment(AUTHIFY_HTTP_HEADER_TIMEOUT_SECONDS=str(timeout), AUTHIFY_HTTP_BODY_TIMEOUT_SECONDS=str(timeout),
                      AUTHIFY_RATE_LIMIT_PER_IP="0")
    server, addr, log_path = start(binary, work, env)
    host, port = addr.rsplit(":", 1)
    return server, (host, int(port)), log_path


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class WellBehaved(threading.Thread):
    """Asks GET /health on a fresh connection every 100 ms; keeps the slowest answer and failures."""

    def __init__(self, addr):
        super().__init__(daemon=True)
        self.addr, self.stop, self.slowest, self.failures, self.answered = addr, threading.Event(), 0.0, [], 0

    def run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                with socket.create_connection(self.addr, timeout=2) as conn:
                    conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    answer = conn.recv(64)
                if not answer.startswith(b"HTTP/1.1 200"):
                    self.failures.append(answer[:40])
                self.answered += 1
            except OSError as err:
                self.failures.append(str(err))
            self.slowest = max(self.slowest, time.monotonic() - started)
            time.sleep(0.1)


class CutOffWatcher(threading.Thread):
    """Watches sockets as they are added, all at once (epoll): for each, the seconds from when it
    was added until the server closed it or answered on it, and what it answered; None when it did
    neither within `limit` seconds."""

    def __init__(self, limit):
        super().__init__(daemon=True)
        self.limit, self.epoll, self.lock = limit, select.epoll(), threading.Lock()
        self.since, self.result, self.all_added = {}, {}, threading.Event()

    def add(self, conn):
        with self.lock:
            self.since[conn.fileno()] = (conn, time.monotonic())
        self.epoll.register(conn.fileno(), select.EPOLLIN | select.EPOLLHUP | select.EPOLLERR | select.EPOLLRDHUP)

    def run(self):
        while True:
            events = self.epoll.poll(0.05)
            now = time.monotonic()
            for fd, _ in events:
                conn, since = self.since[fd]
                try:
                    data = conn.recv(65536, socket.MSG_DONTWAIT)
                except (ConnectionResetError, BlockingIOError):
                    data = b""
                self.result[fd] = (now - since, data[:12].decode("latin-1", "replace"))
                self.epoll.unregister(fd)
            with self.lock:
                waiting = [fd for fd, (_, since) in self.since.items() if fd not in self.result]
                for fd in waiting:
                    if time.monotonic() - self.since[fd][1] >= self.limit:
                        self.result[fd] = (None, "")
                        self.epoll.unregister(fd)
                if self.all_added.is_set() and len(self.result) == len(self.since):
                    return

    def cut(self):
        """Waits for every socket's outcome; returns them in the order added."""
        self.all_added.set()
        self.join()
        return [self.result[fd] for fd in self.since]


def watched(limit, sockets_or_opener):
    """Adds `sockets` to a new watcher (or the ones `opener(add)` opens while it runs)."""
    watcher = CutOffWatcher(limit)
    watcher.start()
    if callable(sockets_or_opener):
        sockets_or_opener(watcher.add)
    else:
        for conn in sockets_or_opener:
            watcher.add(conn)
    return watcher


def dribble(sockets, payload, interval, duration):
    """Sends one more byte of `payload` on each socket every `interval` seconds for `duration`."""
    sent = [0] * len(sockets)
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        for i, conn in enumerate(sockets):
            if conn is not None and sent[i] < len(payload):
                try:
                    conn.send(payload[sent[i]:sent[i] + 1])
                    sent[i] += 1
                except OSError:
                    sockets[i] = None
        time.sleep(interval)


def case(name, addr, pid, timeout, open_abusers, results):
    """Runs one abuse case with the well-behaved client alongside; appends its row to `results`."""
    client = WellBehaved(addr)
    client.start()
    before = rss_mib(pid)
    started = time.monotonic()
    abusers, cut = open_abusers()
    peak = rss_mib(pid)
    times = [t for t, _ in cut if t is not None]
    answers = sorted({a.split(" ")[1] if a.startswith("HTTP/") else "closed" for t, a in cut if t is not None})
    client.stop.set()
    client.join()
    for conn in abusers:
        conn.close()
    ok = len(times) == len(cut) and max(times, default=0) <= timeout + 1 and not client.failures \
        and client.slowest < 2.0
    results.append(ok)
    print(f"| {name} | {len(cut)} | {len(times)} | {max(times, default=0):.1f} s | {', '.join(answers)} | "
          f"{client.answered}, slowest {client.slowest * 1000:.0f} ms, {len(client.failures)} failed | "
          f"{before:.1f} → {peak:.1f} MiB | {time.monotonic() - started:.1f} s | {'ok' if ok else 'FAILED'} |",
          flush=True)
    if client.failures:
        print("   well-behaved client failures:", client.failures[:5])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--timeout", type=int, default=2)
    parser.add_argument("--idle", type=int, default=10000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it too
    if hard < args.idle + 1000:
        sys.exit(f"the file descriptor limit ({hard}) is too low for {args.idle} idle connections")
    timeout = args.timeout
    results = []
    with tempfile.TemporaryDirectory() as work:
        server, addr, log_path = start_with_timeouts(os.path.realpath(args.binary), work, timeout)
        pid = server.pid
        print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, header and body timeouts {timeout} s")
        print("| case | abusers | cut off | slowest cut-off | answers | well-behaved requests | server RSS | time | |")
        print("|---|---|---|---|---|---|---|---|---|")
        try:
            def dribbled(sockets, payload):
                """Dribbles `payload` on every socket, a byte every 250 ms; how each was cut off."""
                dribbler = threading.Thread(target=dribble, args=(list(sockets), payload, 0.25, timeout + 2))
                watcher = watched(timeout + 3, sockets)
                dribbler.start()
                cut = watcher.cut()
                dribbler.join()
                return sockets, cut

            def slowloris():
                sockets = [socket.create_connection(addr) for _ in range(200)]
                return dribbled(sockets, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200)

            def slow_body():
                sockets = []
                for _ in range(200):
                    conn = socket.create_connection(addr)
                    conn.sendall(b"POST /jwt/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: 1000\r\n\r\n{")
                    sockets.append(conn)
                return dribbled(sockets, b'"email": "' + b"a" * 990)

            def idle():
                opened = []

                def open_all(add):
                    for _ in range(args.idle):
                        opened.append(socket.create_connection(addr))
                        add(opened[-1])

                cut = watched(timeout + 3, open_all).cut()
                return opened, cut

            def huge_headers():
                sockets, cut = [], []
                for _ in range(20):
                    conn = socket.create_connection(addr)
                    try:
                        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n")
                    except OSError:
                        pass  # the server may close before all of it is sent
                    sockets.append(conn)
                    cut.extend(watched(timeout + 1, [conn]).cut())
                return sockets, cut

            case("slowloris: 200 heads, a byte every 250 ms", addr, pid, timeout, slowloris, results)
            case("slow body: 200 bodies, a byte every 250 ms", addr, pid, timeout, slow_body, results)
            case(f"{args.idle:,} idle connections", addr, pid, timeout, idle, results)
            case("1 MiB of headers, 20 times", addr, pid, timeout, huge_headers, results)
            print(f"\nserver RSS at the end: {rss_mib(pid):.1f} MiB")
        finally:
            alive = server.poll() is None
            server.kill()
            server.wait()
        log = open(log_path).read()
        if not alive or "panicked" in log or not all(results):
            sys.exit("FAILED\n" + log[-3000:])


if __name__ == "__main__":
    main()
