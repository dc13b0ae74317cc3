"""Follow-ups are read with the question before them, by a fixed rule and never rephrased."""

from edubot.conversation import Reading, Turn, is_follow_up, read_question

EARLIER = Turn("Was a biopsy done in the stem cell case report?", "Was a biopsy done in the stem cell case report?", "answered")


def test_short_follow_ups_are_read_with_the_earlier_question():
    for q in ("and what about the second patient?", "did they do a biopsy?", "Is it safe?", "what about tantalum rods?",
              "how long did it last?", "and the other one?"):
        assert read_question(q, [EARLIER]) == Reading(f"{EARLIER.query} {q}", EARLIER.question), q


def test_questions_with_their_own_subject_stand_alone():
    for q in ("What is osteonecrosis?", "Is it true that stem cells cure avascular necrosis?", "tantalum rod",
              "are stem cell treatments approved by the FDA", "what are the risks of core decompression for a hip?"):
        assert read_question(q, [EARLIER]) == Reading(q), q


def test_only_after_an_answered_question():
    for status in ("urgent", "invalid", "no_answer"):
        assert read_question("and what about it?", [Turn("x", "x", status)]).earlier is None
    assert read_question("and what about it?", []).earlier is None
    assert read_question("and what about it?", [Turn("x", "x", "personal_advice")]).earlier == "x"


def test_a_chain_keeps_the_subject_and_the_limit():
    second = Turn("and the second patient?", f"{EARLIER.query} and the second patient?", "answered")
    reading = read_question("how old was he?", [EARLIER, second])
    assert reading.query == f"{second.query} how old was he?" and reading.earlier == "and the second patient?"
    long = Turn("q" * 10, "w " * 600, "answered")
    assert len(read_question("and it?", [long], max_chars=1000).query) <= 1000


def test_is_follow_up_is_deterministic_and_bounded():
    assert is_follow_up("and?") and not is_follow_up("") and not is_follow_up("and " + "word " * 20)
