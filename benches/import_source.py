#!/usr/bin/env python3
"""Builds a synthetic authify-api SQLite database for timing `authify import authify-api`.

    python3 benches/import_source.py /tmp/authify-api.db [USERS]   (default 100000)

The schema is tests/fixtures/authify-api/schema.sqlite.sql (authify-api's migrations on SQLite).
Per user: a password digest in authify-api's format (hex(SHA-512(password + salt)) + salt), one
organization membership, one group membership and one API key; every 100th user has a duplicate
membership row (folded by the import), every 10th an identity. 100 organizations with 2 groups
each, 10 trusted delegates. Only the standard library is needed.
"""
import hashlib
import os
import sqlite3
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = os.path.join(ROOT, "tests/fixtures/authify-api/schema.sqlite.sql")


def digest(secret: str, salt: str) -> str:
    return hashlib.sha512((secret + salt).encode()).hexdigest() + salt


def main() -> None:
    path = sys.argv[1]
    users = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    if os.path.exists(path):
        os.remove(path)
    db = sqlite3.connect(path)
    db.executescript(open(SCHEMA).read())
    t = "2017-07-12 10:33:20"
    orgs = 100
    db.executemany(
        "INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)",
        [(o, f"org-{o}", t, t) for o in range(1, orgs + 1)],
    )
    db.executemany(
        "INSERT INTO groups (id, organization_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
        [(g, (g - 1) // 2 + 1, f"group-{g}", t, t) for g in range(1, 2 * orgs + 1)],
    )
    rows, members, groups, keys, identities = [], [], [], [], []
    for u in range(1, users + 1):
        salt = f"{u:016d}"
        verified = None if u % 7 == 0 else 1
        rows.append((u, f"user{u}@example.com", digest(f"password-{u}", salt), f"User {u}", t, t, 0, verified, f"user{u}"))
        org = u % orgs + 1
        members.append((org, u, 1 if u % 50 == 0 else 0))
        if u % 100 == 0:
            members.append((org, u, 0))
        groups.append((2 * org - (u % 2), u))
        keys.append((u, u, f"{u:020x}", digest(f"{u:064x}", salt), t, t))
        if u % 10 == 0:
            identities.append((u, "github", str(u), t, t))
    db.executemany(
        "INSERT INTO users (id, email, password_digest, full_name, created_at, updated_at, admin, verified, handle) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    db.executemany("INSERT INTO organization_memberships (organization_id, user_id, admin) VALUES (?, ?, ?)", members)
    db.executemany("INSERT INTO groups_users (group_id, user_id) VALUES (?, ?)", groups)
    db.executemany(
        "INSERT INTO apikeys (id, user_id, access_key, secret_key_digest, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        keys,
    )
    db.executemany("INSERT INTO identities (user_id, provider, uid, created_at, updated_at) VALUES (?, ?, ?, ?, ?)", identities)
    db.executemany(
        "INSERT INTO trusted_delegates (id, name, access_key, secret_key_digest, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(d, f"delegate-{d}", f"{d:048x}", digest(f"{d:096x}", f"{d:016d}"), t, t) for d in range(1, 11)],
    )
    db.commit()
    print(f"{path}: {users} users, {len(members)} membership rows, {len(groups)} group members, "
          f"{len(keys)} API keys, {len(identities)} identities, 10 delegates")


if __name__ == "__main__":
    main()
