"""Identity-number rules, checked against the published algorithms.

Valid numbers other than the two verified ones (FACTS.md) are built here by computing the check
character by hand from the weights of GB 11643-1999 and GB 32100-2015, never by calling the
code under test.
"""

from __future__ import annotations

from datetime import date

import pytest

from tierbook.domain.identity import (
    IdentityError,
    normalize_mobile,
    parse_resident_id,
    resident_id_check_char,
    uscc_check_char,
    validate_uscc,
)

ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def hand_resident_id(body: str) -> str:
    total = 0
    for digit, weight in zip(body, ID_WEIGHTS, strict=True):
        total += int(digit) * weight
    return body + "10X98765432"[total % 11]


def hand_uscc(body: str) -> str:
    total = 0
    for char, weight in zip(body, USCC_WEIGHTS, strict=True):
        total += USCC_ALPHABET.index(char) * weight
    return body + USCC_ALPHABET[(31 - total % 31) % 31]


def test_verified_resident_id_is_valid():
    assert parse_resident_id("11010519491231002X") == (date(1949, 12, 31), "F")


def test_verified_credit_code_is_valid():
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("body", "born", "gender"),
    [
        ("35010219800101001", date(1980, 1, 1), "M"),
        ("44030620000229002", date(2000, 2, 29), "F"),
        ("51010219991231123", date(1999, 12, 31), "M"),
        ("11010519000101000", date(1900, 1, 1), "F"),
    ],
)
def test_resident_id_with_hand_computed_check_digit_is_valid(body, born, gender):
    number = hand_resident_id(body)
    assert resident_id_check_char(body) == number[-1]
    assert parse_resident_id(number) == (born, gender)


def test_lower_case_x_check_digit_is_accepted():
    assert parse_resident_id("11010519491231002x")[0] == date(1949, 12, 31)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("110105194912310021", "ID_CHECKSUM"),
        ("11010519491231002", "ID_FORMAT"),
        ("1101051949123100211", "ID_FORMAT"),
        ("11010519491231002Y", "ID_FORMAT"),
        (hand_resident_id("11010519490230002"), "ID_BIRTHDATE"),
        (hand_resident_id("11010518991231002"), "ID_BIRTHDATE"),
    ],
)
def test_bad_resident_id_raises_its_code(value, code):
    with pytest.raises(IdentityError) as err:
        parse_resident_id(value)
    assert err.value.code == code
    assert value not in str(err.value)


@pytest.mark.parametrize("body", ["91110000600037341", "12100000400000624", "31440300MA5DC1234"])
def test_credit_code_with_hand_computed_check_is_valid(body):
    code = hand_uscc(body)
    assert uscc_check_char(body) == code[-1]
    assert validate_uscc(code.lower()) == code


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("91350100M000100Y44", "USCC_CHECKSUM"),
        ("91350100M000100Y4", "USCC_FORMAT"),
        ("91350100M000100YI3", "USCC_FORMAT"),  # I is not in the alphabet
        ("9135010OM000100Y43", "USCC_FORMAT"),  # letter in the 6-digit area code
    ],
)
def test_bad_credit_code_raises_its_code(value, code):
    with pytest.raises(IdentityError) as err:
        validate_uscc(value)
    assert err.value.code == code


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        ("+86 138 0013 8000", "13800138000"),
        ("0086 19912345678", "19912345678"),
        ("8613800138000", "13800138000"),
        ("(138)00138000", "13800138000"),
    ],
)
def test_mobile_is_normalized_to_11_digits(raw, normal):
    assert normalize_mobile(raw) == normal


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "0591-87654321", "abc"])
def test_bad_mobile_raises_mobile_format(raw):
    with pytest.raises(IdentityError) as err:
        normalize_mobile(raw)
    assert err.value.code == "MOBILE_FORMAT"
