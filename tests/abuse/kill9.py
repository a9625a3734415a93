#!/usr/bin/env python3
"""kill -9 under load (issue 23 §2; figures in docs/reliability.md).

Starts BINARY on a fresh database (SQLite in a temporary directory, or a new PostgreSQL or MariaDB
database), mail written as files. Workers then run, as fast as the server answers: signups, logins,
password changes, API-key creations and logouts, each worker as its own user. After SECONDS the
server gets SIGKILL mid-load; it is started again on the same database and everything answered 2xx
before the kill is checked, black-box, through the API:

- every signup answered 200: the user exists, and its verification mail is delivered exactly once;
- every password change answered 204: the password logs in (or the one a request cut off by the
  kill carried, had it been written);
- every API key answered 201: it logs in;
- every logout answered 200: the token stays refused;
- every answered change has its audit event (password changes, API-key creations); the batched
  login events lost in the kill are counted (the loss window);
- the database passes an integrity check (SQLite `PRAGMA integrity_check`; PostgreSQL amcheck over
  every B-tree index; MariaDB `CHECK TABLE`).

That is one round; ROUNDS rounds run on the same database, each checking everything acknowledged
so far. Exit 1 when anything acknowledged was lost.

Usage: tests/abuse/kill9.py BINARY [--db sqlite|postgres|mysql] [--rounds 3] [--seconds 4] [--workers 4]
"""
import argparse
import email
import glob
import http.client
import os
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid

from authify_process import LIMITS_OFF, PASSWORD, environment, request, start, verdict


class Database:
    """A fresh database of one kind: its URL, an integrity check, and dropping it."""

    def __init__(self, kind, work):
        self.kind, self.name = kind, f"kill9_{uuid.uuid4().hex[:12]}"
        if kind == "sqlite":
            self.path = os.path.join(work, "authify.db")
            self.url = f"sqlite://{self.path}?mode=rwc"
        elif kind == "postgres":
            self.psql("postgres", f"CREATE DATABASE {self.name}")
            self.url = f"postgres://postgres@127.0.0.1:5432/{self.name}"
        else:
            self.mysql(f"CREATE DATABASE {self.name}")
            self.url = f"mysql://root@127.0.0.1:3306/{self.name}"

    @staticmethod
    def psql(database, sql):
        return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-XAtq", "-v",
                               "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True, text=True).stdout

    def mysql(self, sql, database=""):
        return subprocess.run(["mariadb", "-h", "127.0.0.1", "-u", "root", "-N", "-B", "-e", sql] +
                              ([database] if database else []), check=True, capture_output=True, text=True).stdout

    def integrity(self):
        """'ok', or what the check reported."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as db:
                rows = db.execute("PRAGMA integrity_check").fetchall()
            return "ok" if rows == [("ok",)] else str(rows)
        if self.kind == "postgres":
            self.psql(self.name, "CREATE EXTENSION IF NOT EXISTS amcheck")
            indexes = self.psql(self.name, "SELECT c.oid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                                           "JOIN pg_am a ON a.oid = c.relam JOIN pg_namespace n ON n.oid = c.relnamespace "
                                           "WHERE a.amname = 'btree' AND n.nspname = 'public'").split()
            for oid in indexes:
                self.psql(self.name, f"SELECT bt_index_parent_check({oid}, true)")
            return f"ok ({len(indexes)} indexes)"
        tables = self.mysql("SHOW TABLES", self.name).split()
        report = self.mysql("CHECK TABLE " + ", ".join(f"`{t}`" for t in tables) + " EXTENDED", self.name)
        bad = [line for line in report.splitlines() if line.split("\t")[2:3] == ["status"] and not line.endswith("OK")]
        return f"ok ({len(tables)} tables)" if not bad else "; ".join(bad)

    def drop(self):
        if self.kind == "postgres":
            self.psql("postgres", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
        elif self.kind == "mysql":
            self.mysql(f"DROP DATABASE IF EXISTS {self.name}")


class Server:
    def __init__(self, binary, work, database):
        self.binary, self.work = binary, work
        self.env = environment(AUTHIFY_DB_URL=database.url, AUTHIFY_MAIL_LEASE_SECONDS="5", AUTHIFY_MAIL_POLL_MS="200",
                               **LIMITS_OFF)
        self.process, self.addr, self.starts = None, None, 0

    def cli(self, *args, stdin=None):
        return subprocess.run([self.binary, *args], cwd=self.work, env=self.env, input=stdin, text=True,
                              check=True, capture_output=True).stdout

    def start(self):
        self.starts += 1
        self.process, self.addr, _ = start(self.binary, self.work, self.env, f"server-{self.starts}.log")

    def kill(self):
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def logs(self):
        return "".join(open(p).read() for p in sorted(glob.glob(os.path.join(self.work, "server-*.log"))))


def call(addr, method, path, body=None, token=None, jsonapi=False):
    """(status, JSON body); raises OSError/HTTPException when the connection fails."""
    answer = request(addr, method, path, body, token, jsonapi)
    return answer.status, answer.body


class Ledger:
    """What the server acknowledged (and what was in flight when it died), shared by the workers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.signups = {}           # email -> user id
        self.passwords = {}         # user email -> (acknowledged password, password of a cut-off change or None)
        self.password_changes = {}  # user id -> changes answered 204
        self.keys = []              # (access, secret, user id)
        self.revoked = []           # tokens whose logout was answered 200
        self.logins = 0             # password logins answered 200
        self.refusals = []          # answers no request of a healthy server should get


def load(addr, user, ledger, stop, worker, round_):
    """One worker's loop: signup, login, password change, API key, logout, until `stop` or the server dies."""
    email_, user_id = user
    n = 0
    while not stop.is_set():
        n += 1
        step = "signup"
        try:
            address = f"s{round_}-{worker}-{n}@example.com"
            status, body = call(addr, "POST", "/registration/signup", {"email": address, "password": PASSWORD})
            if status == 200:
                with ledger.lock:
                    ledger.signups[address] = body["id"]
            with ledger.lock:
                current, cut_off = ledger.passwords[email_]
            if cut_off is not None:
                return  # which password is current is unknown until the restart
            step = "login"
            status, body = call(addr, "POST", "/jwt/token", {"email": email_, "password": current})
            if status != 200:
                ledger.refusals.append(f"worker {worker}: login refused mid-load: {status} {body}")
                return
            with ledger.lock:
                ledger.logins += 1
            token = body["jwt"]
            step = "password"
            new = f"{PASSWORD} r{round_} n{n}"
            with ledger.lock:
                ledger.passwords[email_] = (current, new)
            status, body = call(addr, "POST", "/me/password", {"current_password": current, "new_password": new}, token)
            with ledger.lock:
                if status == 204:
                    ledger.passwords[email_] = (new, None)
                    ledger.password_changes[user_id] = ledger.password_changes.get(user_id, 0) + 1
                else:
                    ledger.refusals.append(f"worker {worker}: password change refused mid-load: {status} {body}")
                    return
            step = "key"
            status, body = call(addr, "POST", "/apikeys", {"data": {"type": "apikeys"}}, token, jsonapi=True)
            if status == 201:
                attributes = body["data"]["attributes"]
                with ledger.lock:
                    ledger.keys.append((attributes["access-key"], attributes["secret-key"], user_id))
            step = "logout"
            status, _ = call(addr, "POST", "/jwt/revoke", {}, token)
            if status == 200:
                with ledger.lock:
                    ledger.revoked.append(token)
        except (OSError, http.client.HTTPException):
            if step == "password":
                return  # keeps the cut-off password as a candidate
            if not stop.is_set():
                time.sleep(0.01)
            return


def check(addr, admin, users, ledger, mail_dir, database):
    """Everything acknowledged so far, after a restart; returns (row of figures, problems)."""
    problems = list(ledger.refusals)
    ledger.refusals.clear()
    worker_ids = {f"users:{user_id}" for _, user_id in users}
    logins_audited = sum(1 for e in audit_events(addr, admin, "login.password") if e.get("target") in worker_ids)
    logins_answered = ledger.logins
    for address, user_id in ledger.signups.items():
        status, body = call(addr, "GET", f"/users/{user_id}", token=admin, jsonapi=True)
        if status != 200 or body["data"]["attributes"]["email"] != address:
            problems.append(f"signup {address} (user {user_id}) lost: {status}")
    deadline = time.monotonic() + 30
    while True:
        delivered = {}
        for path in glob.glob(os.path.join(mail_dir, "*.eml")):
            to = email.message_from_binary_file(open(path, "rb"))["To"]
            delivered[to] = delivered.get(to, 0) + 1
        missing = [a for a in ledger.signups if a not in delivered]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    problems += [f"no verification mail for {a}" for a in missing[:5]]
    twice = {a: delivered[a] for a in ledger.signups if delivered.get(a, 0) > 1}
    problems += [f"{a} got {c} mails" for a, c in list(twice.items())[:5]]
    for address, (current, cut_off) in ledger.passwords.items():
        statuses = [call(addr, "POST", "/jwt/token", {"email": address, "password": p})[0] for p in (current, cut_off) if p]
        if 200 not in statuses:
            problems.append(f"{address}: neither the acknowledged nor the cut-off password logs in ({statuses})")
        else:
            ok = (current, cut_off)[statuses.index(200)]
            ledger.passwords[address] = (ok, None)
            ledger.logins += 1  # answered, so its event counts at the next check
    for access, secret, _ in ledger.keys:
        status, _ = call(addr, "POST", "/jwt/token", {"access_key": access, "secret_key": secret})
        if status != 200:
            problems.append(f"API key {access} lost: {status}")
    for token in ledger.revoked:
        status, _ = call(addr, "GET", "/me", token=token, jsonapi=True)
        if status != 401:
            problems.append(f"a logged-out token answers {status}")
    audit = lambda action: audit_events(addr, admin, action)
    changes = audit("users.password-change")
    for user_id, count in ledger.password_changes.items():
        recorded = sum(1 for e in changes if e["target"] == f"users:{user_id}" and e["details"].get("outcome") == "success")
        if recorded < count:
            problems.append(f"user {user_id}: {count} password changes answered, {recorded} audited")
    keys_audited = len(audit("apikeys.create"))
    if keys_audited < len(ledger.keys):
        problems.append(f"{len(ledger.keys)} API keys answered, {keys_audited} audited")
    integrity = database.integrity()
    if not integrity.startswith("ok"):
        problems.append(f"integrity check: {integrity}")
    figures = dict(signups=len(ledger.signups), mails=sum(delivered.get(a, 0) for a in ledger.signups),
                   passwords=sum(ledger.password_changes.values()), keys=len(ledger.keys), logouts=len(ledger.revoked),
                   logins=logins_answered, logins_audited=logins_audited, integrity=integrity)
    return figures, problems


def audit_events(addr, admin, action):
    """Every audit event of `action`, through the {json:api} pages."""
    events, page = [], 1
    while True:
        status, body = call(addr, "GET", f"/audit-events?filter[action]={action}&page[size]=500&page[number]={page}",
                            token=admin, jsonapi=True)
        if status != 200:
            raise SystemExit(f"reading the audit trail: {status} {body}")
        events += [r["attributes"] for r in body["data"]]
        if len(body["data"]) < 500:
            return events
        page += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--db", choices=["sqlite", "postgres", "mysql"], default="sqlite")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    problems = []
    with tempfile.TemporaryDirectory() as work:
        database = Database(args.db, work)
        try:
            server = Server(os.path.realpath(args.binary), work, database)
            server.cli("user", "create", "admin@example.com", "--admin", stdin=PASSWORD + "\n")
            ledger, users = Ledger(), []
            for worker in range(args.workers):
                address = f"worker{worker}@example.com"
                server.cli("user", "create", address, stdin=PASSWORD + "\n")
                ledger.passwords[address] = (PASSWORD, None)
            server.start()
            status, body = call(server.addr, "POST", "/jwt/token", {"email": "admin@example.com", "password": PASSWORD})
            admin = body["jwt"]
            for address in list(ledger.passwords):
                status, body = call(server.addr, "POST", "/jwt/token", {"email": address, "password": PASSWORD})
                assert status == 200, body
                ledger.logins += 1
                status, body = call(server.addr, "GET", "/me", token=body["jwt"], jsonapi=True)
                users.append((address, int(body["data"]["id"])))
            print(f"# kill -9 under load on {args.db}: {args.workers} workers, SIGKILL after {args.seconds} s, "
                  f"{args.rounds} rounds; totals acknowledged so far at each check")
            print("| round | signups (mails) | password changes | API keys | logouts | logins answered → audited | "
                  "lost | integrity |\n|---|---|---|---|---|---|---|---|", flush=True)
            for round_ in range(1, args.rounds + 1):
                stop = threading.Event()
                threads = [threading.Thread(target=load, args=(server.addr, users[w], ledger, stop, w, round_), daemon=True)
                           for w in range(args.workers)]
                for thread in threads:
                    thread.start()
                time.sleep(args.seconds)
                server.kill()
                stop.set()
                for thread in threads:
                    thread.join(60)
                server.start()
                status, body = call(server.addr, "POST", "/jwt/token", {"email": "admin@example.com", "password": PASSWORD})
                admin = body["jwt"]
                figures, found = check(server.addr, admin, users, ledger, os.path.join(work, "mail"), database)
                problems += [f"round {round_}: {p}" for p in found]
                print(f"| {round_} | {figures['signups']} ({figures['mails']}) | {figures['passwords']} | {figures['keys']} "
                      f"| {figures['logouts']} | {figures['logins']} → {figures['logins_audited']} | {len(found)} "
                      f"| {figures['integrity']} |", flush=True)
            server.kill()
            if "panicked" in server.logs():
                problems.append("the server panicked")
        finally:
            database.drop()
    verdict(problems, "LOST")


if __name__ == "__main__":
    main()
