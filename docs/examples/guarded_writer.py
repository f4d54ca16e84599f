#!/usr/bin/env python3
"""A guarded writer: appends a line to a ledger file only for a job that still holds its lease.

The ledger stands for any system a job writes to (a repository, a tracker, a deployment). It is
guarded the two ways docs/guardrails.md describes:

  offline  the token's Ed25519 signature is checked with the keys the coordinator publishes at
           /.well-known/gigafactory-lease-keys, its expiry is checked, and its epoch is compared
           with the highest epoch the ledger has already accepted for the job: a lower one is
           refused without asking anybody;
  online   LeaseService.Check (Connect JSON over HTTP) says whether the epoch is still the
           job's current lease, read from the coordinator's store, so a job that lost its lease
           (paused, partitioned) is refused even before its successor writes anything.

Usage: guarded_writer.py --coordinator http://host:port --ledger FILE [--api-key KEY] LINE
The token is read from $GIGAFACTORY_LEASE_TOKEN (set by the agent for every job attempt).
Prints one JSON line with the verdict; exit 0 written, 3 refused, 2 bad input or unreachable.
Needs python3 and the `cryptography` package; nothing else.
"""
import argparse
import base64
import fcntl
import json
import os
import sys
import time
import urllib.error
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

KEYS_PATH = "/.well-known/gigafactory-lease-keys"
CHECK_PATH = "/gigafactory.fleet.v1.LeaseService/Check"


class Refused(Exception):
    """The write is refused: the token is not (or no longer) good for it."""


def b64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def http_json(url, body=None, api_key=None):
    headers = {"content-type": "application/json"}
    if api_key:
        headers["authorization"] = "Bearer " + api_key
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers=headers, method="GET" if body is None else "POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as err:
        # Connect errors are JSON: {"code": "invalid_argument", "message": "..."}
        detail = err.read().decode(errors="replace")
        raise SystemExit(f"{url}: HTTP {err.code}: {detail[:300]}") from None


def verify_offline(token, coordinator):
    """The token's claims once its signature and expiry check out with the published keys."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != "gfl1":
        raise SystemExit('GIGAFACTORY_LEASE_TOKEN is not a lease token ("gfl1.<claims>.<signature>")')
    claims = json.loads(b64url(parts[1]))
    keys = {k["keyId"]: k["publicKey"] for k in http_json(coordinator + KEYS_PATH)["keys"]}
    if claims["k"] not in keys:
        raise Refused(f"signed with key {claims['k']}, which the coordinator does not publish")
    try:
        Ed25519PublicKey.from_public_bytes(b64url(keys[claims["k"]])).verify(b64url(parts[2]), (parts[0] + "." + parts[1]).encode())
    except InvalidSignature:
        raise Refused("the signature does not verify") from None
    if claims["x"] <= time.time():
        raise Refused("the token has expired")
    return claims


def check_online(token, coordinator, api_key):
    answer = http_json(coordinator + CHECK_PATH, {"token": token}, api_key)
    if not answer.get("current"):
        raise Refused(answer.get("reason") or "not the current lease")


def append_guarded(ledger, claims, line, online):
    """Under the ledger's lock: refuse an epoch below one already accepted, run the online check, append."""
    with open(ledger, "a+") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        seen = [json.loads(row) for row in f if row.strip()]
        highest = max((row["epoch"] for row in seen if row["job"] == claims["j"]), default=0)
        if claims["e"] < highest:
            raise Refused(f"epoch {claims['e']} is older than epoch {highest}, which already wrote for job {claims['j']}")
        online()
        f.write(json.dumps({"job": claims["j"], "epoch": claims["e"], "factory": claims["f"], "line": line}) + "\n")


def main():
    parser = argparse.ArgumentParser(description="Append LINE to a ledger, guarded by the job's lease token.")
    parser.add_argument("--coordinator", required=True, help="the coordinator's HTTP (gateway) address, e.g. http://127.0.0.1:8080")
    parser.add_argument("--ledger", required=True, help="the file standing for the guarded system")
    parser.add_argument("--api-key", default=os.environ.get("GIGAFACTORY_API_KEY"), help="a viewer key for Check (not needed in development mode)")
    parser.add_argument("line")
    args = parser.parse_args()
    token = os.environ.get("GIGAFACTORY_LEASE_TOKEN", "")
    if not token:
        raise SystemExit("GIGAFACTORY_LEASE_TOKEN is not set: run this inside a Gigafactory job")
    coordinator = args.coordinator.rstrip("/")
    try:
        claims = verify_offline(token, coordinator)
        append_guarded(args.ledger, claims, args.line, lambda: check_online(token, coordinator, args.api_key))
    except Refused as refused:
        print(json.dumps({"written": False, "reason": str(refused)}))
        return 3
    print(json.dumps({"written": True, "job": claims["j"], "epoch": claims["e"]}))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SystemExit as stop:
        if isinstance(stop.code, str):
            print(json.dumps({"written": False, "error": stop.code}))
            sys.exit(2)
        raise
