"""Issue 21 item 5: a malformed OBOOK_*_URL / OBOOK_*_REST_URL is a usage error
(exit 2) naming the variable, found before any connection, for every
registered venue and every endpoint variable it reads."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from orderbook_cli.errors import UsageError
from orderbook_cli.venues import load_all
from tests.conftest import assert_clean_failure
from tests.servers.faults import SilentTcp

VENUES = load_all()
# (venue id, variable, its default) for every endpoint every registered venue reads
ENDPOINTS = [(venue.info.id, variable, default) for venue in VENUES
             for variable, default in ((venue.info.url_env, venue.info.default_url), (venue.info.rest_env, venue.info.rest_url)) if variable]


def other_scheme(default: str) -> str:
    return "http" if urlsplit(default).scheme in ("ws", "wss") else "ws"


def malformed(default: str, port: int = 9) -> list[str]:
    scheme = "ws" if urlsplit(default).scheme in ("ws", "wss") else "http"
    return [
        f"{other_scheme(default)}://127.0.0.1:{port}",  # http:// for a WebSocket venue, ws:// for an origin
        f"{scheme}://127.0.0.1:{port}\n", f" {scheme}://127.0.0.1:{port}", f"{scheme}://127.0.0.1 :{port}",
        f"127.0.0.1:{port}", f"//127.0.0.1:{port}", "localhost",
        f"{scheme}://127.0.0.1:99999", f"{scheme}://127.0.0.1:abc", f"{scheme}://127.0.0.1:0", f"{scheme}://127.0.0.1:-1",
        f"{scheme}://127.0.0.1:", f"{scheme}://[::1", f"{scheme}://[zz::1]:{port}", f"{scheme}://", f"{scheme}:///path",
        f"{scheme}://user:secret@127.0.0.1:{port}", f"{scheme}://127.0.0.1:{port}#x", f"{scheme}://bad..host",
        f"{scheme}://bücher.example", f"{scheme}://127.0.0.1:{port}/" + "a" * 3000, "ftp://127.0.0.1",
    ]


def test_every_registered_venue_declares_its_endpoints():
    assert {venue for venue, _, _ in ENDPOINTS} == {v.info.id for v in VENUES}
    assert any(variable.endswith("_REST_URL") for _, variable, _ in ENDPOINTS)


@pytest.mark.parametrize(("venue_id", "variable", "default"), ENDPOINTS, ids=[f"{v}-{var}" for v, var, _ in ENDPOINTS])
def test_malformed_endpoints_are_usage_errors_naming_the_variable(venue_id, variable, default):
    venue_class = type(next(v for v in VENUES if v.info.id == venue_id))
    for value in malformed(default):
        with pytest.raises(UsageError) as caught:
            venue_class({variable: value}).check_endpoints()
        assert caught.value.message.startswith(f"{variable}="), value
        assert "\n" not in caught.value.message and len(caught.value.message) < 300
        assert "secret" not in caught.value.message, caught.value.message  # a refused URL's password is still a password
    for good in (default, "", urlsplit(default).scheme + "://127.0.0.1:8080", urlsplit(default).scheme.upper() + "://[::1]:8080/"):
        venue_class({variable: good}).check_endpoints()


def test_an_origin_takes_no_query_but_a_websocket_url_may():
    ws, http = next(e for e in ENDPOINTS if e[2].startswith("ws")), next(e for e in ENDPOINTS if e[2].startswith("http"))
    for (venue_id, variable, _), ok in ((ws, True), (http, False)):
        venue = type(next(v for v in VENUES if v.info.id == venue_id))({variable: f"{urlsplit(_).scheme}://127.0.0.1:9/api?protocol=1.1"})
        if ok:
            venue.check_endpoints()
        else:
            with pytest.raises(UsageError):
                venue.check_endpoints()


@pytest.fixture
def listener():
    server = SilentTcp()
    yield server
    server.stop()


@pytest.mark.parametrize(("venue_id", "variable", "default"), ENDPOINTS, ids=[f"{v}-{var}" for v, var, _ in ENDPOINTS])
def test_snapshot_with_a_malformed_endpoint_is_exit_2_before_any_connection(obook, listener, venue_id, variable, default):
    venue = next(v for v in VENUES if v.info.id == venue_id)
    env = {venue.info.url_env: f"{urlsplit(venue.info.default_url).scheme.replace('wss', 'ws').replace('https', 'http')}://127.0.0.1:{listener.port}"}
    for value in (malformed(default, listener.port)[0], malformed(default, listener.port)[1]):
        run = obook("snapshot", venue_id, venue.info.example_symbol, "--timeout", "2", env={**env, variable: value})
        assert_clean_failure(run, 2, variable, "not usable")
        assert "bug" not in run.stderr
    time.sleep(0.1)
    assert listener.accepted == [], "no connection is made before the endpoints are checked"


def test_watch_trades_and_symbols_check_endpoints_too(obook):
    bitso = next(v for v in VENUES if v.info.id == "bitso")
    for args, variable, value in ((("watch", "bitso", "btc_mxn", "--json"), "OBOOK_BITSO_URL", "http://127.0.0.1:9"),
                                  (("trades", "bitso", "btc_mxn"), "OBOOK_BITSO_URL", "ws://127.0.0.1:99999"),
                                  (("symbols", "bitso", "--refresh"), bitso.info.rest_env, "ws://127.0.0.1:9\n")):
        assert_clean_failure(obook(*args, "--timeout", "2", env={variable: value}), 2, variable)


def test_venues_listing_shows_a_malformed_endpoint_instead_of_failing(obook):
    run = obook("venues", "--json", env={"OBOOK_REVX_URL": "ws://127.0.0.1:9"})
    assert run.code == 0, run
    revx = next(row for row in run.json() if row["id"] == "revx")
    assert "OBOOK_REVX_URL" in revx["endpoint"] and "not usable" in revx["endpoint"]
    with_password = obook("venues", env={"OBOOK_REVX_URL": "http://user:SECRETPW@127.0.0.1:9/x@y"})
    assert with_password.code == 0 and "SECRETPW" not in with_password.stdout + with_password.stderr, with_password
    assert "[redacted]" in with_password.stdout, with_password
