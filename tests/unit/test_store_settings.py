"""Store settings refuse a missing or weak secret key outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tierbook.store.crypto import FieldCipher
from tierbook.store.settings import DEFAULT_DATABASE_URL, StoreSettings


def test_development_runs_on_the_built_in_key_and_a_sqlite_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("TIERBOOK_SECRET_KEY", "TIERBOOK_ENV", "TIERBOOK_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    s = StoreSettings()
    assert s.database_url == DEFAULT_DATABASE_URL
    assert s.key()


@pytest.mark.parametrize("env", ["production", "test"])
def test_outside_development_a_missing_secret_key_is_refused(
    monkeypatch: pytest.MonkeyPatch, env: str
) -> None:
    monkeypatch.delenv("TIERBOOK_SECRET_KEY", raising=False)
    monkeypatch.setenv("TIERBOOK_ENV", env)
    with pytest.raises(ValidationError, match="TIERBOOK_SECRET_KEY must be set"):
        StoreSettings()


def test_a_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIERBOOK_SECRET_KEY", "short")
    with pytest.raises(ValidationError, match="at least 16"):
        StoreSettings()


def test_a_value_encrypted_under_one_key_does_not_decrypt_under_another() -> None:
    token = FieldCipher("a" * 32).encrypt("11010519491231002X")
    assert FieldCipher("a" * 32).decrypt(token) == "11010519491231002X"
    with pytest.raises(ValueError, match="wrong TIERBOOK_SECRET_KEY"):
        FieldCipher("b" * 32).decrypt(token)


def test_lookup_hashes_are_keyed_and_ignore_case_and_spaces() -> None:
    one, other = FieldCipher("a" * 32), FieldCipher("b" * 32)
    assert one.lookup_hash(" 11010519491231002x ") == one.lookup_hash("11010519491231002X")
    assert one.lookup_hash("11010519491231002X") != other.lookup_hash("11010519491231002X")


def test_load_settings_names_the_variable_in_a_plain_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tierbook.store.settings import SettingsError, load_settings

    monkeypatch.delenv("TIERBOOK_SECRET_KEY", raising=False)
    monkeypatch.setenv("TIERBOOK_ENV", "production")
    with pytest.raises(SettingsError, match=r"^TIERBOOK_SECRET_KEY must be set"):
        load_settings()
