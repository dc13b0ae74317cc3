import unicodedata

import pytest
from conftest import PAK

from edubot.clean import (
    clean,
    furniture_mask,
    furniture_sentence,
    looks_like_furniture,
    number_problem,
    quote_matches_source,
    split_page_margins,
)


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


# ---------------------------------------------------------------- issue 13: word repairs

def test_case_report_split_words_rejoined(corpus, vocabulary):
    text = clean(corpus.get(PAK).raw, vocabulary).text
    assert "this technique has clinical merit" in text and "tech nique" not in text
    assert "persistence of regenerated medullary" in text and "re generated" not in text


@pytest.mark.parametrize("raw,expected", [
    ("from th e concentrated marrow", "from the concentrated marrow"),
    ("the tech nique was new", "the technique was new"),
])
def test_split_words_rejoined_on_evidence(raw, expected):
    assert clean(raw).text == expected


@pytest.mark.parametrize("raw", [
    "it may be a part of the plan", "he came in to see us", "vitamin E and vitamin D", "Barba-Recreo P et al. 2015",
])
def test_real_word_pairs_stay_apart(raw):
    assert clean(raw).text == raw


@pytest.mark.parametrize("raw,expected", [
    ("focus groups [8]wereconductedwith fifteen", "focus groups [8] were conducted with fifteen"),
    ("is common in many lowandmiddleincome countries(LMIC)[1].However,theresources",
     "is common in many low and middle income countries (LMIC)[1]. However, the resources"),
    ("I’d be very fit now, Icouldn’tbemuchfitter.", "I’d be very fit now, I couldn’t be much fitter."),
])
def test_glued_words_split(raw, expected):
    assert clean(raw).text == expected


@pytest.mark.parametrize("raw", [
    "postrehabilitation maintenance", "a semistructured interview", "multilineage potentiality",
    "delivered by impactation through", "U.S. Food and Drug Administration", "e.g. the hip",
])
def test_rare_words_and_abbreviations_are_not_split(raw):
    assert clean(raw).text == raw


def test_hyphen_evidence_is_read_after_ligatures():
    # "anti-inflammatory" is written with a ligature elsewhere: the line-end hyphen is a real one.
    raw = "an anti-\ninﬂammatory drug; anti-inﬂammatory drugs and anti-inﬂammatory effects"
    assert clean(raw).text.startswith("an anti-inflammatory drug")


def test_a_soft_hyphen_never_comes_before_a_capital():
    assert "Hollingsworth-Fridlund" in clean("Simons RK, Hollingsworth-\nFridlund P, Hoyt DB").text


@pytest.mark.parametrize("raw", ["between 10⁵ and 10⁶ cells per m²", "took 1¼ hours", "a ½ dose"])
def test_normalisation_never_invents_digits(raw):
    assert clean(raw).text == raw  # NFKC would make "105", "11⁄4 hours"


def test_repairs_keep_the_offset_map_exact():
    raw = "focus groups [8]wereconductedwith this tech nique (p¼0.49) and more\ntext"
    ct = clean(raw)
    assert len(ct.offsets) == len(ct.text) and list(ct.offsets) == sorted(ct.offsets)
    assert quote_matches_source(raw, ct.raw_span(0, len(ct.text)), ct.text)


# ---------------------------------------------------------------- issue 13: the number guard

def test_symbol_font_equals_repaired_beside_a_statistic_and_checked_through_the_same_table():
    raw = "no difference (p¼0.49, n ¼ 12)"
    ct = clean(raw)
    assert ct.text == "no difference (p=0.49, n = 12)"
    assert quote_matches_source(raw, ct.raw_span(0, len(ct.text)), ct.text)
    # an unrepaired quote does not pass: its "1⁄4" would read as digits 1 and 4
    assert not quote_matches_source(raw, (0, len(raw)), "no difference (p1⁄40.49, n 1⁄4 12)")


@pytest.mark.parametrize("raw,quote,why", [
    ("95% CI /C00.40 to 18.66 g/l", None, "/C0"),
    ("a change of \x1f0.40 mmol", None, "U+001F"),
    ("a change of 0.40\x8118.66", None, "U+0081"),
    ("ratio 3¼2 in the group", None, "¼"),
    ("aged 2e76 years", None, "2e76"),
])
def test_number_guard_names_damaged_numbers(raw, quote, why):
    problem = number_problem(raw, clean(raw).text if quote is None else quote)
    assert problem and why in problem


@pytest.mark.parametrize("raw", [
    "95% CI −0.40 to 18.66 g/l", "took 1¼ hours", "p = 0.05 and n = 12", "• Limitation in the use", "version 1e",
])
def test_number_guard_passes_sound_numbers(raw):
    assert number_problem(raw, clean(raw).text) is None


def test_glyph_bullets_become_bullets():
    raw = "objectives:\n/C15 the patient’s view\n\x81 Lack of some essential tools"
    ct = clean(raw)
    assert "• the patient’s view" in ct.text and "• Lack of some essential tools" in ct.text
    assert quote_matches_source(raw, ct.raw_span(0, len(ct.text)), ct.text)


# ---------------------------------------------------------------- issue 13: PDF page furniture

def test_page_margins_repeat_across_pages_once_digits_are_masked():
    words = ["hip", "knee", "bone", "joint", "marrow", "cartilage", "femur", "pelvis", "tendon", "ligament", "muscle", "nerve"]
    body = [f"The {words[i]} is described on this page, and the {words[i + 4]} on the next one." for i in range(4)]
    pages = [
        ["Journal of Hips 2010, 4:1", body[0], "* Correspondence: a@b.org", "© 2010 The authors; licensee X."],
        ["2 Journal of Hips", body[1], "Journal of Hips 2010, 4:1", "Page 2 of 4"],
        ["Journal of Hips 3", body[2], "Journal of Hips 2010, 4:1", "Page 3 of 4"],
        ["4 Journal of Hips", body[3], "Journal of Hips 2010, 4:1", "Page 4 of 4"],
    ]
    # Page 1 is long enough to hold a footnote block (three edge windows of lines).
    pages[0] = pages[0][:1] + [f"{body[0]} Line {w}." for w in words * 2] + pages[0][2:]
    bodies, margins = split_page_margins(["\n".join(p) for p in pages])
    for kept in bodies:
        assert "Journal of Hips" not in kept and "Page" not in kept.replace("page", "")
        assert "is described on this page" in kept
    assert "Correspondence" not in bodies[0] and "licensee" not in bodies[0]
    assert (2, "Page 2 of 4") in margins and (1, "* Correspondence: a@b.org") in margins


def test_a_single_page_has_no_repeated_furniture():
    bodies, margins = split_page_margins(["Journal of Hips\nThe hip is a joint."])
    assert margins == () and bodies == ["Journal of Hips\nThe hip is a joint."]


def test_sentences_run_on_across_a_page_break():
    raw = "Heart failure patients are older and have multiple comorbidities, and\n\nmany take several drugs."
    ct = clean(raw, page_starts=(0, raw.index("many")))
    assert "comorbidities, and many take" in ct.text
    raw2 = "Patients are supported through a programme of cardiac rehabil-\n\nitation and education."
    assert "cardiac rehabilitation and" in clean(raw2, page_starts=(0, raw2.index("itation"))).text


# ---------------------------------------------------------------- issue 15: furniture by the sentence

def test_a_phrase_never_takes_its_paragraph_with_it():
    paragraph = ("Osteonecrosis is bone death. It often affects the hip. Learn more about it. "
                 "Call 555-123-4567 for an appointment. Treatment depends on the stage.")
    assert furniture_mask([paragraph]) == [False]
    assert furniture_sentence("Learn more about it.") and furniture_sentence("Call 555-123-4567 for an appointment.")
    assert not furniture_sentence("It often affects the hip.")
