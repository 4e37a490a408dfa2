"""Sensitive fields at rest: Fernet encryption, a keyed hash for exact look-ups, and the
masked form shown to roles without the unmask permission.

Both keys derive from ``TIERBOOK_SECRET_KEY`` (HMAC-SHA256 with a purpose label), so one
secret serves; rotating it means re-encrypting (not provided yet).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from cryptography.fernet import Fernet, InvalidToken


class FieldCipher:
    def __init__(self, secret: str) -> None:
        raw = secret.encode("utf-8")
        enc_key = hmac.new(raw, b"tierbook:encrypt:v1", hashlib.sha256).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(enc_key))
        self._hash_key = hmac.new(raw, b"tierbook:lookup:v1", hashlib.sha256).digest()

    def encrypt(self, value: str) -> str:
        return self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise ValueError("cannot decrypt: wrong TIERBOOK_SECRET_KEY or damaged value") from None

    def lookup_hash(self, value: str) -> str:
        """Keyed hash of a normalised value: equal inputs give equal hashes, and without the
        key the hash cannot be tested against guessed ID numbers."""
        return hmac.new(self._hash_key, value.strip().upper().encode("utf-8"), "sha256").hexdigest()

    def digest(self, parts: Iterable[object]) -> str:
        """Keyed hash of a record's fields (change detection without keeping plain text)."""
        text = "\x1f".join("" if p is None else str(p) for p in parts)
        return hmac.new(self._hash_key, text.encode("utf-8"), "sha256").hexdigest()
