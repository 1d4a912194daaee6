"""transport.ws.FrameReader over a real socket pair: frames split anywhere, reads that
time out mid-frame, fragments, control frames, masks and the size caps."""

import os
import socket
import struct
import threading

import pytest

from orderbook_cli.errors import MalformedData
from orderbook_cli.transport.ws import MAX_FRAME_BYTES, FrameReader, LinkClosed


def frame(opcode: int, payload: bytes, fin: bool = True, mask: bytes | None = None, rsv: int = 0) -> bytes:
    head = bytes([(0x80 if fin else 0) | rsv | opcode])
    size = len(payload)
    bit = 0x80 if mask else 0
    if size < 126:
        head += bytes([bit | size])
    elif size < 65536:
        head += bytes([bit | 126]) + struct.pack("!H", size)
    else:
        head += bytes([bit | 127]) + struct.pack("!Q", size)
    if mask:
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        head += mask
    return head + payload


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    ours.settimeout(0.05)
    pongs: list[bytes] = []
    yield FrameReader(ours, pongs.append), theirs, pongs
    ours.close()
    theirs.close()


def test_many_frames_in_one_read_and_one_frame_over_many(pair):
    reader, theirs, _ = pair
    texts = [f"message {i}".encode() * (i % 7 + 1) for i in range(50)]
    big = os.urandom(200_000)
    theirs.sendall(b"".join(frame(0x1, t) for t in texts) + frame(0x2, big))
    assert [reader.message() for _ in texts] == [(0x1, t) for t in texts]
    assert reader.message() == (0x2, big)


def test_a_read_that_times_out_mid_frame_loses_nothing(pair):
    reader, theirs, _ = pair
    first = frame(0x1, b"x" * 300)
    data = first + frame(0x1, b"second")
    for cut in (1, 2, 3, 4, 150, len(data) - 3):  # inside the header, the length, the payload, the next frame
        theirs.sendall(data[:cut])
        got = [reader.message()] if cut >= len(first) else []
        with pytest.raises(TimeoutError):
            reader.message()
        theirs.sendall(data[cut:])
        while len(got) < 2:
            got.append(reader.message())
        assert got == [(0x1, b"x" * 300), (0x1, b"second")]


def test_fragments_with_a_ping_between_are_one_message_and_the_ping_answered(pair):
    reader, theirs, pongs = pair
    theirs.sendall(frame(0x1, b"hel", fin=False) + frame(0x9, b"are you there") + frame(0x0, b"lo ", fin=False)
                   + frame(0xA, b"") + frame(0x0, b"world"))
    assert reader.message() == (0x1, b"hello world")
    assert pongs == [b"are you there"]


def test_a_masked_frame_is_read_in_clear(pair):
    reader, theirs, _ = pair
    theirs.sendall(frame(0x1, b"masked payload, any length", mask=b"\x01\x02\x03\xff"))
    assert reader.message() == (0x1, b"masked payload, any length")


def test_close_is_reported_and_a_closed_socket_ends_the_link(pair):
    reader, theirs, _ = pair
    theirs.sendall(frame(0x8, b"\x03\xe8bye"))
    assert reader.message() == (0x8, b"\x03\xe8bye")
    theirs.shutdown(socket.SHUT_WR)
    with pytest.raises(LinkClosed):
        reader.message()


def test_an_oversized_frame_is_refused_from_its_header_alone(pair):
    reader, theirs, _ = pair
    theirs.sendall(bytes([0x81, 127]) + struct.pack("!Q", MAX_FRAME_BYTES + 1))  # no payload follows
    with pytest.raises(MalformedData, match="a frame of 2097153 bytes"):
        reader.message()


def test_a_fragmented_message_is_capped_across_its_fragments(pair):
    reader, theirs, _ = pair
    piece = b"y" * 60_000

    def endless():  # FIN=0, then continuation frames until the reader gives up
        theirs.sendall(frame(0x1, piece, fin=False))
        try:
            while True:
                theirs.sendall(frame(0x0, piece, fin=False))
        except OSError:
            pass

    threading.Thread(target=endless, daemon=True).start()
    with pytest.raises(MalformedData, match="fragmented message over 2097152 bytes"):
        reader.message()


@pytest.mark.parametrize("data, words", [
    (frame(0x1, b"x", rsv=0x40), "reserved bits"),
    (frame(0x3, b"x"), "unknown opcode 3"),
    (frame(0x9, b"p", fin=False), "control frame"),
    (frame(0x9, b"p" * 126), "control frame"),
    (frame(0x0, b"x"), "no message to continue"),
    (frame(0x1, b"a", fin=False) + frame(0x1, b"b"), "before the fragmented one ended"),
])
def test_frames_that_break_the_protocol_are_refused(pair, data, words):
    reader, theirs, _ = pair
    theirs.sendall(data)
    with pytest.raises(MalformedData, match=words):
        reader.message()
