"""OwnTracks payload encryption as the apps do it: the Android app's own test vector, the key derivation of
both apps, and what a bad payload is."""

from __future__ import annotations

import base64

import orjson
import pytest
from nacl.secret import SecretBox
from nacl.utils import random

from jogo_dispatch.errors import InvalidInput
from jogo_dispatch.tracking.protocols import decrypt_payload, parse_owntracks, secret_box_key

# owntracks/android EncryptionProviderTest: this payload, encrypted by the app with the key "123".
ANDROID_ENCRYPTED = (
    "aUiEKyGnskRz383od0mu4uqxTIxeZUddBVxKEmsdv1FFSH2y0NwqLP1tTqOmxaFhGv0bNX1DT7o81FW9Yaxpla6Byvr6CZV3t2sk"
    "Qv8nlxiIv1ZpQWM1bqHE0JFHwD3/yRx9bLHRF3j67kWcO6o2D/xn4ma8Fd4u86NPobFkRIzIhJljphEZyDCGugp7H3FkydGvgEkl"
    "jb1/P1K91E/ij+m73wFplvTQm8ba5eWSFlQHDdY2B7QwbVPrKarHJLrm1+Y29+HD4Wg6TNhBJZLvdsmek6AcZLB+bq7Q84tUWoLrK"
    "p3aiyJZZX70q4HbVI3skkmDWMuMP2cDmsY9bvBjh1ZWAGlOq5VS1dWIlu6OWgWN9VdDbLzP+s2ykeFXrGs="
)


def seal(plaintext: bytes, passphrase: str) -> str:
    """What the apps publish: base64(nonce + secret box), the nonce random."""
    return base64.b64encode(SecretBox(secret_box_key(passphrase)).encrypt(plaintext, random(24))).decode()


def test_the_android_apps_own_test_vector_opens_with_its_key():
    plaintext = decrypt_payload(ANDROID_ENCRYPTED, [secret_box_key("123")])
    assert plaintext is not None
    fix = parse_owntracks(plaintext, user="u", device="d").fix
    assert fix is not None
    assert (fix.lat, fix.lon, fix.accuracy_m) == (50.1182933, -5.5407733, 5.0)
    assert fix.attributes["SSID"] == "AndroidWifi"


def test_the_first_key_that_opens_it_is_used_and_none_is_none():
    assert decrypt_payload(ANDROID_ENCRYPTED, [secret_box_key("124")]) is None
    assert decrypt_payload(ANDROID_ENCRYPTED, []) is None
    assert decrypt_payload(ANDROID_ENCRYPTED, [secret_box_key("x"), secret_box_key("123")]) is not None


def test_the_key_is_the_passphrase_zero_padded_to_32_bytes():
    assert secret_box_key("123") == b"123" + b"\x00" * 29
    assert secret_box_key("a" * 40) == b"a" * 32  # both apps cut a long one at 32 bytes
    assert secret_box_key("é" * 16) == "é".encode() * 16  # exactly 32 bytes
    body = orjson.dumps({"_type": "location", "lat": 1.5, "lon": 2.5, "tst": 1700000000, "tid": "ab"})
    assert decrypt_payload(seal(body, "kunci rahasia"), [secret_box_key("kunci rahasia")]) == body


def test_a_passphrase_the_two_apps_would_cut_differently_is_refused():
    # 31 ASCII bytes then a 2-byte character: Android keeps half of it, iOS none.
    with pytest.raises(InvalidInput) as info:
        secret_box_key("a" * 31 + "é")
    assert info.value.details == {"field": "key"}
    with pytest.raises(InvalidInput):
        secret_box_key("")


@pytest.mark.parametrize(
    "data", ["not base64!", "c2VjcmV0", "", "ünïcode", base64.b64encode(b"x" * 39).decode()]
)
def test_malformed_data_is_bad_field(data):
    with pytest.raises(InvalidInput) as info:
        decrypt_payload(data, [secret_box_key("123")])
    assert info.value.code == "bad_field" and info.value.details == {"field": "data"}


def test_whitespace_a_proxy_folds_into_the_base64_is_tolerated():
    folded = "\n".join(ANDROID_ENCRYPTED[i : i + 76] for i in range(0, len(ANDROID_ENCRYPTED), 76))
    assert decrypt_payload(folded, [secret_box_key("123")]) is not None
