import unicodedata

import pytest

from conftest import PAK
from edubot.clean import clean, furniture_mask, looks_like_furniture, quote_matches_source


def test_hyphen_joined_when_the_word_exists_elsewhere():
    raw = "The fem-\noral head.\nThe femoral neck."
    assert clean(raw).text.startswith("The femoral head.")


def test_hyphen_joined_from_the_word_list():
    assert clean("How-\never, it worked.").text == "However, it worked."


@pytest.mark.parametrize("raw,expected", [
    ("medullary bone-\nlike tissue and more bone-like tissue.", "medullary bone-like tissue"),
    ("the platelet-\nderived growth factor", "platelet-derived growth factor"),
    ("returned for CaCl2-\nactivated PRP injections", "CaCl2-activated PRP"),
    ("blood vessels (17-\n27). More text", "(17-27)"),
    ("subjected to pre- \nand post-treatment scans", "pre- and post-treatment"),
])
def test_real_hyphens_are_kept(raw, expected):
    assert expected in clean(raw).text


def test_case_report_repairs(corpus, vocabulary):
    text = clean(corpus.get(PAK).raw, vocabulary).text
    for good in ("femoral head", "However, there", "bone-like", "platelet-derived", "CaCl2-activated",
                 "(17-27)", "povidone-iodine", "aspirin", "prospective study", "30- to 50-year-old"):
        assert good in text, good
    for bad in ("fem- oral", "fem-\noral", "How- ever", "aspi- rin", "pro- spective"):
        assert bad not in text, bad


def test_unicode_normalized_and_invisible_characters_dropped():
    ct = clean("The \ufb01broblast\u00a0cells\u200b grow.")
    assert ct.text == "The fibroblast cells grow."


def test_offsets_point_back_to_the_raw_characters(corpus, vocabulary):
    raw = corpus.get(PAK).raw
    ct = clean(raw, vocabulary)
    assert len(ct.offsets) == len(ct.text)
    assert list(ct.offsets) == sorted(ct.offsets)
    for ch, off in zip(ct.text, ct.offsets):
        if ch.isalnum():
            assert ch in unicodedata.normalize("NFKC", raw[off])


def test_quote_matching_is_strict(corpus):
    raw = corpus.get(PAK).raw
    start = raw.index("Limitations: A biopsy")
    span = (start, start + 60)
    assert quote_matches_source(raw, span, raw[span[0]:span[1]].replace("\n", " "))
    assert not quote_matches_source(raw, span, raw[span[0]:span[1]].replace("biopsy", "biopsies"))


@pytest.mark.parametrize("line", [
    "(708) 393-8266 Phone", "715 Lake St., Suite 600", "Oak Park, IL 60301", "© 2017 | All Rights Reserved | Disclaimer",
    "Contact us now!", "First Name*:", "Get a 2nd opinion now!", "Become a New Patient", "Ross Hauser, MD",
])
def test_furniture_lines(line):
    assert looks_like_furniture(line)


@pytest.mark.parametrize("line", [
    "Osteonecrosis is also called:",
    "The overall success of this treatment is unclear.",
    "Patients were restricted from taking steroids, aspirin, NSAIDS, and Asian herbal medications.",
])
def test_content_is_not_furniture(line):
    assert not looks_like_furniture(line)


def test_short_lines_among_furniture_are_furniture():
    lines = ["Real content sentence that is long enough to matter here.", "Contact us now!", "Oak Park, IllinoisFort Myers, Florida", "Please leave this field empty."]
    assert furniture_mask(lines) == [False, True, True, True]
