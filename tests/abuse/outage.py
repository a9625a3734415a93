#!/usr/bin/env python3
"""The database or Redis taken away under load (issue 23 §2; figures in docs/reliability.md).

Runs a private server of the kind asked for (PostgreSQL with initdb and pg_ctl, MariaDB with
mariadb-install-db and mariadbd, or Redis), so the machine's own services are never touched, and
starts BINARY on it. Workers keep up a mixed load: logins, signups, GET /me, token verification,
the JWKS and /health/ready. After a few seconds the server is stopped the way an operator stops it
(pg_ctl -m fast, SIGTERM) for DOWN seconds, then started again; the service itself is never
restarted.

Database: while it is down, every request that needs it answers 503 with Retry-After and Authify's
own message within 4 s (AUTHIFY_DB_TIMEOUT_SECONDS is 3) (never 500, never a driver message), /health/ready answers 503, token
verification and the JWKS keep answering 200; after it is back, the service recovers by itself
(the time from the database being up to the first 200 login is measured), and every signup answered
200 at any time is there.

Redis: while it is down, rate-limited routes keep answering (fail open) without waiting on Redis,
the account lockout still locks, and the log says so once; after it is back the rate limit applies
again.

Usage: tests/abuse/outage.py BINARY --of postgres|mysql|redis [--down 30]
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from authify_process import LIMITS_OFF, PASSWORD, call, environment, start, verdict

DRIVER_WORDS = ("sqlx", "database error", "connection refused", "pool", "io error", "postgres", "mysql", "maria")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_owner(owner, command, **kwargs):
    """`command` run as `owner` when we are root (initdb and mariadbd refuse root), else as we are."""
    prefix = ["runuser", "-u", owner, "--"] if os.geteuid() == 0 else []
    return subprocess.run(prefix + command, check=True, capture_output=True, text=True, **kwargs)


class PrivatePostgres:
    def __init__(self, work):
        self.dir, self.port = os.path.join(work, "pg"), free_port()
        os.makedirs(self.dir)
        if os.geteuid() == 0:
            shutil.chown(work, "postgres")
            shutil.chown(self.dir, "postgres")
        bindir = sorted(d for d in os.listdir("/usr/lib/postgresql"))[-1]
        self.bin = f"/usr/lib/postgresql/{bindir}/bin"
        as_owner("postgres", [f"{self.bin}/initdb", "-D", self.dir, "-U", "postgres", "--auth=trust", "-E", "UTF8"])
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self):
        as_owner("postgres", [f"{self.bin}/pg_ctl", "-D", self.dir, "-w", "-l", os.path.join(self.dir, "log"),
                              "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1", "start"])

    def stop(self):
        as_owner("postgres", [f"{self.bin}/pg_ctl", "-D", self.dir, "-w", "-m", "fast", "stop"])


class PrivateMariaDB:
    def __init__(self, work):
        self.dir, self.port = os.path.join(work, "maria"), free_port()
        os.makedirs(self.dir)
        if os.geteuid() == 0:
            shutil.chown(work, "mysql")
            shutil.chown(self.dir, "mysql")
        as_owner("mysql", ["mariadb-install-db", "--no-defaults", f"--datadir={self.dir}",
                           "--auth-root-authentication-method=normal", "--skip-test-db"])
        self.url = f"mysql://root@127.0.0.1:{self.port}/authify"
        self.process = None

    def start(self):
        self.process = subprocess.Popen((["runuser", "-u", "mysql", "--"] if os.geteuid() == 0 else []) + [
            "mariadbd", "--no-defaults", f"--datadir={self.dir}", f"--port={self.port}", "--bind-address=127.0.0.1",
            f"--socket={self.dir}/sock", f"--pid-file={self.dir}/pid", "--skip-log-bin"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "log"), "a"))
        for _ in range(300):
            if subprocess.run(["mariadb", "-h", "127.0.0.1", "-P", str(self.port), "-u", "root", "-e",
                               "CREATE DATABASE IF NOT EXISTS authify"], capture_output=True).returncode == 0:
                return
            time.sleep(0.1)
        sys.exit("MariaDB did not start:\n" + open(os.path.join(self.dir, "log")).read()[-3000:])

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


class PrivateRedis:
    def __init__(self, work):
        self.port, self.process = free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}"

    def start(self):
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        sys.exit("Redis did not start")

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)


class Recorder:
    """Every answer with when it was asked and answered; the phase is decided afterwards from when
    the database stopped and started: `before` (answered before the stop began), `down` (asked
    after it was stopped, answered before it started), `after` (asked once it was up), or between
    (judged only for never being 500)."""

    def __init__(self):
        self.lock, self.rows = threading.Lock(), []

    def add(self, kind, asked, answer):
        with self.lock:
            self.rows.append((kind, asked, time.monotonic(), answer))

    def phase(self, asked, answered, stopping, stopped, started):
        if answered < stopping:
            return "before"
        if asked >= stopped and answered < started:
            return "down"
        if asked >= started:
            return "after"
        return "between"


def database_outage(args, work, db):
    env = environment(AUTHIFY_DB_URL=db.url, AUTHIFY_MAIL_POLL_MS="500", **LIMITS_OFF)
    subprocess.run([args.binary, "user", "create", "admin@example.com", "--admin"], cwd=work, env=env,
                   input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    service, addr, log_path = start(args.binary, work, env)
    problems = []
    try:
        _, _, body, _ = call(addr, "POST", "/jwt/token", {"email": "admin@example.com", "password": PASSWORD})
        token = body["jwt"]
        recorder, stop, signups = Recorder(), threading.Event(), {}

        def loop(kind, ask, pause=0.0):
            n = 0
            while not stop.is_set():
                n += 1
                asked = time.monotonic()
                recorder.add(kind, asked, ask(n))
                time.sleep(pause)

        def signup(n):
            address = f"outage-{n}@example.com"
            answer = call(addr, "POST", "/registration/signup", {"email": address, "password": PASSWORD})
            if answer[0] == 200:
                signups[address] = answer[2]["id"]
            return answer

        workers = [
            ("login", lambda n: call(addr, "POST", "/jwt/token", {"email": "admin@example.com", "password": PASSWORD}), 0),
            ("signup", signup, 0),
            ("GET /me", lambda n: call(addr, "GET", "/me", token=token, jsonapi=True), 0.05),
            ("verify", lambda n: call(addr, "POST", "/jwt/verify", {"token": token}), 0.05),
            ("JWKS", lambda n: call(addr, "GET", "/.well-known/jwks.json"), 0.05),
            ("ready", lambda n: call(addr, "GET", "/health/ready"), 0.1),
        ]
        threads = [threading.Thread(target=loop, args=w, daemon=True) for w in workers]
        for thread in threads:
            thread.start()
        time.sleep(4)
        stopping_at = time.monotonic()
        db.stop()
        stopped_at = time.monotonic()
        time.sleep(args.down)
        db.start()
        started_at = time.monotonic()
        recovered, ready_again = None, None
        while time.monotonic() - started_at < 60 and (recovered is None or ready_again is None):
            if recovered is None and call(addr, "POST", "/jwt/token", {"email": "admin@example.com",
                                                                      "password": PASSWORD})[0] == 200:
                recovered = time.monotonic() - started_at
            if ready_again is None and call(addr, "GET", "/health/ready")[0] == 200:
                ready_again = time.monotonic() - started_at
            time.sleep(0.1)
        time.sleep(4)
        stop.set()
        for thread in threads:
            thread.join(30)
        down_for = started_at - stopped_at
        if recovered is None or ready_again is None:
            problems.append("the service did not recover within 60 s of the database starting")
        # Judge every answer.
        print(f"# {args.of} stopped for {down_for:.0f} s under load; authify not restarted")
        print("| requests | phase | answered | 2xx | 503 | other | slowest |\n|---|---|---|---|---|---|---|")
        phases = [(kind, recorder.phase(asked, answered, stopping_at, stopped_at, started_at), answer)
                  for kind, asked, answered, answer in recorder.rows]
        for kind, _, _ in workers:
            between = [a for k, p, a in phases if k == kind and p == "between" and a[0] >= 500 and a[0] != 503]
            problems += [f"{kind} while the database stopped or started: {a[0]} {str(a[2])[:200]}" for a in between[:3]]
            for phase in ("before", "down", "after"):
                rows = [a for k, p, a in phases if k == kind and p == phase]
                ok = sum(1 for a in rows if 200 <= a[0] < 300)
                unavailable = [a for a in rows if a[0] == 503]
                other = [a for a in rows if not (200 <= a[0] < 300) and a[0] != 503]
                slowest = max((a[3] for a in rows), default=0)
                print(f"| {kind} | {phase} | {len(rows)} | {ok} | {len(unavailable)} | {len(other)} | {slowest:.2f} s |")
                for status, headers, body, seconds in other[:3]:
                    problems.append(f"{kind} while {phase}: {status} {str(body)[:200]}")
                if kind in ("verify", "JWKS") and ok != len(rows):
                    problems.append(f"{kind} while {phase}: {len(rows) - ok} of {len(rows)} not 200")
                if kind == "verify" and any(isinstance(a[2], dict) and a[2].get("valid") is not True for a in rows):
                    problems.append("a valid token was not valid while the database was " + phase)
                if phase == "down" and kind not in ("verify", "JWKS", "ready") and not unavailable:
                    problems.append(f"{kind}: no 503 while the database was down")
                if phase == "down" and kind == "ready" and not unavailable:
                    problems.append("/health/ready never answered 503 while the database was down")
                for status, headers, body, seconds in unavailable:
                    if seconds > 4:
                        problems.append(f"{kind}: a 503 took {seconds:.1f} s")
                        break
                    if kind != "ready" and "retry-after" not in {h.lower() for h in headers}:
                        problems.append(f"{kind}: a 503 without Retry-After: {headers} {body}")
                        break
                    if kind != "ready" and any(word in json.dumps(body).lower() for word in DRIVER_WORDS):
                        problems.append(f"{kind}: a 503 tells the driver's words: {body}")
                        break
                if kind == "ready" and phase != "down":
                    continue
                if phase in ("before", "after") and ok < len(rows) * 0.5 and kind != "ready":
                    problems.append(f"{kind} while {phase}: only {ok} of {len(rows)} answered 2xx")
        print(f"\nrecovery after the database was up: first 200 login {recovered or float('nan'):.1f} s, "
              f"/health/ready 200 {ready_again or float('nan'):.1f} s")
        lost = [a for a, user_id in signups.items()
                if call(addr, "GET", f"/users/{user_id}", token=call(addr, "POST", "/jwt/token", {
                    "email": "admin@example.com", "password": PASSWORD})[2]["jwt"], jsonapi=True)[0] != 200]
        print(f"signups answered 200: {len(signups)}, lost: {len(lost)}")
        problems += [f"signup {a} answered 200 and lost" for a in lost[:5]]
        log = open(log_path).read()
        outage_lines = log.count("answering 503 until it can")
        print(f"log lines saying the database cannot be reached: {outage_lines} (at most one a minute)")
        lost_events = log.count("audit events lost")
        print(f"audit events lost: {lost_events}")
        if lost_events:
            problems.append("audit events were lost in the outage")
        if "panicked" in log:
            problems.append("the service panicked")
        if service.poll() is not None:
            problems.append("the service died")
    finally:
        service.kill()
        service.wait()
        if args.keep_log:
            shutil.copy(log_path, args.keep_log)
    return problems


def redis_outage(args, work, redis):
    env = environment(AUTHIFY_REDIS_URL=redis.url, **dict(LIMITS_OFF, AUTHIFY_RATE_LIMIT_PER_ACCOUNT="5",
                                                          AUTHIFY_LOCKOUT_THRESHOLD="3", AUTHIFY_RATE_LIMIT_WINDOW="600"))
    for address in ("admin@example.com", "victim@example.com", "open@example.com", "again@example.com"):
        subprocess.run([args.binary, "user", "create", address] + (["--admin"] if address.startswith("admin") else []),
                       cwd=work, env=env, input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    service, addr, log_path = start(args.binary, work, env)
    problems = []
    login = lambda address, password=PASSWORD: call(addr, "POST", "/jwt/token", {"email": address, "password": password})
    try:
        print(f"# Redis stopped for {args.down} s; authify not restarted; per-account limit 5 logins per 600 s, "
              f"lockout after 3 wrong passwords")
        print("| check | expected | seen | |\n|---|---|---|---|")

        def row(check, expected, seen, ok):
            print(f"| {check} | {expected} | {seen} | {'ok' if ok else 'FAILED'} |", flush=True)
            if not ok:
                problems.append(f"{check}: expected {expected}, saw {seen}")

        statuses = [login("admin@example.com")[0] for _ in range(7)]
        row("Redis up: 7 logins of one account", "5 × 200 then 429", statuses, statuses == [200] * 5 + [429] * 2)
        redis.stop()
        stopped_at = time.monotonic()
        answers = [login("open@example.com") for _ in range(8)]
        statuses = [a[0] for a in answers]
        slowest = max(a[3] for a in answers)
        row("Redis down: 8 logins of one account", "8 × 200 (fail open)", statuses, statuses == [200] * 8)
        row("Redis down: slowest of those logins", "< 2 s (Redis asked at most once a second)", f"{slowest:.2f} s",
            slowest < 2)
        wrong = [login("victim@example.com", "wrong password")[0] for _ in range(3)]
        right = login("victim@example.com")[0]
        row("Redis down: 3 wrong passwords, then the right one", "401, 401, 401, then 429 (locked)",
            wrong + [right], wrong == [401] * 3 and right == 429)
        time.sleep(max(0, args.down - (time.monotonic() - stopped_at)))
        more = [login("open@example.com")[0] for _ in range(3)]
        row(f"Redis down {args.down} s: 3 more logins", "3 × 200", more, more == [200] * 3)
        log = open(log_path).read()
        lines = log.count("Redis unreachable")
        row("log lines saying Redis is unreachable", "1", lines, lines == 1)
        redis.start()
        started_at = time.monotonic()
        statuses = []
        while time.monotonic() - started_at < 30:
            statuses.append(login("again@example.com")[0])
            if statuses[-1] == 429:
                break
            time.sleep(0.2)
        recovered = time.monotonic() - started_at
        row("Redis back: logins of a fresh account until the limit", "5 × 200 then 429",
            f"{statuses.count(200)} × 200 then {statuses[-1]} after {recovered:.1f} s",
            statuses[-1] == 429 and statuses.count(200) >= 5)
        log = open(log_path).read()
        row("log line saying Redis answers again", "1", log.count("Redis answers again"),
            log.count("Redis answers again") == 1)
        if "panicked" in log:
            problems.append("the service panicked")
    finally:
        service.kill()
        service.wait()
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--of", choices=["postgres", "mysql", "redis"], required=True)
    parser.add_argument("--down", type=int, default=30)
    parser.add_argument("--keep-log", help="copy authify's log here")
    args = parser.parse_args()
    args.binary = os.path.realpath(args.binary)
    work = tempfile.mkdtemp(prefix="authify-outage-")
    os.chmod(work, 0o755)
    server = {"postgres": PrivatePostgres, "mysql": PrivateMariaDB, "redis": PrivateRedis}[args.of](work)
    server.start()
    try:
        problems = redis_outage(args, work, server) if args.of == "redis" else database_outage(args, work, server)
    finally:
        try:
            server.stop()
        except Exception:  # already stopped by a failed step
            pass
        shutil.rmtree(work, ignore_errors=True)
    verdict(problems, "PROBLEM")


if __name__ == "__main__":
    main()
