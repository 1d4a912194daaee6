"""Issue 21 item 7: the API key and the request signatures never reach stderr,
whatever a venue echoes back in an error body, with or without --debug."""

from __future__ import annotations

import json
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.servers.http_venue import Reply

API_KEY = "Rx7/q9Zk2LmN4pQ8sT1vW3yB5dF6hJ0a" * 2  # 64 printable characters, a slash among them
BOOK_PATH = "/api/1.0/order-book/ETH-USD"


@pytest.fixture
def credentials(isolated_user_state):
    directory = isolated_user_state / ".config" / "revolut-x"
    directory.mkdir(parents=True)
    key = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (directory / "private.pem").write_bytes(key)
    (directory / "config.json").write_text(json.dumps({"api_key": API_KEY}))
    for name in ("private.pem", "config.json"):
        os.chmod(directory / name, 0o600)
    return directory


def echoing(status: int, shape: str):
    """A venue that answers `status` and quotes the request's key and signature back."""

    def handle(request):
        headers = {k.lower(): v for k, v in request.headers.items()}
        key, signature = headers["x-revx-api-key"], headers["x-revx-signature"]
        if shape == "message":
            body: bytes | dict = {"message": f"key {key} signature {signature} refused", "error_id": "e", "timestamp": 1}
        elif shape == "escaped":  # not a message field: the raw JSON text, slashes escaped, is what obook shows
            body = ('{"detail": "' + key.replace("/", "\\/") + " " + signature.replace("/", "\\/") + '"}').encode()
        else:  # plain text, the key straddling the 200 characters obook keeps of a body
            body = ("x" * 180 + key + " " + signature).encode()
        return Reply(status, body, headers={"Retry-After": "100"} if status == 429 else {})

    return handle


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 429, 500])
def test_an_echoed_api_key_or_signature_never_reaches_stderr(obook, http_venue, credentials, status, debug):
    shape = ("message", "escaped", "text")[status % 3]
    http_venue.route(BOOK_PATH, echoing(status, shape))
    run = obook("snapshot", "revx", "ETH-USD", "--timeout", "10", *(["--debug"] if debug else []), env={"OBOOK_REVX_URL": http_venue.url})
    assert run.code in (3, 4, 5, 6), run
    assert http_venue.requests, "the venue was asked"
    assert "[redacted]" in run.stderr, run
    signatures = [{k.lower(): v for k, v in r.headers.items()}["x-revx-signature"] for r in http_venue.requests]
    for secret in (API_KEY, *signatures):
        for part in (secret[:12], secret[-12:], secret[20:32]):  # not even a piece of one
            assert part not in run.stderr, (part, run)
            assert part.replace("/", "\\/") not in run.stderr, (part, run)
