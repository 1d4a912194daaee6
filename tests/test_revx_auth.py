"""Revolut X authenticated book: signatures verified by an independent Ed25519
implementation (cryptography) in the loopback server."""

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.conftest import assert_clean_failure
from tests.servers.http_venue import Reply, payload

API_KEY = "k" * 64
BOOK_PATH = "/api/1.0/order-book/ETH-USD"


def pem(private_key) -> bytes:
    return private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@pytest.fixture
def keypair():
    key = Ed25519PrivateKey.generate()
    return key, key.public_key()


@pytest.fixture
def config_dir(isolated_user_state, keypair):
    """The official layout: config.json + private.pem, both 0600."""
    directory = isolated_user_state / ".config" / "revolut-x"
    directory.mkdir(parents=True)
    (directory / "private.pem").write_bytes(pem(keypair[0]))
    (directory / "config.json").write_text(json.dumps({"api_key": API_KEY}))
    for name in ("private.pem", "config.json"):
        os.chmod(directory / name, 0o600)
    return directory


def verifying(public_key, reply_factory, log):
    """A handler that answers 401 unless the request carries a valid signature."""

    def handle(request):
        headers = {k.lower(): v for k, v in request.headers.items()}
        message = f"{headers.get('x-revx-timestamp', '')}GET{request.path}{request.query}".encode()
        try:
            public_key.verify(base64.b64decode(headers.get("x-revx-signature", "")), message)
        except (InvalidSignature, ValueError):
            log.append(("rejected", request))
            return Reply(401, {"message": "Unauthorized", "error_id": "e", "timestamp": 1})
        if headers.get("x-revx-api-key") != API_KEY:
            log.append(("bad key", request))
            return Reply(401, {"message": "Unauthorized", "error_id": "e", "timestamp": 1})
        log.append(("ok", request))
        return reply_factory()

    return handle


@pytest.fixture
def env(http_venue):
    return {"OBOOK_REVX_URL": http_venue.url}


def test_signed_request_with_limit_prints_authenticated_book(obook, http_venue, env, config_dir, keypair):
    log = []
    http_venue.route(BOOK_PATH, verifying(keypair[1], lambda: Reply(body=payload("revx_doc_authenticated.json")), log))
    run = obook("snapshot", "revx", "ETH-USD", "--json", "--depth", "20", env=env)
    assert run.code == 0, run
    assert [status for status, _ in log] == ["ok"]
    assert http_venue.paths() == [BOOK_PATH + "?limit=20"]
    book = run.json()
    assert [a["price"] for a in book["asks"]] == ["4005.00", "4010.00"]
    assert book["bids"][1] == {"price": "3995.00", "amount": "4.4200", "total": "4.6700", "count": 5}
    assert book["timestamp"] == "2026-07-29T08:23:53.816Z"


def test_recorded_compact_schema_resorted(obook, http_venue, env, config_dir, keypair):
    log = []
    http_venue.route(BOOK_PATH, verifying(keypair[1], lambda: Reply(body=payload("revolutx_2.json")), log))
    book = obook("snapshot", "revx", "eth/usd", "--json", env=env).json()
    assert [a["price"] for a in book["asks"]] == ["2290.00", "2299.56"]
    assert book["asks"][1]["total"] == "2.43801954"
    assert [b["price"] for b in book["bids"]] == ["2282.65", "2282.50"]


def test_default_depth_with_credentials_is_20(obook, http_venue, env, config_dir, keypair):
    log = []
    http_venue.route(BOOK_PATH, verifying(keypair[1], lambda: Reply(body=payload("revx_doc_authenticated.json")), log))
    assert obook("snapshot", "revx", "ETH-USD", "--json", env=env).code == 0
    assert http_venue.paths() == [BOOK_PATH + "?limit=20"]


def test_env_overrides_config(obook, http_venue, env, isolated_user_state, keypair, tmp_path):
    key_file = tmp_path / "elsewhere.pem"
    key_file.write_bytes(pem(keypair[0]))
    key_file.chmod(0o600)
    log = []
    http_venue.route(BOOK_PATH, verifying(keypair[1], lambda: Reply(body=payload("revx_doc_authenticated.json")), log))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env={**env, "REVOLUTX_API_KEY": API_KEY, "REVOLUTX_PRIVATE_KEY_PATH": str(key_file)})
    assert run.code == 0, run
    assert [s for s, _ in log] == ["ok"]


def test_retries_are_resigned_with_fresh_timestamps(obook, http_venue, env, config_dir, keypair):
    log = []
    replies = iter([Reply(503, {"message": "busy"}), Reply(body=payload("revx_doc_authenticated.json"))])
    http_venue.route(BOOK_PATH, verifying(keypair[1], lambda: next(replies), log))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env=env)
    assert run.code == 0, run
    assert [s for s, _ in log] == ["ok", "ok"]
    stamps = [r.headers["X-Revx-Timestamp"] for _, r in log]
    assert stamps[0] != stamps[1]


@pytest.mark.parametrize("name", ["private.pem", "config.json"])
def test_world_readable_files_are_refused_with_chmod_fix(obook, http_venue, env, config_dir, name):
    (config_dir / name).chmod(0o644)
    run = obook("snapshot", "revx", "ETH-USD", env=env)
    assert_clean_failure(run, 6, f"chmod 600 {config_dir / name}")
    assert http_venue.requests == []


def test_wrong_key_rejected_by_server_exits_6(obook, http_venue, env, config_dir):
    other = Ed25519PrivateKey.generate().public_key()
    http_venue.route(BOOK_PATH, verifying(other, lambda: Reply(body=payload("revx_doc_authenticated.json")), []))
    run = obook("snapshot", "revx", "ETH-USD", env=env)
    assert_clean_failure(run, 6, "401", "allow-listed")


def test_403_exits_6(obook, http_venue, env, config_dir):
    http_venue.route(BOOK_PATH, Reply(403, {"message": "Forbidden", "error_id": "e", "timestamp": 1}))
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", env=env), 6, "403")


def test_clock_skew_409_says_by_how_much(obook, http_venue, env, config_dir):
    server_time = datetime.now(UTC) - timedelta(seconds=90)
    http_venue.route(BOOK_PATH, Reply(409, {"message": "Request timestamp is in the future", "error_id": "e", "timestamp": 1},
                                      headers={"Date": format_datetime(server_time, usegmt=True)}))
    run = obook("snapshot", "revx", "ETH-USD", env=env)
    assert_clean_failure(run, 6, "clock", "ahead", "timestamp is in the future")
    assert any(f"{s}s ahead" in run.stderr for s in range(88, 93)), run.stderr


def test_clock_skew_409_without_a_skew_to_tell_gives_no_figure(obook, http_venue, env, config_dir):
    """The server's Date agrees with ours (to its one-second steps): no "0s ahead", which contradicts the refusal."""
    http_venue.route(BOOK_PATH, Reply(409, {"message": "Request timestamp is in the future", "error_id": "e", "timestamp": 1},
                                      headers={"Date": format_datetime(datetime.now(UTC), usegmt=True)}))
    run = obook("snapshot", "revx", "ETH-USD", env=env)
    assert_clean_failure(run, 6, "timestamp is in the future", "sync the local clock")
    assert "0s ahead" not in run.stderr and "s behind" not in run.stderr and "s ahead" not in run.stderr


def test_429_waits_retry_after_milliseconds_then_succeeds(obook, http_venue, env, config_dir):
    http_venue.route(BOOK_PATH, Reply(429, {"message": "Rate Limit Exceeded"}, headers={"Retry-After": "1500"}),
                     Reply(body=payload("revx_doc_authenticated.json")))
    run = obook("snapshot", "revx", "ETH-USD", "--json", env=env)
    assert run.code == 0, run
    first, second = http_venue.requests
    assert 1.4 <= second.at - first.at < 3.0


def test_watch_survives_429_and_slows_down(obook, http_venue, env, config_dir):
    http_venue.route(BOOK_PATH, Reply(body=payload("revx_doc_authenticated.json")),
                     Reply(429, {"message": "Rate Limit Exceeded"}, headers={"Retry-After": "700"}),
                     Reply(body=payload("revx_doc_authenticated.json")))
    run = obook("watch", "revx", "ETH-USD", "--json", "--count", "3", env=env)
    assert run.code == 0, run
    assert len(run.lines()) == 3
    times = [r.at for r in http_venue.requests]
    assert times[2] - times[1] >= 0.65  # waited Retry-After
    assert times[3] - times[2] >= 0.45  # polling slowed down after the 429 (0.25s -> 0.5s)


def test_depth_out_of_range_is_usage_error(obook, config_dir):
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", "--depth", "51"), 2, "1..50")


@pytest.mark.parametrize("content, needle", [
    (b"not a pem at all", "not a PEM"),
    (b"-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", "bad base64"),
    (b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", "decrypt"),
    (pem(generate_private_key(SECP256R1())), "not an Ed25519"),
])
def test_bad_key_files_explained(obook, env, config_dir, content, needle):
    (config_dir / "private.pem").write_bytes(content)
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", env=env), 6, needle)


def test_missing_key_file_and_missing_api_key(obook, env, config_dir):
    (config_dir / "private.pem").unlink()
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", env=env), 6, "does not exist")
    (config_dir / "config.json").write_text("{}")
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", env=env), 6, "no Revolut X API key")


def test_debug_output_has_no_key_material(obook, http_venue, env, config_dir, keypair):
    log = []
    http_venue.route(BOOK_PATH, verifying(keypair[1], lambda: Reply(body=payload("revx_doc_authenticated.json")), log))
    run = obook("snapshot", "revx", "ETH-USD", "--json", "--debug", env=env)
    assert run.code == 0, run
    signature = log[0][1].headers["X-Revx-Signature"]
    pem_body = (config_dir / "private.pem").read_text().splitlines()[1]
    everything = run.stdout + run.stderr
    assert "HTTP GET" in run.stderr and "[redacted]" in run.stderr
    for secret in (API_KEY, signature, pem_body):
        assert secret not in everything


def test_venues_shows_where_credentials_come_from_never_the_key(obook, config_dir):
    run = obook("venues", "--json")
    revx = next(v for v in run.json() if v["id"] == "revx")
    assert str(config_dir / "config.json") in revx["credentials"]
    assert API_KEY not in run.stdout
    public = obook("venues", "--json", env={"REVOLUTX_CONFIG_DIR": str(config_dir / "nowhere")})
    assert "none found" in next(v for v in public.json() if v["id"] == "revx")["credentials"]


def test_venues_calls_credentials_without_their_key_file_unusable(obook, config_dir):
    (config_dir / "private.pem").unlink()
    revx = next(v for v in obook("venues", "--json").json() if v["id"] == "revx")
    assert revx["credentials_state"] == "unusable" and "does not exist" in revx["credentials"]
    assert not revx["credentials"].startswith("credentials")  # the value does not repeat the field's name
    (config_dir / "config.json").write_text(json.dumps({"api_key": API_KEY, "private_key_path": str(config_dir / "gone.pem")}))
    revx = next(v for v in obook("venues", "--json").json() if v["id"] == "revx")
    assert revx["credentials_state"] == "unusable" and "gone.pem" in revx["credentials"]


def test_broken_credentials_say_how_to_get_the_public_book(obook, http_venue, env, config_dir):
    (config_dir / "private.pem").unlink()
    http_venue.route("/api/1.0/public/order-book/ETH-USD", lambda request: Reply(body=payload("revx_doc_public_v1.json")))
    assert_clean_failure(obook("snapshot", "revx", "ETH-USD", "--json", env=env), 6, "does not exist", "--public")
    assert obook("snapshot", "revx", "ETH-USD", "--json", "--public", env=env).code == 0
