"""Venue names as people type them: aliases, any case, a suggestion for a typo."""

from __future__ import annotations

from tests.conftest import assert_clean_failure
from tests.servers.http_venue import Reply, payload


def test_a_venue_typo_gets_a_suggestion(obook):
    assert_clean_failure(obook("snapshot", "bitsoo", "btc_mxn"), 2, "unknown venue 'bitsoo'", "did you mean bitso?")


def test_an_unknown_venue_far_from_any_name_lists_the_venues(obook):
    run = obook("snapshot", "kucoin-pro", "BTC-USDT")
    from orderbook_cli.venues import load_all

    names = sorted(venue.info.id for venue in load_all())  # every registered venue, built-in or plugin
    assert_clean_failure(run, 2, "choose one of: " + ", ".join(names))
    assert "did you mean" not in run.stderr


def test_revolut_and_revolutx_are_revx(obook, http_venue):
    http_venue.route("/api/1.0/public/order-book/ETH-USD", Reply(body=payload("revx_doc_public_v1.json")))
    for name in ("revolut", "RevolutX"):
        run = obook("snapshot", name, "ETH-USD", "--json", env={"OBOOK_REVX_URL": http_venue.url})
        assert run.code == 0, run
        assert run.json()["venue"] == "revx"
