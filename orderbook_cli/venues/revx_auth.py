"""Revolut X API credentials, kept where Revolut's own CLI keeps them, and request signing.

``$REVOLUTX_CONFIG_DIR`` (default ``~/.config/revolut-x/``) holds ``config.json``
``{"api_key": "...", "private_key_path": "..."}`` (path optional, default
``private.pem`` beside it). ``REVOLUTX_API_KEY`` and ``REVOLUTX_PRIVATE_KEY_PATH``
override the file. Files that group or others can access are refused, as
Revolut's CLI does. Nothing here ever puts key material into a message.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from orderbook_cli.errors import AuthError, keep_secret, keep_signature
from orderbook_cli.smallfile import Unsuitable, read_small

MAX_FILE_BYTES = 64 * 1024  # a config or an Ed25519 PEM is a few hundred bytes
API_KEY_LENGTHS = range(8, 513)
_ED25519_OID = bytes.fromhex("06032b6570")  # 1.3.101.112
_SEED_PREFIX = bytes.fromhex("04220420")  # OCTET STRING { OCTET STRING (32 bytes) }


class CredentialSource(NamedTuple):
    """Where credentials come from; cheap to find (no key is read)."""

    api_key: str | None
    key_path: Path
    config_file: Path | None  # None when everything comes from the environment

    def describe(self) -> str:
        where = f"config {self.config_file}" if self.config_file else "REVOLUTX_API_KEY"
        return f"{where}, private key {self.key_path}"


def config_dir(environ: Mapping[str, str]) -> Path:
    configured = environ.get("REVOLUTX_CONFIG_DIR")
    return Path(configured).expanduser() if configured else Path(environ.get("HOME", "~")).expanduser() / ".config" / "revolut-x"


def _read_private(path: Path, what: str) -> bytes:
    """A small, private, regular file's bytes; checked by type, size and mode before reading."""
    try:
        return read_small(path, MAX_FILE_BYTES, check=lambda info: _check_mode(path, info.st_mode, what))
    except FileNotFoundError:
        hint = "set private_key_path in config.json or REVOLUTX_PRIVATE_KEY_PATH" if what == "private key" else None
        raise AuthError(f"the Revolut X {what} {path} does not exist", hint=hint) from None
    except Unsuitable as exc:
        raise AuthError(f"the Revolut X {what} {path} {exc}") from None
    except OSError as exc:
        raise AuthError(f"cannot read the Revolut X {what} {path}: {exc.strerror}") from None


def _check_mode(path: Path, mode: int, what: str) -> None:
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuthError(
            f"the Revolut X {what} {path} is accessible by group or others (mode {stat.S_IMODE(mode):04o})",
            hint=f"run: chmod 600 {path}",
        )


def find_credentials(environ: Mapping[str, str]) -> CredentialSource | None:
    """Where the credentials are, or None when none are configured (public book)."""
    directory = config_dir(environ)
    config_file = directory / "config.json"
    settings: dict = {}
    if os.path.lexists(config_file):
        text = _read_private(config_file, "config file")
        try:
            settings = json.loads(text.decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # not UTF-8, not JSON, nested beyond reason
            raise AuthError(f"the Revolut X config file {config_file} is not valid JSON", hint="it should hold {\"api_key\": \"...\"}") from exc
        if not isinstance(settings, dict):
            raise AuthError(f"the Revolut X config file {config_file} is not a JSON object")
    elif not environ.get("REVOLUTX_API_KEY"):
        return None
    from_environment = environ.get("REVOLUTX_API_KEY")
    api_key = from_environment or settings.get("api_key")
    if isinstance(api_key, str) and api_key.strip():  # checked where it is found, so the message names the source
        api_key = _check_api_key(api_key, "REVOLUTX_API_KEY" if from_environment else config_file)
    raw_path = environ.get("REVOLUTX_PRIVATE_KEY_PATH") or settings.get("private_key_path") or "private.pem"
    key_path = Path(str(raw_path)).expanduser()
    if not key_path.is_absolute():
        key_path = directory / key_path
    return CredentialSource(
        api_key=api_key if isinstance(api_key, str) and api_key else None,
        key_path=key_path,
        config_file=config_file if settings else None,
    )


def _pem_block(text: str) -> tuple[str, str] | None:
    """(label, base64 body) of the first PEM block, found with plain string searches (linear time)."""
    begin = text.find("-----BEGIN ")
    label_end = text.find("-----", begin + 11) if begin >= 0 else -1
    if label_end < 0:
        return None
    label = text[begin + 11 : label_end]
    end = text.find(f"-----END {label}-----", label_end + 5)
    if end < 0 or not label or not all(c.isupper() or c == " " for c in label):
        return None
    return label, text[label_end + 5 : end]


def _ed25519_seed(pem_text: str, path: Path) -> bytes:
    block = _pem_block(pem_text)
    if block is None:
        raise AuthError(f"{path} is not a PEM private key", hint="create one with: openssl genpkey -algorithm ed25519 -out private.pem")
    label, body = block
    if label != "PRIVATE KEY":
        hint = "decrypt it: openssl pkey -in KEY -out private.pem" if "ENCRYPTED" in label else "obook needs a PKCS#8 Ed25519 key: openssl genpkey -algorithm ed25519 -out private.pem"
        raise AuthError(f"{path} holds a {label.lower()}, not an unencrypted PKCS#8 private key", hint=hint)
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise AuthError(f"{path} is not a valid PEM file (bad base64)") from None
    start = der.find(_SEED_PREFIX)
    if _ED25519_OID not in der[:16] or start < 0 or len(der) < start + 4 + 32:
        raise AuthError(f"{path} is not an Ed25519 private key", hint="Revolut X keys are Ed25519: openssl genpkey -algorithm ed25519 -out private.pem")
    return der[start + 4 : start + 4 + 32]


class Signer:
    """Adds X-Revx-* headers: an Ed25519 signature over timestamp+METHOD+path+query+body."""

    def __init__(self, api_key: str, seed: bytes):
        from nacl.signing import SigningKey

        self.api_key = api_key
        keep_secret(api_key)  # a venue may echo it in an error body
        self._key = SigningKey(seed)

    def __call__(self, method: str, path: str, query: str, body: str = "") -> dict[str, str]:
        timestamp = str(int(time.time() * 1000))
        message = f"{timestamp}{method.upper()}{path}{query}{body}".encode()
        signature = base64.b64encode(self._key.sign(message).signature).decode()
        keep_signature(signature)
        return {"X-Revx-API-Key": self.api_key, "X-Revx-Timestamp": timestamp, "X-Revx-Signature": signature}

    def __repr__(self) -> str:  # never show key material, even in a debugger or traceback
        return "Signer(<redacted>)"


def _check_api_key(key: str, where: object) -> str:
    """Printable ASCII of a sane length, so it can go into a header; never echoed back."""
    key = key.strip()
    if len(key) not in API_KEY_LENGTHS or not all("!" <= c <= "~" for c in key):
        raise AuthError(
            f"the Revolut X API key in {where} is not a valid key ({API_KEY_LENGTHS.start}-{API_KEY_LENGTHS.stop - 1} printable ASCII characters, no spaces or line breaks)",
            hint="copy the key again from Revolut X's API settings",
        )
    return key


def load_signer(source: CredentialSource) -> Signer:
    where = source.config_file or "REVOLUTX_API_KEY"
    if not source.api_key:
        raise AuthError(f"no Revolut X API key in {where}", hint="add \"api_key\" to config.json or set REVOLUTX_API_KEY")
    try:
        text = _read_private(source.key_path, "private key").decode("ascii")
    except UnicodeDecodeError:
        raise AuthError(f"{source.key_path} is not a PEM private key") from None
    return Signer(source.api_key, _ed25519_seed(text, source.key_path))
