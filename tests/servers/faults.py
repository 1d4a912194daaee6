"""Fault injection shared by every venue's tests.

Servers that misbehave below the venue protocol (a TCP peer that accepts
and never answers, a TLS server with an untrusted certificate) and the
per-venue "good frame" scripts that the WebSocket faults wrap.
"""

from __future__ import annotations

import datetime
import json
import socket
import ssl
import threading
import zlib
from pathlib import Path


class SilentTcp:
    """Accepts connections and never says a word (no HTTP, no WebSocket handshake, no TLS)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def self_signed_context(directory: Path) -> ssl.SSLContext:
    """A server TLS context with a certificate no client trusts."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


def _deflate(text: str) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(text.encode()) + packer.flush()


class WsVenueSpec:
    """How to be a well-behaved venue of one WebSocket protocol, so faults can be layered on."""

    def __init__(self, venue: str, env: str, symbol: str, ack, good, bad_types, missing_fields, feed_args=()):
        self.venue, self.env, self.symbol = venue, env, symbol
        self.ack, self.good, self.bad_types, self.missing_fields = ack, good, bad_types, missing_fields
        self.feed_args = tuple(feed_args)  # these frames are whole books: the venue's top feed where it also has a full one

    @property
    def target(self) -> tuple[str, ...]:
        """VENUE [--feed top] SYMBOL, as obook's arguments."""
        return (self.venue, *self.feed_args, self.symbol)


def _bitso_book(seq: int) -> str:
    return json.dumps({"type": "orders", "book": "btc_mxn", "sent": 1700000000000 + seq, "payload": {
        "bids": [{"o": "x", "r": str(7000 + seq), "a": "1", "v": "1", "t": 0, "d": 1}],
        "asks": [{"o": "y", "r": "8000", "a": "1", "v": "1", "t": 1, "d": 1}]}})


def _bitmart_book(seq: int) -> str:
    return json.dumps({"subscribe": "depth", "symbol": "BMX_ETH", "precision": 6, "data": {
        "buys": [{"amount": "1", "total": "1", "price": f"0.000{100 + seq}", "count": "1"}],
        "sells": [{"amount": "1", "total": "1", "price": "0.000999", "count": "1"}]}})


def _bitmart_v3_book(seq: int) -> bytes:
    return _deflate(json.dumps({"table": "spot/depth20", "data": [{
        "bids": [[str(30000 + seq), "1"]], "asks": [["40000", "1"]], "symbol": "BTC_USDT", "ms_t": 1700000000000}]}))


WS_VENUES = [
    WsVenueSpec(
        "bitso", "OBOOK_BITSO_URL", "btc_mxn", feed_args=("--feed", "top"),
        ack=lambda sub: json.dumps({"action": "subscribe", "response": "ok", "time": 1, "type": "orders", "book": sub.get("book")}),
        good=_bitso_book,
        bad_types=json.dumps({"type": "orders", "book": "btc_mxn", "payload": {"bids": [{"r": ["7000"], "a": {"x": 1}}], "asks": []}}),
        missing_fields=json.dumps({"type": "orders", "book": "btc_mxn", "payload": {"bids": [{"o": "x"}]}}),
    ),
    WsVenueSpec(
        "bitmart", "OBOOK_BITMART_URL", "BMX_ETH",
        ack=lambda sub: None,
        good=_bitmart_book,
        bad_types=json.dumps({"subscribe": "depth", "symbol": "BMX_ETH", "data": {"buys": [{"price": True, "amount": None}], "sells": []}}),
        missing_fields=json.dumps({"subscribe": "depth", "symbol": "BMX_ETH", "data": {"buys": []}}),
    ),
    WsVenueSpec(
        "bitmart-v3", "OBOOK_BITMART_V3_URL", "BTC_USDT", feed_args=("--feed", "top"),
        ack=lambda sub: json.dumps({"event": "subscribe", "topic": sub.get("args", [""])[0]}),
        good=_bitmart_v3_book,
        bad_types=_deflate(json.dumps({"table": "spot/depth20", "data": [{"bids": [[1.5, "x"]], "asks": "no", "symbol": "BTC_USDT"}]})),
        missing_fields=json.dumps({"table": "spot/depth20", "data": [{"symbol": "BTC_USDT", "asks": []}]}),
    ),
]

