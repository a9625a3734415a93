#!/usr/bin/env python3
"""Does an answer's timing tell one case from another? (issue 23 §3, docs/reliability.md)

Starts the given release binary on a fresh SQLite database in a temporary directory (rate limits
off, so every request is judged), makes one verified user, then for each pair of cases sends N
requests of each, alternating A B A B on one keep-alive connection, and prints the median and p90
latency of each case and the difference of the medians.

Usage: benches/timing.py target/release/authify [N]     (N = 2000 by default)
"""
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

PASSWORD = "a long enough password"


def start(binary, work, lockout):
    env = dict(os.environ, AUTHIFY_LISTEN="127.0.0.1:0", RUST_LOG="warn,authify=info",
               AUTHIFY_RATE_LIMIT_PER_IP="0", AUTHIFY_RATE_LIMIT_PER_ACCOUNT="0",
               AUTHIFY_LOCKOUT_THRESHOLD=str(lockout), AUTHIFY_MAIL_LIMIT_PER_RECIPIENT="0",
               AUTHIFY_MAIL_LIMIT_PER_IP="0", AUTHIFY_MAIL_LIMIT_PER_USER="0",
               AUTHIFY_PASSWORD_HASH_WAIT_MS="0", AUTHIFY_COOKIE_SECURE="false")
    subprocess.run([binary, "user", "create", "known@example.com"], cwd=work, env=env, input=PASSWORD + "\n",
                   text=True, check=True, capture_output=True)
    log = open(os.path.join(work, "server.log"), "w")
    server = subprocess.Popen([binary, "serve"], cwd=work, env=env, stderr=log, stdout=log)
    for _ in range(200):
        text = open(os.path.join(work, "server.log")).read()
        if "addr=" in text and "listening" in text:
            addr = text.split("listening addr=")[1].split()[0]
            return server, addr
        time.sleep(0.05)
    server.kill()
    sys.exit("the server did not start: " + open(os.path.join(work, "server.log")).read())


def timed(conn, path, body):
    start = time.perf_counter()
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return time.perf_counter() - start, response.status


def compare(addr, name, path, case_a, case_b, n):
    conn = http.client.HTTPConnection(addr)
    for _ in range(20):  # warm up both paths
        timed(conn, path, case_a[1](0))
        timed(conn, path, case_b[1](0))
    times = {case_a[0]: [], case_b[0]: []}
    statuses = {case_a[0]: set(), case_b[0]: set()}
    for i in range(n):
        for label, body in (case_a, case_b) if i % 2 == 0 else (case_b, case_a):
            elapsed, status = timed(conn, path, body(i))
            times[label].append(elapsed * 1000)
            statuses[label].add(status)
    (la, ta), (lb, tb) = times.items()
    ma, mb = statistics.median(ta), statistics.median(tb)
    p90 = lambda t: statistics.quantiles(t, n=10)[-1]
    diff = (mb - ma) / ma * 100
    print(f"| {name} | {la} {sorted(statuses[la])} | {ma:.2f} / {p90(ta):.2f} | {lb} {sorted(statuses[lb])} | "
          f"{mb:.2f} / {p90(tb):.2f} | {diff:+.1f} % |", flush=True)


def main():
    binary = os.path.realpath(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    print(f"# {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {n} requests per case, alternating")
    print("| route | case A (statuses) | median / p90 ms | case B (statuses) | median / p90 ms | B vs A |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as work:
        server, addr = start(binary, work, lockout=0)
        try:
            wrong = lambda i: {"email": "known@example.com", "password": "wrong password"}
            unknown = lambda i: {"email": f"nobody{i % 50}@example.com", "password": "wrong password"}
            compare(addr, "`POST /jwt/token`", "/jwt/token", ("wrong password", wrong), ("unknown email", unknown), n)
            compare(addr, "`POST /session`", "/session", ("wrong password", wrong), ("unknown email", unknown), n)
            compare(addr, "`POST /registration/forgot_password`", "/registration/forgot_password",
                    ("existing", lambda i: {"email": "known@example.com"}),
                    ("unknown", lambda i: {"email": f"nobody{i % 50}@example.com"}), n)
            compare(addr, "`POST /registration/signup`", "/registration/signup",
                    ("existing", lambda i: {"email": "known@example.com", "password": PASSWORD}),
                    ("new", lambda i: {"email": f"new{i}@example.com", "password": PASSWORD}), n)
        finally:
            server.kill()
    with tempfile.TemporaryDirectory() as work:
        server, addr = start(binary, work, lockout=5)
        try:
            conn = http.client.HTTPConnection(addr)
            for _ in range(6):
                timed(conn, "/jwt/token", {"email": "known@example.com", "password": "wrong password"})
            compare(addr, "`POST /jwt/token`, lockout on", "/jwt/token",
                    ("locked account", lambda i: {"email": "known@example.com", "password": "wrong password"}),
                    ("not locked (unknown email)", lambda i: {"email": f"nobody{i}@example.com", "password": "x"}), n)
        finally:
            server.kill()


if __name__ == "__main__":
    main()
