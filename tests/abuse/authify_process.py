"""What the abuse scripts share: the binary started on a free port, HTTP calls to it, the settings
that turn its limits off (so every request is judged rather than turned away), and the verdict."""
import collections
import http.client
import json
import os
import subprocess
import sys
import time

PASSWORD = "a long enough password"
LIMITS_OFF = dict(AUTHIFY_RATE_LIMIT_PER_IP="0", AUTHIFY_RATE_LIMIT_PER_ACCOUNT="0", AUTHIFY_LOCKOUT_THRESHOLD="0",
                  AUTHIFY_MAIL_LIMIT_PER_RECIPIENT="0", AUTHIFY_MAIL_LIMIT_PER_IP="0", AUTHIFY_MAIL_LIMIT_PER_USER="0",
                  AUTHIFY_PASSWORD_HASH_WAIT_MS="0")

Answer = collections.namedtuple("Answer", "status headers body seconds")


def environment(**settings):
    """The process environment with a free port, terse logs and `settings` (AUTHIFY_* strings)."""
    return dict(os.environ, AUTHIFY_LISTEN="127.0.0.1:0", RUST_LOG="warn,authify=info", **settings)


def start(binary, work, env, log_name="authify.log"):
    """Starts `binary serve` in `work`; returns (process, "host:port", log path) once it listens."""
    log_path = os.path.join(work, log_name)
    process = subprocess.Popen([binary, "serve"], cwd=work, env=env, stderr=open(log_path, "w"),
                               stdout=subprocess.DEVNULL)
    for _ in range(600):
        text = open(log_path).read()
        if "listening addr=" in text:
            return process, text.split("listening addr=")[1].split()[0], log_path
        if process.poll() is not None:
            break
        time.sleep(0.05)
    process.kill()
    sys.exit("authify did not start:\n" + open(log_path).read())


def request(addr, method, path, body=None, token=None, jsonapi=False, timeout=30):
    """One request on a new connection: an Answer (JSON body parsed when it is JSON). Raises
    OSError or HTTPException when the connection fails."""
    conn = http.client.HTTPConnection(addr, timeout=timeout)
    content_type = "application/vnd.api+json" if jsonapi else "application/json"
    headers = {"Content-Type": content_type, "Accept": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    try:
        conn.request(method, path, json.dumps(body) if body is not None else None, headers)
        response = conn.getresponse()
        raw = response.read().decode("utf-8", "replace")
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        return Answer(response.status, dict(response.getheaders()), parsed, time.monotonic() - started)
    finally:
        conn.close()


def call(addr, method, path, body=None, token=None, jsonapi=False, timeout=30):
    """As `request`, but a failed connection is an Answer with status 0 and the error as body."""
    started = time.monotonic()
    try:
        return request(addr, method, path, body, token, jsonapi, timeout)
    except (OSError, http.client.HTTPException) as err:
        return Answer(0, {}, str(err), time.monotonic() - started)


def verdict(problems, label):
    """Prints the problems (the first 40) and exits 1 when there are any."""
    for problem in problems[:40]:
        print(f"{label}:", problem)
    if problems:
        sys.exit(f"FAILED: {len(problems)} problems")
