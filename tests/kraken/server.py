"""A loopback Kraken WebSocket v2 venue: the `book` channel with real CRC32 checksums.

The venue keeps its book as the text it puts on the wire (prices and
quantities are JSON numbers written with their full precision, trailing
zeros included), truncates it to the subscribed depth after every message
as Kraken does, and computes each message's checksum from that text,
independently of obook: top ten asks (lowest first) then top ten bids
(highest first), each price and quantity without its dot and leading zeros.
"""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from pathlib import Path

from websockets.exceptions import ConnectionClosed

PAYLOADS = Path(__file__).parent / "payloads"
STATUS = '{"channel":"status","type":"update","data":[{"version":"2.0.0","system":"online","api_version":"v2","connection_id":8628615390848610000}]}'
HEARTBEAT = '{"channel":"heartbeat"}'


def payload(name: str) -> str:
    return (PAYLOADS / name).read_text().strip()


def kraken_crc(text_levels: list[tuple[str, str]]) -> str:
    return "".join(price.replace(".", "").lstrip("0") + qty.replace(".", "").lstrip("0") for price, qty in text_levels)


class KrakenBook:
    """One symbol's book on the venue's side, as wire text."""

    def __init__(self, symbol: str, depth: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]):
        self.symbol, self.depth = symbol, depth
        self.bids: dict[str, str] = {}
        self.asks: dict[str, str] = {}
        self._apply(bids, asks)

    def _side(self, is_bid: bool) -> list[tuple[str, str]]:
        levels = self.bids if is_bid else self.asks
        return sorted(levels.items(), key=lambda item: Decimal(item[0]), reverse=is_bid)

    def _apply(self, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        for levels, changes in ((self.bids, bids), (self.asks, asks)):
            for price, qty in changes:
                if Decimal(qty) == 0:
                    levels.pop(price, None)
                else:
                    levels[price] = qty
        for is_bid, levels in ((True, self.bids), (False, self.asks)):  # Kraken drops what falls out of the depth, silently
            kept = dict(self._side(is_bid)[: self.depth])
            levels.clear()
            levels.update(kept)

    def checksum(self) -> int:
        text = kraken_crc(self._side(False)[:10]) + kraken_crc(self._side(True)[:10])
        return zlib.crc32(text.encode())

    @staticmethod
    def _levels(levels: list[tuple[str, str]]) -> str:
        return "[" + ",".join(f'{{"price":{price},"qty":{qty}}}' for price, qty in levels) + "]"

    def snapshot(self, checksum: int | None = None) -> str:
        return self._frame("snapshot", self._side(True), self._side(False), checksum, None)

    def update(self, bids=(), asks=(), checksum: int | None = None, timestamp: str = "2026-12-05T10:00:00.000001Z") -> str:
        """Apply a change on the venue's side and the frame that tells it (with the true checksum unless given)."""
        self._apply(list(bids), list(asks))
        return self._frame("update", list(bids), list(asks), checksum, timestamp)

    def _frame(self, kind: str, bids, asks, checksum: int | None, timestamp: str | None) -> str:
        entry = (f'{{"symbol":"{self.symbol}","bids":{self._levels(bids)},"asks":{self._levels(asks)},'
                 f'"checksum":{self.checksum() if checksum is None else checksum}')
        entry += f',"timestamp":"{timestamp}"}}' if timestamp else "}"
        return f'{{"channel":"book","type":"{kind}","data":[{entry}]}}'


def ack(method: str, symbol: str, depth: int) -> str:
    result = {"channel": "book", "depth": depth, "symbol": symbol}
    if method == "subscribe":
        result["snapshot"] = True
    return json.dumps({"method": method, "result": result, "success": True,
                       "time_in": "2026-12-05T10:00:00.000001Z", "time_out": "2026-12-05T10:00:00.000040Z"})


def subscribe(peer, *, status: bool = True) -> dict:
    """The venue's side of connecting: status, then the client's subscribe and its ack."""
    if status:
        peer.send(STATUS)
    request = peer.expect_json()
    assert request["method"] == "subscribe", request
    params = request["params"]
    assert params["channel"] == "book" and len(params["symbol"]) == 1, request
    peer.send(ack("subscribe", params["symbol"][0], params["depth"]))
    return params


def answer(peer, book_for, *, seconds: float = 30) -> None:
    """Serve the client until it leaves: pong its pings, ack its unsubscribes, and answer each
    subscribe with a fresh snapshot from ``book_for(params)`` (a resync, or a new depth)."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            message = json.loads(peer.recv(timeout=max(0.01, deadline - time.monotonic())))
        except (TimeoutError, ConnectionClosed):
            return
        method = message.get("method")
        if method == "ping":
            peer.send(json.dumps({"method": "pong", "req_id": message.get("req_id"), "time_in": "2026-12-05T10:00:01.000001Z",
                                  "time_out": "2026-12-05T10:00:01.000040Z"}))
        elif method in ("subscribe", "unsubscribe"):
            params = message["params"]
            peer.send(ack(method, params["symbol"][0], params["depth"]))
            if method == "subscribe":
                peer.send(book_for(params).snapshot())
