"""The batch encryption writes Fernet tokens: every one decrypts with the library's Fernet
under the key the cipher derives, whatever the value's length (block boundaries, multi-byte
UTF-8, empty), each with its own IV; the keyed hashes are RFC 2104 HMAC-SHA256."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet

from tierbook.store.crypto import FieldCipher

SECRET = "a test secret, not a real one"
VALUES = [
    "11010519491231002X",
    "13812345678",
    "",
    "a" * 15,
    "b" * 16,
    "c" * 17,
    "d" * 32,
    "e" * 47,
    "张三丰",
    "é" * 8,  # 16 bytes in UTF-8: a full block of padding follows
    "+86 138-1234-5678",
]


def _library_fernet() -> Fernet:
    """Fernet under the key FieldCipher documents: HMAC-SHA256 of the secret, purpose label."""
    key = hmac.new(SECRET.encode(), b"tierbook:encrypt:v1", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def test_every_token_of_a_batch_decrypts_with_the_library_fernet() -> None:
    tokens = FieldCipher(SECRET).encrypt_many(VALUES * 3)
    fernet = _library_fernet()
    assert [fernet.decrypt(t.encode()).decode() for t in tokens] == VALUES * 3


def test_batch_tokens_decrypt_with_the_cipher_and_have_the_library_token_length() -> None:
    cipher = FieldCipher(SECRET)
    tokens = cipher.encrypt_many(VALUES)
    assert [cipher.decrypt(t) for t in tokens] == VALUES
    assert [len(t) for t in tokens] == [len(cipher.encrypt(v)) for v in VALUES]


def test_equal_values_get_different_tokens() -> None:
    tokens = FieldCipher(SECRET).encrypt_many(["13812345678"] * 50)
    assert len(set(tokens)) == 50


def test_a_token_of_another_key_is_refused() -> None:
    token = FieldCipher("another secret").encrypt_many(["13812345678"])[0]
    with pytest.raises(ValueError, match="cannot decrypt"):
        FieldCipher(SECRET).decrypt(token)


def test_a_token_written_one_at_a_time_still_decrypts() -> None:
    cipher = FieldCipher(SECRET)
    assert cipher.decrypt(cipher.encrypt("11010519491231002X")) == "11010519491231002X"


def test_an_empty_batch_gives_no_tokens() -> None:
    assert FieldCipher(SECRET).encrypt_many([]) == []


def test_the_lookup_hash_is_hmac_sha256_of_the_normalised_value() -> None:
    key = hmac.new(SECRET.encode(), b"tierbook:lookup:v1", hashlib.sha256).digest()
    expected = hmac.new(key, b"11010519491231002X", hashlib.sha256).hexdigest()
    assert FieldCipher(SECRET).lookup_hash(" 11010519491231002x ") == expected


def test_the_record_digest_is_hmac_sha256_of_the_joined_fields() -> None:
    key = hmac.new(SECRET.encode(), b"tierbook:lookup:v1", hashlib.sha256).digest()
    expected = hmac.new(key, "C1\x1f\x1f张三\x1f12.5".encode(), hashlib.sha256).hexdigest()
    assert FieldCipher(SECRET).digest(["C1", None, "张三", 12.5]) == expected
