#!/usr/bin/env python3
"""Regenerates link/symbol-order.txt: the functions a release build runs while it starts and serves.

build.rs hands the file to the linker (lld's --symbol-ordering-file) for release builds, so those
functions sit together at the start of .text instead of scattered over 16 MB of code. The kernel maps
code in 64 KiB fault-around windows, so scattered code costs RSS far beyond what runs: 15.6 MB of the
binary was resident at idle before, 7.2 MB after (docs/benchmarks.md, "Memory").

How: each algorithm's service runs under valgrind's callgrind (instruction counts, not timing) while
this script drives the common routes; every function of the binary that ran is listed: those
start-up ran first, then those serving added, the most executed first in each group. Symbol names carry the compiler's and the dependencies' hashes: regenerate after a
toolchain or Cargo.lock change (a stale file only loses the effect; the build never fails on it).

Usage: python3 link/symbol_order.py   (builds the release binary; needs valgrind; ~1 minute per run)
"""

import collections
import glob
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "authify")
OUT = os.path.join(ROOT, "link", "symbol-order.txt")
PASSWORD = "a long enough password"


def call(base, method, path, body=None, headers=None, raw=None):
    """One request; returns (status, parsed JSON or None, response headers). Never raises on 4xx/5xx."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    if data is not None and not request.has_header("Content-type"):
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            status, text, got = response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        status, text, got = error.code, error.read(), error.headers
    try:
        return status, json.loads(text) if text else None, got
    except ValueError:
        return status, None, got


def drive(base):
    """The routes a deployment serves every day, each once, with the usual failures among them."""
    for path in ["/health", "/health/ready", "/jwt/key", "/jwt/meta", "/.well-known/jwks.json",
                 "/.well-known/openid-configuration"]:
        call(base, "GET", path)
    login = {"email": "admin@example.com", "password": PASSWORD}
    _, token, _ = call(base, "POST", "/jwt/token", login)
    jwt, refresh = token["jwt"], token["refresh_token"]
    bearer = {"Authorization": "Bearer " + jwt}
    call(base, "GET", "/jwt/verify?token=" + jwt)
    call(base, "POST", "/jwt/verify", {"token": jwt})
    call(base, "POST", "/jwt/verify", {"token": "not.a.token"})
    call(base, "POST", "/jwt/token", {"email": "admin@example.com", "password": "wrong password"})
    call(base, "POST", "/jwt/token", raw=b"{not json")
    call(base, "POST", "/jwt/refresh", {"refresh_token": refresh})
    jsonapi = dict(bearer, **{"Content-Type": "application/vnd.api+json", "Accept": "application/vnd.api+json"})
    call(base, "GET", "/me", headers=jsonapi)
    call(base, "GET", "/users", headers=jsonapi)
    call(base, "GET", "/organizations", headers=jsonapi)
    _, created, _ = call(base, "POST", "/apikeys", {"data": {"type": "apikeys"}}, headers=jsonapi)
    attributes = created["data"]["attributes"]
    call(base, "POST", "/jwt/token", {"access_key": attributes["access-key"], "secret_key": attributes["secret-key"]})
    call(base, "POST", "/registration/signup", {"email": "new@example.com", "password": PASSWORD})
    call(base, "POST", "/registration/forgot_password", {"email": "admin@example.com"})
    _, _, got = call(base, "POST", "/session", login)
    cookie = {"Cookie": (got.get("Set-Cookie") or "").split(";")[0]}
    call(base, "GET", "/me", headers=dict(cookie, Accept="application/vnd.api+json"))
    call(base, "DELETE", "/session", headers=cookie)
    call(base, "POST", "/jwt/revoke", headers=bearer)
    time.sleep(3)  # the outbox sends the two mails; the hashing threads go idle


def profile(algorithm, work):
    """Runs one service under callgrind through `drive`; returns callgrind's files for start-up and serving."""
    home = os.path.join(work, algorithm)
    os.makedirs(home)
    env = dict(os.environ, AUTHIFY_JWT_ALGORITHM=algorithm, AUTHIFY_LISTEN="127.0.0.1:0", RUST_LOG="info",
               AUTHIFY_PASSWORD_HASH_WAIT_MS="0", AUTHIFY_RATE_LIMIT_PER_IP="0",
               AUTHIFY_RATE_LIMIT_PER_ACCOUNT="0", AUTHIFY_LOCKOUT_THRESHOLD="0")
    subprocess.run([BIN, "user", "create", "admin@example.com", "--admin"], cwd=home, env=env, check=True,
                   input=PASSWORD + "\n", text=True, capture_output=True)
    out = os.path.join(work, algorithm + ".callgrind")
    with open(os.path.join(home, "server.log"), "w+") as log:
        serve_under_callgrind(algorithm, home, env, out, log)
    started, = glob.glob(out + ".*")  # the dump at idle; `out` holds what serving added
    return started, out


def serve_under_callgrind(algorithm, home, env, out, log):
    """Starts `authify serve` under callgrind, dumps its counts once it idles, then drives it and stops it."""
    server = subprocess.Popen(["valgrind", "--tool=callgrind", "--demangle=no", "--callgrind-out-file=" + out,
                              "--log-file=" + os.path.join(home, "valgrind.log"), BIN, "serve"],
                              cwd=home, env=env, stderr=log)
    try:
        for _ in range(1200):
            log.seek(0)
            found = re.search(r"authify is listening addr=([0-9.:]+)", log.read())
            if found:
                break
            time.sleep(0.1)
        else:
            sys.exit(f"{algorithm}: the service did not start under valgrind (see {home}/server.log)")
        time.sleep(3)  # the start-up dummy hash and its memory's linger: what an idle service has run
        subprocess.run(["callgrind_control", "--dump=started", str(server.pid)], check=True, capture_output=True)
        drive("http://" + found.group(1))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=300)


def self_costs(path):
    """Instructions executed in each function itself (callgrind's compressed `fn=(id) name` format)."""
    names, costs, current, skip = {}, collections.Counter(), None, False
    for line in open(path, errors="replace"):
        found = re.match(r"^(c?fn)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
        if found:
            if found.group(3):
                names[found.group(2)] = found.group(3)  # fn and cfn share one name table
            if found.group(1) == "fn":
                current = names[found.group(2)]
                costs[current] += 0
            continue
        if line.startswith("calls="):
            skip = True  # the next cost line is the call's inclusive cost, not this function's
            continue
        if current and line[:1] in "0123456789+-*":
            if not skip:
                costs[current] += int(line.split()[-1])
            skip = False
    return costs


def main():
    subprocess.run(["cargo", "build", "--release", "--manifest-path", os.path.join(ROOT, "Cargo.toml")], check=True)
    symbols = set()
    for line in subprocess.run(["nm", BIN], check=True, capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            symbols.add(parts[2])
    started, serving = collections.Counter(), collections.Counter()
    with tempfile.TemporaryDirectory() as work:
        for algorithm in ["ES512", "ES256", "ES384"]:
            at_start, after = profile(algorithm, work)
            started.update(self_costs(at_start))
            serving.update(self_costs(after))
    # What every running service has touched first, then what serving adds; the busiest first in each.
    ordered = sorted((name for name in started if name in symbols), key=lambda name: (-started[name], name))
    ordered += sorted((name for name in serving if name in symbols and name not in started),
                      key=lambda name: (-serving[name], name))
    with open(OUT, "w") as out:
        out.write("\n".join(ordered) + "\n")
    print(f"{len(ordered)} functions written to {OUT}")


if __name__ == "__main__":
    main()
