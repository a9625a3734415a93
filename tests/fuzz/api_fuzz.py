#!/usr/bin/env python3
"""The schema fuzzer over the whole API (issue 23 §1; figures in docs/reliability.md).

Starts the given authify binary on a fresh SQLite database in a temporary directory (rate limits
off, so every generated request is judged rather than turned away), makes an admin, a user and a
trusted delegate, then runs schemathesis over the OpenAPI document the server serves, once per
caller: the admin's Bearer token, the user's, the delegate's X-Authify-Access/-Secret headers (one
after the other), and nobody (at the same time as those). Every operation, every phase schemathesis
has (examples, coverage, fuzzing, stateful), the checks named in CHECKS plus `jsonapi_document`
from tests/fuzz/hooks.py (responses valid against the official JSON:API schema).

Fails (exit 1) when any check failed, when the server logged a panic or died, or when fewer than
--min-cases cases were generated in all.

Usage: tests/fuzz/api_fuzz.py BINARY [--cases-per-operation N] [--min-cases N] [--seed N]
       (needs schemathesis 4 and jsonschema on the Python path; .ci/run installs them in a venv)
"""
import argparse
import concurrent.futures
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PASSWORD = "a long enough password"
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "response_headers_conformance", "jsonapi_document"]
# Operations that end the caller's own session: run only by nobody, so that a revoked token does
# not turn the rest of an authenticated pass into 401s.
SELF_ENDING = ["POST /jwt/revoke", "DELETE /session"]


def start(binary, work):
    env = dict(os.environ, AUTHIFY_LISTEN="127.0.0.1:0", RUST_LOG="warn,authify=info",
               AUTHIFY_RATE_LIMIT_PER_IP="0", AUTHIFY_RATE_LIMIT_PER_ACCOUNT="0",
               AUTHIFY_LOCKOUT_THRESHOLD="0", AUTHIFY_MAIL_LIMIT_PER_RECIPIENT="0",
               AUTHIFY_MAIL_LIMIT_PER_IP="0", AUTHIFY_MAIL_LIMIT_PER_USER="0",
               AUTHIFY_PASSWORD_HASH_WAIT_MS="0", AUTHIFY_COOKIE_SECURE="false")
    for email, admin in (("admin@example.com", True), ("user@example.com", False)):
        subprocess.run([binary, "user", "create", email] + (["--admin"] if admin else []), cwd=work, env=env,
                       input=PASSWORD + "\n", text=True, check=True, capture_output=True)
    delegate = json.loads(subprocess.run([binary, "delegate", "add", "fuzzer", "--json"], cwd=work, env=env,
                                         text=True, check=True, capture_output=True).stdout)
    log_path = os.path.join(work, "server.log")
    log = open(log_path, "w")
    server = subprocess.Popen([binary, "serve"], cwd=work, env=env, stderr=log, stdout=log)
    for _ in range(400):
        text = open(log_path).read()
        if "listening addr=" in text:
            return server, text.split("listening addr=")[1].split()[0], delegate, log_path
        if server.poll() is not None:
            break
        time.sleep(0.05)
    server.kill()
    sys.exit("the server did not start:\n" + open(log_path).read())


def login(addr, email):
    """The Bearer token and user id of `email`."""
    conn = http.client.HTTPConnection(addr)
    conn.request("POST", "/jwt/token", json.dumps({"email": email, "password": PASSWORD}),
                 {"Content-Type": "application/json"})
    response = conn.getresponse()
    body = json.loads(response.read())
    if response.status != 200:
        sys.exit(f"could not log in {email}: {response.status} {body}")
    conn.request("GET", "/me", headers={"Authorization": f"Bearer {body['jwt']}", "Accept": "application/vnd.api+json"})
    return body["jwt"], json.loads(conn.getresponse().read())["data"]["id"]


def fuzz(addr, name, caller_id, headers, excluded, args, reports):
    """Runs one schemathesis pass; returns (cases generated, failures found, its output)."""
    report_dir = os.path.join(reports, name)
    command = [args.schemathesis, "--config-file", os.path.join(HERE, "schemathesis.toml"), "run", f"http://{addr}/openapi.json", "--url", f"http://{addr}",
               "--checks", ",".join(CHECKS), "--max-examples", str(args.cases_per_operation),
               "--seed", str(args.seed), "--workers", "1", "--request-timeout", "10",
               "--continue-on-failure", "--suppress-health-check", "all", "--report", "junit",
               "--report-dir", report_dir, "--output-truncate", "true"]
    for header in headers:
        command += ["-H", header]
    for operation in excluded:
        command += ["--exclude-name", operation]
    env = dict(os.environ, SCHEMATHESIS_HOOKS="hooks", PYTHONPATH=HERE, AUTHIFY_FUZZ_CALLER=name if headers else "",
               AUTHIFY_FUZZ_CALLER_ID=caller_id or "")
    started = time.monotonic()
    run = subprocess.run(command, env=env, text=True, capture_output=True)
    output = run.stdout + run.stderr
    os.makedirs(report_dir, exist_ok=True)
    with open(os.path.join(report_dir, "output.txt"), "w") as saved:
        saved.write(output)
    cases = re.search(r"Test cases:\s*(\d+) generated", output)
    failures = re.search(r"(\d+) unique failures?", output)
    cases = int(cases.group(1)) if cases else 0
    failures = int(failures.group(1)) if failures else (0 if run.returncode == 0 else -1)
    print(f"| {name} | {cases} | {failures} | {time.monotonic() - started:.0f} s |", flush=True)
    return cases, failures, output


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binary")
    parser.add_argument("--cases-per-operation", type=int, default=10)
    parser.add_argument("--min-cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--schemathesis", default=shutil.which("schemathesis") or "schemathesis")
    parser.add_argument("--keep", help="copy the reports and the server log here")
    args = parser.parse_args()
    binary = os.path.realpath(args.binary)
    with tempfile.TemporaryDirectory() as work:
        server, addr, delegate, log_path = start(binary, work)
        reports = os.path.join(work, "reports")
        total, failed, outputs = 0, 0, []
        try:
            (admin_token, admin_id), (user_token, user_id) = login(addr, "admin@example.com"), login(addr, "user@example.com")
            callers = [
                ("admin (Bearer)", admin_id, [f"Authorization: Bearer {admin_token}"], SELF_ENDING),
                ("user (Bearer)", user_id, [f"Authorization: Bearer {user_token}"], SELF_ENDING),
                ("delegate (X-Authify-Access)", None,
                 [f"X-Authify-Access: {delegate['access']}", f"X-Authify-Secret: {delegate['secret']}"], []),
                ("nobody", None, [], []),
            ]
            print(f"# schemathesis over {addr}, seed {args.seed}, {args.cases_per_operation} examples per operation")
            print("| caller | cases generated | failures | time |\n|---|---|---|---|")
            # Two lanes at once, one core each, of about equal length: the admin's pass, then the
            # delegate's; beside them the user's, then nobody's. The admin's pass may disable the user
            # or the delegate whether it runs before their passes or beside them; nobody's can change
            # nothing the others hold. (The admin, the user and the delegate one after the other, with
            # nobody beside them, left a core idle for two of the fuzzer's three minutes.)
            def lane(callers):
                return [(name, fuzz(addr, name, caller_id, headers, excluded, args, reports))
                        for name, caller_id, headers, excluded in callers]

            with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
                lanes = [pool.submit(lane, [callers[0], callers[2]]), pool.submit(lane, [callers[1], callers[3]])]
                for name, (cases, failures, output) in [run for lane_runs in lanes for run in lane_runs.result()]:
                    total += cases
                    failed += failures if failures > 0 else (1 if failures < 0 else 0)
                    if failures:
                        outputs.append((name, output))
        finally:
            alive = server.poll() is None
            server.kill()
            server.wait()
            log = open(log_path).read()
            if args.keep:
                shutil.rmtree(args.keep, ignore_errors=True)
                shutil.copytree(reports, args.keep) if os.path.isdir(reports) else os.makedirs(args.keep)
                shutil.copy(log_path, args.keep)
        for name, output in outputs:
            print(f"\n## {name}\n{output[-20000:]}")
        print(f"\n{total} cases generated in all, {failed} failures")
        problems = []
        if failed:
            problems.append(f"{failed} failures")
        if total < args.min_cases:
            problems.append(f"only {total} cases, fewer than {args.min_cases}")
        if not alive:
            problems.append("the server died during the run")
        if "panicked" in log:
            problems.append("the server panicked: " + log[log.index("panicked") - 200:][:1500])
        if problems:
            sys.exit("FAILED: " + "; ".join(problems))


if __name__ == "__main__":
    main()
