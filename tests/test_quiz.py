"""Tests for coursekit.quiz: loading, validating and grading question banks."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from coursekit.quiz import (
    Bank,
    QuizBankError,
    Result,
    Score,
    grade,
    load_bank,
    parse_number,
    shuffled,
    validate_bank,
)

FIXTURES = Path(__file__).parent / "quiz_fixtures"
QUIZZES = Path(__file__).resolve().parent.parent / "notebooks" / "quizzes"
BANK = load_bank(FIXTURES / "valid.yml")
Q = BANK.question


# --------------------------------------------------------------------------- single


def test_single_right_by_index_and_by_text():
    for answer in (1, "Ankara", "  ankara "):
        result = grade(Q("capital"), answer)
        assert result.correct and result.score == 1 and result.answered
        assert result.message == "Ankara has been the capital since 1923."
        assert result.explanation == "The capital moved to Ankara when the Republic was founded."
        assert result.source == "Constitution of Turkey — https://example.org/constitution?a=1&b=2"


def test_single_wrong_gives_that_options_own_explanation():
    result = grade(Q("capital"), 0)
    assert not result.correct and result.score == 0 and result.answered
    assert result.message == "Istanbul is the largest city, not the capital."
    assert result.explanation  # the general why is shown with every answer
    assert grade(Q("capital"), "Izmir").message == "Izmir is a port on the Aegean."


@pytest.mark.parametrize("answer", [None, "", "   "])
def test_single_empty(answer):
    result = grade(Q("capital"), answer)
    assert not result.correct and not result.answered and result.score == 0
    assert result.message == "No answer yet — choose one option."
    assert result.explanation == "" and result.source == ""  # nothing given away


@pytest.mark.parametrize(
    "answer, words",
    [(7, "no option number 7"), (-1, "no option number -1"), ("Moscow", "'Moscow' is not one of the options"),
     (True, "Choose an option — got true"), ({"a": 1}, "Choose an option")],
)
def test_single_wrong_type_is_explained_not_raised(answer, words):
    result = grade(Q("capital"), answer)
    assert not result.correct and not result.answered
    assert words in result.message


# --------------------------------------------------------------------------- multiple


def test_multiple_all_right():
    for answer in ([0, 1, 3], (3, 1, 0), {0, 1, 3}, [0, 0, 1, 3],
                   ["Restrictions on Turkish food imports", "Suspending charter flights to Turkey",
                    "limits on turkish construction firms"]):
        result = grade(Q("sanctions"), answer)
        assert result.correct and result.score == 1, answer


def test_multiple_partial_credit_for_missing_picks():
    result = grade(Q("sanctions"), [0, 1])
    assert not result.correct and result.answered
    assert result.score == pytest.approx(2 / 3)
    assert "You chose 2 of the 3 right options." in result.message
    assert "1 right option is not chosen yet." in result.message


def test_multiple_wrong_pick_cancels_a_right_one_and_is_explained():
    result = grade(Q("sanctions"), [0, 1, 2])
    assert result.score == pytest.approx(1 / 3)
    assert "and 1 wrong one" in result.message
    assert "Shipping through the Straits continued." in result.message


def test_multiple_score_never_negative():
    result = grade(Q("sanctions"), [2])
    assert result.score == 0 and not result.correct and result.answered
    assert "Shipping through the Straits continued." in result.message


@pytest.mark.parametrize("answer", [[], (), set(), None, [None, ""]])
def test_multiple_empty(answer):
    result = grade(Q("sanctions"), answer)
    assert not result.answered
    assert result.message == "No answer yet — choose one or more options."


def test_multiple_single_pick_and_bad_picks():
    assert grade(Q("sanctions"), 0).score == pytest.approx(1 / 3)
    assert "no option number 9" in grade(Q("sanctions"), [0, 9]).message
    assert "Choose one or more options — got 2.5" in grade(Q("sanctions"), 2.5).message


# --------------------------------------------------------------------------- truefalse


@pytest.mark.parametrize("answer", [False, "false", "FALSE", " False "])
def test_truefalse_right(answer):
    result = grade(Q("jet"), answer)
    assert result.correct and result.score == 1
    assert result.explanation == "It was shot down on 24 November 2015."


@pytest.mark.parametrize("answer", [True, "True", "true"])
def test_truefalse_wrong_gives_the_misconception(answer):
    result = grade(Q("jet"), answer)
    assert not result.correct and result.answered
    assert result.message == "The apology came in 2016, which is easy to confuse with the incident."


def test_truefalse_empty_and_wrong_type():
    assert grade(Q("jet"), None).message == "No answer yet — choose True or False."
    result = grade(Q("jet"), "maybe")
    assert not result.answered and result.message == "Choose True or False — got 'maybe'."
    assert not grade(Q("jet"), 0).answered  # 0 is not False here: ask for a clear choice


# --------------------------------------------------------------------------- numeric


@pytest.mark.parametrize(
    "answer",
    [866256, 866256.0, "866256", "866,256", "866 256", "866\u00a0256", " 866,256 visitors",
     "866_256", 865256, 867256, "865,300"],
)
def test_numeric_right(answer):
    result = grade(Q("visitors"), answer)
    assert result.correct, answer
    assert result.message == "The answer is 866,256 visitors. Answers within ±1,000 visitors count."


def test_numeric_too_low_and_too_high():
    low = grade(Q("visitors"), "865,255")
    assert not low.correct and low.answered
    assert low.message == "865,255 visitors is too low. You may have taken one month instead of the year."
    high = grade(Q("visitors"), 867257)
    assert not high.correct
    assert high.message == "867,257 visitors is too high. You may have used the 2015 figure."


def test_numeric_percentage_tolerance():
    share = Q("share")
    assert grade(share, 77).correct  # 76.3 ± 0.763
    assert grade(share, "76.3%").correct
    assert grade(share, "75.6 %").correct
    assert "too high" in grade(share, 77.1).message
    assert "too low" in grade(share, "75.5").message
    assert grade(share, 76.3).message == "The answer is 76.3%. Answers within 1% count."


@pytest.mark.parametrize("answer", [None, "", "  "])
def test_numeric_empty(answer):
    result = grade(Q("visitors"), answer)
    assert not result.answered and result.message.startswith("No answer yet — ")


@pytest.mark.parametrize(
    "answer, message",
    [("abc", "Type a number, for example 1234 — got 'abc'."),
     ("nan", "Type a number, for example 1234 — got 'nan'."),
     ("inf", "Type a number, for example 1234 — got 'inf'."),
     (True, "Type a number, for example 1234 — got true."),
     ([1], "Type a number, for example 1234 — got [1]."),
     ("86,62,56", "Type a number, for example 1234 — got '86,62,56'. Use a point for decimals")],
)
def test_numeric_wrong_type(answer, message):
    result = grade(Q("visitors"), answer)
    assert not result.answered and not result.correct
    assert result.message.startswith(message)


def test_parse_number():
    assert parse_number("1,234.5") == 1234.5
    assert parse_number("-12") == -12
    assert parse_number("3,5").startswith("Type a number")  # a decimal comma is ambiguous: say so
    assert parse_number("12 km", unit="km") == 12


# --------------------------------------------------------------------------- order

ORDER = ["Su-24 shot down", "Russian sanctions decree", "Erdogan's letter of regret",
         "Putin–Erdogan meeting in St Petersburg"]


def test_order_right():
    result = grade(Q("events"), ORDER)
    assert result.correct and result.score == 1
    assert grade(Q("events"), tuple(s.upper() for s in ORDER)).correct


def test_order_partial_says_how_many_and_first_out_of_place():
    answer = [ORDER[0], ORDER[1], ORDER[3], ORDER[2]]
    result = grade(Q("events"), answer)
    assert not result.correct and result.score == 0.5
    assert result.message.startswith(
        "2 of 4 items are in the right place. The first one out of place is position 3 "
        "(“Putin–Erdogan meeting in St Petersburg”).")
    assert "The letter came before the meeting" in result.message


def test_order_all_wrong():
    result = grade(Q("events"), list(reversed(ORDER)))
    assert result.score == 0 and "position 1" in result.message


@pytest.mark.parametrize("answer", [None, [], [None] * 4, ["", None, "", None]])
def test_order_empty(answer):
    assert grade(Q("events"), answer).message == "No answer yet — choose an item for every position."


@pytest.mark.parametrize(
    "answer, words",
    [([ORDER[0], None, ORDER[2], None], "Not finished — choose an item for positions 2 and 4."),
     ([ORDER[0], ORDER[0], ORDER[2], ORDER[3]], "“Su-24 shot down” is chosen more than once"),
     ([ORDER[0], ORDER[1], ORDER[2], "Coup attempt"], "'Coup attempt' is not one of the items"),
     (ORDER[:3], "Put all 4 items in order — got 3."),
     ("Su-24 shot down", "give a list of the 4 items")],
)
def test_order_incomplete_or_bad(answer, words):
    result = grade(Q("events"), answer)
    assert not result.answered and words in result.message


# --------------------------------------------------------------------------- match

RIGHT_PAIRS = {"Erdogan": "President of Turkey", "Putin": "President of Russia",
               "Yildirim": "Prime Minister of Turkey"}


def test_match_right():
    assert grade(Q("people"), RIGHT_PAIRS).correct
    assert grade(Q("people"), {k.lower(): v.upper() for k, v in RIGHT_PAIRS.items()}).correct


def test_match_partial_names_the_wrong_pairs():
    answer = dict(RIGHT_PAIRS, Erdogan="Prime Minister of Turkey", Yildirim="President of Turkey")
    result = grade(Q("people"), answer)
    assert not result.correct and result.score == pytest.approx(1 / 3)
    assert result.message.startswith(
        "1 of 3 pairs are right. Not right yet: “Erdogan” → “Prime Minister of Turkey”; "
        "“Yildirim” → “President of Turkey”.")
    assert "easy to mix up" in result.message


@pytest.mark.parametrize("answer", [None, {}, {"Erdogan": None, "Putin": ""}])
def test_match_empty(answer):
    assert grade(Q("people"), answer).message == "No answer yet — choose a match for every item."


@pytest.mark.parametrize(
    "answer, words",
    [({"Erdogan": "President of Turkey"}, "Not finished — choose a match for “Putin”, “Yildirim”."),
     (dict(RIGHT_PAIRS, Davutoglu="x"), "'Davutoglu' is not one of the items on the left"),
     (dict(RIGHT_PAIRS, Putin="Tsar"), "'Tsar' is not one of the choices for “Putin”"),
     (["Erdogan"], "give a mapping from left to right")],
)
def test_match_incomplete_or_bad(answer, words):
    result = grade(Q("people"), answer)
    assert not result.answered and words in result.message


# --------------------------------------------------------------------------- shuffles


def test_shuffles_are_deterministic_and_never_the_correct_order():
    events = Q("events")
    assert events.shown_items() == events.shown_items()
    assert events.shown_items() != list(events.items)
    assert sorted(events.shown_items()) == sorted(events.items)
    rights = [p.right for p in Q("people").pairs]
    assert Q("people").shown_rights() != rights and sorted(Q("people").shown_rights()) == sorted(rights)


def test_shuffled_never_returns_the_original_order_for_any_seed():
    for values in (["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d"]):
        for k in range(200):
            out = shuffled(values, f"q{k}")
            assert out != values and sorted(out) == values
            assert out == shuffled(values, f"q{k}")


def test_shuffle_is_the_same_in_a_fresh_process_with_another_hash_seed():
    code = ("from coursekit.quiz import load_bank; "
            f"print(load_bank({str(FIXTURES / 'valid.yml')!r}).question('events').shown_items())")
    outputs = {
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env={"PYTHONHASHSEED": seed}).stdout
        for seed in ("1", "2")
    }
    assert outputs == {f"{Q('events').shown_items()}\n"}


# --------------------------------------------------------------------------- score


def test_bank_score_counts_answered_and_correct():
    results = {
        "capital": grade(Q("capital"), 1),
        "jet": grade(Q("jet"), True),
        "visitors": grade(Q("visitors"), "abc"),  # not an answer
        "elsewhere": Result(True, 1.0, "", "", ""),  # not in this bank
    }
    score = BANK.score(results)
    assert score == Score(answered=2, correct=1, total=7)
    assert str(score) == "Score: 1 of 7 answered correctly; 2 answered"
    assert str(BANK.score({})) == "Score: 0 of 7 answered correctly; 0 answered"


def test_correct_answer_grades_correct_for_every_fixture_question():
    for question in BANK.questions:
        assert grade(question, question.correct_answer()).correct, question.id


# --------------------------------------------------------------------------- loading


def test_load_bank_builds_questions():
    assert isinstance(BANK, Bank)
    assert (BANK.lesson, BANK.title, len(BANK.questions)) == ("99", "Fixture quiz <all types>", 7)
    assert [q.type for q in BANK.questions] == [
        "single", "multiple", "truefalse", "numeric", "numeric", "order", "match"]
    assert Q("visitors").tolerance == 1000 and Q("share").tolerance_pct == 1
    with pytest.raises(KeyError):
        Q("nope")


def test_load_bank_yaml_syntax_error_names_file_and_line():
    with pytest.raises(QuizBankError) as info:
        load_bank(FIXTURES / "syntax_error.yml")
    message = str(info.value)
    assert message.startswith(f"{FIXTURES / 'syntax_error.yml'}, line 6, column 19: YAML syntax error")
    assert "Fix:" in message and "double quotes" in message
    assert "<unicode string>" not in message and "Traceback" not in message
    assert info.value.__cause__ is None and info.value.__suppress_context__  # no yaml traceback
    assert isinstance(info.value, ValueError)


def test_load_bank_rejects_a_duplicate_field():
    with pytest.raises(QuizBankError, match=r"duplicate_field\.yml, line 10, column 5: duplicate field 'explanation'"):
        load_bank(FIXTURES / "duplicate_field.yml")


def test_load_bank_lists_every_problem():
    with pytest.raises(QuizBankError) as info:
        load_bank(FIXTURES / "several_problems.yml")
    assert len(info.value.problems) == 2
    message = str(info.value)
    assert "several_problems.yml: 2 problems in this quiz bank" in message
    assert "question 'q1' (#1, line 5), field 'options': a single-choice question needs exactly one" in message
    assert "question 'q1' (#2, line 16), field 'id': duplicate id 'q1', already used by question #1" in message


def test_load_bank_empty_and_missing_files(tmp_path):
    with pytest.raises(QuizBankError, match="empty.yml: the bank is empty"):
        load_bank(FIXTURES / "empty.yml")
    with pytest.raises(QuizBankError, match="no such quiz bank"):
        load_bank(tmp_path / "42.yml")


def test_load_bank_lesson_must_match_file_name(tmp_path):
    shutil.copy(FIXTURES / "valid.yml", tmp_path / "03.yml")
    with pytest.raises(QuizBankError, match=r"field 'lesson': is '99' but the file is 03.yml"):
        load_bank(tmp_path / "03.yml")


def test_course_file_sources_must_exist(tmp_path):
    data = copy.deepcopy(BASE)
    data["lesson"] = "05"
    _question(data, "jet")["source"] = {"title": "Lesson 05, section 2", "url": "../05_lesson.ipynb"}
    (tmp_path / "quizzes").mkdir()
    bank_file = tmp_path / "quizzes" / "05.yml"
    bank_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(QuizBankError) as info:
        load_bank(bank_file)
    assert "question 'jet' (#3), field 'source.url': course file '../05_lesson.ipynb' not found" in str(info.value)
    (tmp_path / "05_lesson.ipynb").write_text("{}", encoding="utf-8")
    source = load_bank(bank_file).question("jet").source
    assert not source.is_web
    assert str(source) == "Lesson 05, section 2 (05_lesson.ipynb)"
    assert grade(load_bank(bank_file).question("jet"), True).source == "Lesson 05, section 2 (05_lesson.ipynb)"


# --------------------------------------------------------------------------- validation

BASE = yaml.safe_load((FIXTURES / "valid.yml").read_text(encoding="utf-8"))


def _question(data, qid):
    return next(q for q in data["questions"] if q.get("id") == qid)


def _set(qid, **changes):
    def change(data):
        _question(data, qid).update(changes)
    return change


def _drop(qid, *fields):
    def change(data):
        for name in fields:
            del _question(data, qid)[name]
    return change


VALIDATION_CASES = [
    # (change, question label, field, words in what is wrong)
    (_drop("capital", "type"), "question 'capital' (#1)", "type", "is missing"),
    (_set("capital", type="singel"), "question 'capital'", "type", "unknown type 'singel'. Fix: did you mean 'single'?"),
    (_set("sanctions", id="capital"), "question 'capital' (#2)", "id", "duplicate id 'capital', already used by question #1"),
    (_set("capital", id="Q 1"), "question 'Q 1' (#1)", "id", "'Q 1' is not a valid id"),
    (_drop("capital", "id"), "question #1", "id", "is missing"),
    (lambda d: _question(d, "capital")["options"][0].update(correct=True),
     "question 'capital'", "options", "needs exactly one option with `correct: true`, found 2"),
    (lambda d: _question(d, "capital")["options"][1].update(correct=False),
     "question 'capital'", "options", "needs exactly one option with `correct: true`, found 0"),
    (lambda d: [o.update(correct=False) for o in _question(d, "sanctions")["options"]],
     "question 'sanctions'", "options", "needs at least one option with `correct: true`, found none"),
    (lambda d: _question(d, "capital")["options"][0].pop("explanation"),
     "question 'capital'", "options[1].explanation", "option 1 ('Istanbul') is a wrong option and its explanation is missing"),
    (lambda d: _question(d, "sanctions")["options"][2].update(explanation="  "),
     "question 'sanctions'", "options[3].explanation", "is a wrong option and its explanation is empty"),
    (lambda d: _question(d, "capital")["options"][2].update(text=False),
     "question 'capital'", "options[3].text", "must be text, got false (YAML reads yes/no"),
    (lambda d: _question(d, "capital")["options"][2].update(text="ankara"),
     "question 'capital'", "options[3].text", "repeats option 2"),
    (_set("capital", options=[{"text": "Ankara", "correct": True}]), "question 'capital'", "options", "needs at least 2 options, found 1"),
    (_drop("jet", "source"), "question 'jet'", "source", "is missing"),
    (_set("jet", source="Wikipedia"), "question 'jet'", "source", "must be a mapping"),
    (_set("jet", source={"title": "Timeline", "url": "javascript:alert(1)"}), "question 'jet'", "source.url",
     "'javascript:alert(1)' is neither a web address nor a course file"),
    (_set("jet", source={"title": "Timeline", "url": "/etc/passwd"}), "question 'jet'", "source.url",
     "is neither a web address nor a course file"),
    (_set("jet", source={"url": "https://example.org"}), "question 'jet'", "source.title", "is missing"),
    (_set("jet", source={"dataset": "tourism_annual", "url": "https://x.org"}), "question 'jet'", "source", "has both dataset and title/url"),
    (_drop("visitors", "answer"), "question 'visitors'", "answer", "is missing"),
    (_set("visitors", answer="866,256"), "question 'visitors'", "answer", "must be a number, got '866,256'"),
    (_drop("visitors", "tolerance"), "question 'visitors'", "tolerance", "is missing"),
    (_set("visitors", tolerance=-5), "question 'visitors'", "tolerance", "must be a number of 0 or more, got -5"),
    (_set("share", tolerance_pct=-1), "question 'share'", "tolerance_pct", "must be a number of 0 or more"),
    (_set("visitors", tolerance_pct=1), "question 'visitors'", "tolerance", "both tolerance and tolerance_pct are given"),
    (_drop("visitors", "too_low"), "question 'visitors'", "too_low", "is missing"),
    (_drop("visitors", "too_high"), "question 'visitors'", "too_high", "is missing"),
    (_drop("jet", "wrong_explanation"), "question 'jet'", "wrong_explanation", "is missing"),
    (_set("jet", answer="false"), "question 'jet'", "answer", "must be true or false, got 'false'"),
    (_set("events", items=["a", "b"]), "question 'events'", "items", "needs at least 3 items, found 2"),
    (_set("events", items=["a", "b", "A"]), "question 'events'", "items[3]", "item 3 ('A') is a duplicate"),
    (_drop("events", "wrong_explanation"), "question 'events'", "wrong_explanation", "is missing"),
    (_set("people", pairs=[{"left": "a", "right": "b"}]), "question 'people'", "pairs", "needs at least 2 pairs, found 1"),
    (_set("people", pairs=[{"left": "a", "right": "b"}, {"left": "a", "right": "c"}]),
     "question 'people'", "pairs[2].left", "pair 2: left value 'a' is used twice"),
    (_set("people", pairs=[{"left": "a", "right": "b"}, {"left": "c", "right": "b"}]),
     "question 'people'", "pairs[2].right", "pair 2: right value 'b' is used twice"),
    (_drop("people", "wrong_explanation"), "question 'people'", "wrong_explanation", "is missing"),
    (_drop("people", "prompt"), "question 'people'", "prompt", "is missing"),
    (_set("people", prompt=""), "question 'people'", "prompt", "is empty"),
    (_drop("people", "objective"), "question 'people'", "objective", "is missing"),
    (_set("people", objective=0), "question 'people'", "objective", "must be a whole number from 1, got 0"),
    (_drop("people", "explanation"), "question 'people'", "explanation", "is missing"),
    (_set("visitors", tolerence=5), "question 'visitors'", "tolerence", "unknown field for a numeric question. Fix: did you mean 'tolerance'?"),
    (_set("jet", options=[]), "question 'jet'", "options", "unknown field for a truefalse question"),
    (_set("visitors", answer=10**400), "question 'visitors'", "answer", "a number with more than 60 digits"),
    (lambda d: _question(d, "capital")["options"][2].update(text="Ank\u200bara"),
     "question 'capital'", "options[3].text", "repeats option 2"),
    (lambda d: _question(d, "capital")["options"][2].update(text="\u200b\u2060"),
     "question 'capital'", "options[3].text", "has only invisible characters"),
    (_set("events", items=["a", "b", "b\u200b"]), "question 'events'", "items[3]", "is a duplicate"),
    (_set("people", pairs=[{"left": "a", "right": "b"}, {"left": "a\u00ad", "right": "c"}]),
     "question 'people'", "pairs[2].left", "is used twice"),
]


@pytest.mark.parametrize(
    "change, label, field, words", VALIDATION_CASES,
    ids=[f"{case[1].split()[1]}-{case[2]}-{k}" for k, case in enumerate(VALIDATION_CASES)],
)
def test_validation_names_file_question_field_and_fix(change, label, field, words):
    data = copy.deepcopy(BASE)
    change(data)
    problems = validate_bank(data, where="quizzes/07.yml")
    matching = [p for p in problems if f"{label}" in p and f"field '{field}'" in p and words in p]
    assert matching, "\n".join(problems)
    assert matching[0].startswith("quizzes/07.yml: question ")
    assert "Fix: " in matching[0]


def test_valid_fixture_has_no_problems():
    assert validate_bank(copy.deepcopy(BASE), where="valid.yml") == []


@pytest.mark.parametrize(
    "data, field, words",
    [(None, None, "the bank is empty"),
     (["q1"], None, "the bank is a list, not a mapping"),
     ({**BASE, "lesson": 0}, "lesson", "must be text in quotes, got the number 0"),
     ({**BASE, "title": ""}, "title", "is empty"),
     ({**BASE, "questions": []}, "questions", "is missing or empty"),
     ({**BASE, "question": []}, "question", "unknown field. Fix: did you mean 'questions'?"),
     ({**BASE, "questions": ["q1"]}, None, "question #1: is 'q1', not a question")],
)
def test_validation_of_the_bank_itself(data, field, words):
    problems = validate_bank(data, where="b.yml")
    matching = [p for p in problems if words in p and (field is None or f"field '{field}'" in p)]
    assert matching, problems
    assert matching[0].startswith("b.yml: ") and "Fix: " in matching[0]


# --------------------------------------------------------------------------- the course's banks

COURSE_BANKS = sorted(QUIZZES.glob("*.yml"))


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=p.name) for p in COURSE_BANKS]
    or [pytest.param(None, id="no-banks", marks=pytest.mark.skip(reason="no banks in notebooks/quizzes/ yet"))],
)
def test_course_bank_loads_and_its_answers_grade_correct(path):
    bank = load_bank(path)
    assert bank.lesson == path.stem and bank.questions
    for question in bank.questions:
        assert grade(question, question.correct_answer()).correct, question.id
        if question.type == "order":
            assert question.shown_items() != list(question.items)



# --------------------------------------------------------------------------- bad input


def _bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{k}: &a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]" for k in range(1, levels)]
    return "\n".join(lines) + f"\nlesson: *a{levels - 1}\ntitle: x\nquestions: []\n"


@pytest.mark.parametrize("levels", [2, 9])
def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path, levels):
    import time

    bank = tmp_path / "00.yml"
    bank.write_text(_bomb(levels), encoding="utf-8")
    assert levels < 9 or len(bank.read_bytes()) < 700  # the 600-byte bomb
    started = time.perf_counter()
    with pytest.raises(QuizBankError, match=r"00.yml, line 1: the block .* YAML alias \(\*name\); aliases are "
                                             r"not allowed in quiz banks. Fix:"):
        load_bank(bank)
    assert time.perf_counter() - started < 2


def test_a_bank_path_that_is_a_folder_gets_a_message(tmp_path):
    with pytest.raises(QuizBankError, match="is a folder, not a quiz bank. Fix:"):
        load_bank(tmp_path)


def test_a_course_file_source_may_not_leave_the_course(tmp_path):
    data = copy.deepcopy(BASE)
    data["lesson"] = "05"
    _question(data, "jet")["source"] = {"title": "Secrets", "url": "../" * 30 + "etc/passwd"}
    (tmp_path / "quizzes").mkdir()
    bank_file = tmp_path / "quizzes" / "05.yml"
    bank_file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(QuizBankError, match="field 'source.url': '(../)+etc/passwd' points outside the course folder"):
        load_bank(bank_file)


class _Unprintable:
    def __repr__(self):
        raise RuntimeError("no repr")


@pytest.mark.parametrize("qid", ["capital", "sanctions", "jet", "visitors", "events", "people"])
def test_an_answer_whose_repr_raises_gets_a_message(qid):
    result = grade(Q(qid), _Unprintable())
    assert not result.answered and "_Unprintable that cannot be shown" in result.message


def test_an_endless_iterator_does_not_hang_a_multiple_choice_question():
    import itertools

    result = grade(Q("sanctions"), itertools.count())
    assert not result.answered and "got more than" in result.message
    assert not grade(Q("sanctions"), itertools.repeat("nonsense")).answered
    assert "Choose one or more options" in grade(Q("sanctions"), __import__("numpy").array(1)).message


def test_a_huge_number_typed_as_an_answer_gets_a_message():
    for answer in (10**400, -(10**400)):
        result = grade(Q("visitors"), answer)
        assert not result.answered and "too large" in result.message
    assert not grade(Q("visitors"), "1" + "0" * 400).answered


def test_numpy_booleans_and_invisible_characters_are_accepted_as_answers():
    import numpy as np

    right = Q("jet").answer
    assert grade(Q("jet"), np.bool_(right)).correct and not grade(Q("jet"), np.bool_(not right)).correct
    assert grade(Q("capital"), "An\u200bkara").correct
