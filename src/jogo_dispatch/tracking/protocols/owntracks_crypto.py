"""OwnTracks payload encryption: libsodium's secret box, as the apps and the OwnTracks Recorder use it.

Follows the booklet (owntracks.org/booklet/features/encrypt) and the apps' code: the key is the
passphrase typed into the app, its UTF-8 bytes zero-padded to ``crypto_secretbox_KEYBYTES`` (32);
the published ``{"_type": "encrypted", "data": ...}`` carries base64 of nonce (24 bytes) followed by the
secret box (MAC and ciphertext, libsodium's "combined" form: owntracks/android ``EncryptionProvider.kt``
writes ``nonce|mac|ciphertext``, owntracks/ios ``Connection.m`` ``nonce`` + ``crypto_secretbox_easy``,
and the Recorder opens ``ciphertext + NONCEBYTES`` with ``crypto_secretbox_open_easy``).

A passphrase longer than 32 bytes is cut by the apps, but not alike: Android cuts the bytes
(``toByteArray().copyOf(32)``), iOS whole characters (``getBytes:maxLength:`` stops before a character
that does not fit). :func:`secret_box_key` refuses a passphrase they would cut differently.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from jogo_dispatch.tracking.protocols.common import bad_field

__all__ = ["KEY_BYTES", "decrypt_payload", "secret_box_key"]

KEY_BYTES = SecretBox.KEY_SIZE  # 32
NONCE_BYTES = SecretBox.NONCE_SIZE  # 24
MAC_BYTES = SecretBox.MACBYTES  # 16


def secret_box_key(passphrase: str) -> bytes:
    """The 32-byte key both apps derive from ``passphrase``; ``bad_field`` for an empty one (the apps
    read that as "no encryption") or a long one that Android and iOS would cut differently."""
    if not passphrase:
        bad_field("key", "the key must not be empty")
    raw = passphrase.encode("utf-8")
    android = raw[:KEY_BYTES]
    ios = bytearray()
    for char in passphrase:
        encoded = char.encode("utf-8")
        if len(ios) + len(encoded) > KEY_BYTES:
            break
        ios += encoded
    if android != bytes(ios):
        bad_field(
            "key",
            f"the key is longer than {KEY_BYTES} bytes and ends inside a character there: the Android and "
            f"iOS apps would cut it differently; use at most {KEY_BYTES} bytes",
        )
    return android.ljust(KEY_BYTES, b"\x00")


def decrypt_payload(data: str, keys: Sequence[bytes]) -> bytes | None:
    """The plaintext of an ``encrypted`` message's ``data``, opened with the first of ``keys`` that fits;
    None when none does (a wrong key or a forged payload). Malformed ``data`` is ``bad_field``."""
    try:
        # The apps write standard base64 without line breaks; whitespace a proxy may add is tolerated.
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        bad_field("data", "data is not base64")
    if len(raw) < NONCE_BYTES + MAC_BYTES:
        bad_field("data", "data is too short for a nonce and a secret box")
    for key in keys:
        try:
            return SecretBox(key).decrypt(raw)
        except CryptoError:
            continue
    return None
