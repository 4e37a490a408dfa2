"""Sensitive fields at rest: Fernet encryption, a keyed hash for exact look-ups, and the
masked form shown to roles without the unmask permission.

Both keys derive from ``TIERBOOK_SECRET_KEY`` (HMAC-SHA256 with a purpose label), so one
secret serves; rotating it means re-encrypting (not provided yet).

A publish encrypts two values per customer (2M at 1M customers): ``encrypt_many`` writes
the same Fernet tokens as ``Fernet.encrypt`` (version 0x80, timestamp, random IV,
AES-128-CBC with PKCS7 padding, HMAC-SHA256 over all of it; see the Fernet spec) but runs
the AES of a whole batch as one call per 16-byte block position (CBC chains the blocks of
one value, not of different values), and the HMACs from a keyed hash state copied per value.
Every token it writes decrypts with ``decrypt`` (the library's Fernet).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

_BLOCK = 16
_FERNET_VERSION = 0x80


class _KeyedSha256:
    """HMAC-SHA256 with a fixed key, the inner and outer hash states computed once (RFC 2104):
    the same digest as ``hmac.new(key, msg, "sha256")`` at a fraction of its per-call cost."""

    def __init__(self, key: bytes) -> None:
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def hexdigest(self, message: bytes) -> str:
        return self.digest(message).hex()


class FieldCipher:
    def __init__(self, secret: str) -> None:
        raw = secret.encode("utf-8")
        enc_key = hmac.new(raw, b"tierbook:encrypt:v1", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(enc_key))
        self._signing = _KeyedSha256(enc_key[:16])  # Fernet: signing key, then AES key
        self._aes_key = enc_key[16:]
        self._hash_key = hmac.new(raw, b"tierbook:lookup:v1", hashlib.sha256).digest()
        self._lookup = _KeyedSha256(self._hash_key)

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def encrypt_many(self, values: Sequence[str]) -> list[str]:
        """Fernet tokens of ``values`` (each with its own random IV), as ``encrypt`` would
        write them, computed a batch at a time."""
        data = [v.encode("utf-8") for v in values]
        out: list[str] = [""] * len(data)
        header = struct.pack(">BQ", _FERNET_VERSION, int(time.time()))
        by_blocks: dict[int, list[int]] = defaultdict(list)
        for i, d in enumerate(data):
            by_blocks[len(d) // _BLOCK + 1].append(i)
        for blocks, idx in by_blocks.items():
            size = blocks * _BLOCK
            padded = b"".join(
                d + bytes([size - len(d)]) * (size - len(d)) for d in map(data.__getitem__, idx)
            )
            plain = np.frombuffer(padded, dtype=np.uint8).reshape(len(idx), blocks, _BLOCK)
            ivs = np.frombuffer(os.urandom(_BLOCK * len(idx)), dtype=np.uint8)
            ivs = ivs.reshape(len(idx), _BLOCK)
            cipher = np.empty_like(plain)
            ecb = Cipher(algorithms.AES(self._aes_key), modes.ECB()).encryptor()
            prev = ivs
            for b in range(blocks):  # CBC: each block is XORed with the one before (or the IV)
                mixed = np.bitwise_xor(plain[:, b, :], prev)
                prev = np.frombuffer(ecb.update(mixed.tobytes()), dtype=np.uint8)
                prev = prev.reshape(len(idx), _BLOCK)
                cipher[:, b, :] = prev
            ecb.finalize()
            body = np.concatenate([ivs, cipher.reshape(len(idx), size)], axis=1).tobytes()
            step = _BLOCK + size
            sign = self._signing.digest
            encode = base64.urlsafe_b64encode
            for j, i in enumerate(idx):
                part = header + body[j * step : (j + 1) * step]
                out[i] = encode(part + sign(part)).decode("ascii")
        return out

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ValueError("cannot decrypt: wrong TIERBOOK_SECRET_KEY or damaged value") from None

    def lookup_hash(self, value: str) -> str:
        """Keyed hash of a normalised value: equal inputs give equal hashes, and without the
        key the hash cannot be tested against guessed ID numbers."""
        return self._lookup.hexdigest(value.strip().upper().encode("utf-8"))

    def digest(self, parts: Iterable[object]) -> str:
        """Keyed hash of a record's fields (change detection without keeping plain text)."""
        text = "\x1f".join("" if p is None else str(p) for p in parts)
        return self._lookup.hexdigest(text.encode("utf-8"))
