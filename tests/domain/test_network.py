"""Allies outside the team, and who to ask for a need."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlpilot.domain.network import (
    Ally,
    Consultation,
    Relation,
    make_ally,
    rank_allies,
    words,
)
from mlpilot.errors import ValidationError

AT = datetime(2026, 3, 1, tzinfo=UTC)


def ally(person: str, *expertise: str, relation: Relation = Relation.OTHER) -> Ally:
    return make_ally(person, relation, list(expertise))


def ranked(allies, need, consultations=()):
    return [match.ally.person for match in rank_allies(allies, need, consultations)]


def asked(*people: str) -> list[Consultation]:
    return [Consultation(AT, person, "something") for person in people]


# --- make_ally ------------------------------------------------------------------------------


def test_make_ally_normalizes():
    made = make_ally("  Ann ", "Staff_Engineer", ["Kafka, Spark", "kafka"], team="  Platform ")
    assert made == Ally("Ann", Relation.STAFF_ENGINEER, ("kafka", "spark"), "Platform")


def test_make_ally_blank_team_is_none():
    assert make_ally("ann", "legal", ["gdpr"], team=" ").team is None


@pytest.mark.parametrize("expertise", [[], [""], [" , "]])
def test_make_ally_needs_an_expertise_tag(expertise):
    with pytest.raises(ValidationError, match="at least one expertise tag"):
        make_ally("ann", "legal", expertise)


def test_make_ally_unknown_relation_lists_the_relations():
    with pytest.raises(ValidationError, match="unknown relation 'friend'") as info:
        make_ally("ann", "friend", ["gdpr"])
    assert all(relation.value in str(info.value) for relation in Relation)


def test_make_ally_blank_person_is_refused():
    with pytest.raises(ValidationError, match="person must not be empty"):
        make_ally(" ", "legal", ["gdpr"])


# --- words ----------------------------------------------------------------------------------


def test_words_drops_stop_words_and_punctuation():
    assert words("Who can help us with the GDPR?") == {"gdpr"}


@pytest.mark.parametrize(
    ("plural", "singular"),
    [("labeling", "label"), ("labels", "label"), ("queries", "query"), ("models", "model"),
     ("forecasting", "forecast"), ("tested", "test")],
)  # fmt: skip
def test_words_stems_suffixes(plural, singular):
    assert words(plural) == words(singular)


def test_words_keeps_short_words():
    assert words("ops bus") == {"ops", "bus"}


# --- rank_allies ----------------------------------------------------------------------------


def test_matching_ally_ranks_first_and_others_are_excluded():
    allies = [ally("bob", "kafka"), ally("ann", "forecasting"), ally("cat", "design")]
    matches = rank_allies(allies, "help with forecasting demand")
    assert [m.ally.person for m in matches] == ["ann"]
    assert matches[0].matched == ("forecast",)
    assert matches[0].score > 0


def test_no_match_gives_an_empty_list():
    assert rank_allies([ally("bob", "kafka")], "pricing") == []


def test_no_allies_gives_an_empty_list():
    assert rank_allies([], "pricing") == []


def test_a_rarer_matching_tag_outranks_a_common_one():
    allies = [ally("bob", "sql"), ally("cat", "sql", "spark"), ally("dan", "sql", "airflow"),
              ally("zed", "forecasting")]  # fmt: skip
    assert ranked(allies, "sql forecasting") == ["zed", "bob", "cat", "dan"]


def test_more_matching_words_outrank_fewer():
    allies = [ally("bob", "forecasting"), ally("cat", "forecasting", "retail")]
    assert ranked(allies, "retail forecasting") == ["cat", "bob"]


def test_ties_are_broken_by_consultations_then_name():
    allies = [ally("max", "sql"), ally("zoe", "sql"), ally("amy", "sql"), ally("kim", "sql")]
    matches = rank_allies(allies, "sql", asked("zoe", "zoe", "kim", "nobody"))
    assert [m.ally.person for m in matches] == ["zoe", "kim", "amy", "max"]
    assert [m.consultations for m in matches] == [2, 1, 0, 0]
    assert len({m.score for m in matches}) == 1


def test_score_beats_consultations():
    allies = [ally("bob", "sql"), ally("cat", "sql"), ally("zed", "sql", "pricing")]
    assert ranked(allies, "sql pricing", asked("bob", "bob", "bob"))[0] == "zed"


def test_stemming_matches_inflected_needs():
    allies = [ally("ann", "labels"), ally("bob", "query")]
    assert ranked(allies, "labeling") == ["ann"]
    assert ranked(allies, "slow queries") == ["bob"]


def test_plural_need_matches_singular_expertise_ending_in_e():
    assert ranked([ally("dan", "pipeline")], "pipelines") == ["dan"]


def test_relation_keywords_match_without_a_tag():
    allies = [ally("lea", "contracts", relation=Relation.LEGAL), ally("bob", "kafka")]
    matches = rank_allies(allies, "gdpr question")
    assert [m.ally.person for m in matches] == ["lea"]
    assert matches[0].matched == ("gdpr",)


def test_relation_name_matches():
    allies = [ally("sam", "pentest", relation=Relation.SECURITY), ally("bob", "kafka")]
    assert ranked(allies, "security review") == ["sam"]


def test_consultations_of_unranked_people_do_not_matter():
    matches = rank_allies([ally("bob", "sql")], "sql", asked("ann"))
    assert matches[0].consultations == 0


@pytest.mark.parametrize("need", ["", "   "])
def test_empty_need_is_refused(need):
    with pytest.raises(ValidationError, match="need must not be empty"):
        rank_allies([ally("bob", "sql")], need)


@pytest.mark.parametrize("need", ["who can help us", "the", "?!", "a and the or"])
def test_need_of_only_stop_words_is_refused(need):
    with pytest.raises(ValidationError, match="no words to match"):
        rank_allies([ally("bob", "sql")], need)


# --- properties -----------------------------------------------------------------------------

TAGS = ["sql", "forecasting", "pipelines", "gdpr", "pricing", "kafka", "labels", "retail"]
allies_strategy = st.lists(
    st.builds(
        Ally,
        person=st.sampled_from(["ann", "bob", "cat", "dan", "eve"]),
        relation=st.sampled_from(Relation),
        expertise=st.lists(st.sampled_from(TAGS), min_size=1, max_size=3, unique=True).map(tuple),
    ),
    max_size=8,
)


@settings(deadline=None)
@given(
    allies=allies_strategy,
    need=st.lists(st.sampled_from([*TAGS, "data", "privacy", "question"]), min_size=1, max_size=3),
    consulted=st.lists(st.sampled_from(["ann", "bob", "zed"]), max_size=5),
)
def test_rank_allies_properties(allies, need, consulted):
    text = " ".join(need)
    matches = rank_allies(allies, text, asked(*consulted))
    need_words = words(text)

    assert len(matches) <= len(allies)
    for match in matches:
        assert match.score > 0
        assert match.matched
        assert list(match.matched) == sorted(match.matched)
        assert set(match.matched) <= need_words
        assert match.consultations == consulted.count(match.ally.person)
    keys = [(-m.score, -m.consultations, m.ally.person) for m in matches]
    assert keys == sorted(keys)
    ranked_allies = [m.ally for m in matches]
    for candidate in allies:
        if need_words & words(" ".join(candidate.expertise)):
            assert candidate in ranked_allies
