import pytest

from edubot.safety import looks_english, normalize, triage


@pytest.mark.parametrize("text", [
    "I have crushing chest pain", "i cant breathe", "I want to kill myself", "thinking about ending my life",
    "I took too many pills", "I think I overdosed", "my hip suddenly hurts, I have a fever and I can't move my leg",
    "my father passed out", "I have been cutting myself", "she is having a seizure", "my face is drooping",
    "I don't want to live anymore", "heavy bleeding won't stop", "suicidal thoughts",
])
def test_emergencies_are_urgent(text):
    assert triage(text, 1000).status == "urgent"


@pytest.mark.parametrize("text", [
    "Should I get core decompression or stem cells?", "How much ibuprofen should I take?", "Can I stop taking my prednisone?",
    "Which treatment is best for me?", "Am I a candidate for stem cell therapy?", "Is stem cell therapy right for me?",
    "do I need surgery for my avn", "what should I do about my hip pain", "can i switch my medication",
])
def test_personal_advice(text):
    assert triage(text, 1000).status == "personal_advice"


@pytest.mark.parametrize("text", [
    "What is osteonecrosis?", "tantalum", "how many patients were in the case report", "what causes avascular necrosis",
    "is stem cell therapy approved by the FDA", "Hernigou 2002",
])
def test_educational_questions_go_on(text):
    t = triage(text, 1000)
    assert t.status is None and t.english


@pytest.mark.parametrize("text,reason", [("", "empty"), ("   \n\t ", "empty"), ("\u200b\u200b", "empty"),
                                         ("???", "unreadable"), ("12345", "unreadable")])
def test_unusable_input(text, reason):
    t = triage(text, 1000)
    assert t.status == "invalid" and t.reason == reason


def test_too_long():
    t = triage("why " * 400, 1000)
    assert t.status == "invalid" and t.reason.startswith("too_long")


def test_normalize_removes_invisible_and_direction_characters():
    assert normalize("what\u200b is\u202e osteo\u0000necrosis\r\n") == "what is osteonecrosis"
    assert normalize("ＡＶＮ") == "AVN"


@pytest.mark.parametrize("text,english", [
    ("¿Qué es la osteonecrosis de cadera?", False), ("Was ist eine Osteonekrose und wie wird sie behandelt?", False),
    ("骨坏死是什么", False), ("What is osteonecrosis of the hip?", True), ("avn", True),
])
def test_language_detection(text, english):
    assert looks_english(text) is english
