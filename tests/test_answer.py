"""Answer spans: verbatim, of the type the question asks for, never repeating the question."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qa.answer import (
    FEATURES,
    Span,
    agents,
    asks_for_action,
    asks_object_before_phrase,
    asks_what_was_said,
    asks_who_did,
    asks_who_is,
    asks_who_said,
    candidate_features,
    complete_list,
    complete_subject,
    descriptions,
    extract_span,
    finish_span,
    objects_after_verb,
    objects_before_phrase,
    places,
    question_kind,
    reported_speech,
    slot_is_subject,
    speakers,
    typed_candidates,
    verb_phrases,
    wh_head,
    wh_word,
    word_key,
)


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many people live there?", "number"),
        ("When did the war start?", "date"),
        ("In which year was it built?", "date"),
        ("Who is the mayor?", "name"),
        ("Where did they meet?", "name"),
        ("Why did it fail?", None),
    ],
)
def test_question_kind(question, kind):
    assert question_kind(question) == kind


def test_wh_word():
    assert wh_word("Stanwyk's real plan was to kill who?") == "who"
    assert wh_word("In what city does it happen?") == "what"
    assert wh_word("Name the capital.") == "other"


SENTENCE = "Speaking to the BBC, Serhiy Orlov, the city's deputy mayor, said 1,207 people were killed by March 9, 2022."


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("How many people were killed, according to the deputy mayor?", "1,207"),
        ("Who is the city's deputy mayor?", "Serhiy Orlov"),
    ],
)
def test_typed_questions_get_the_typed_span(question, expected):
    span = extract_span(question, SENTENCE)
    assert span is not None
    assert SENTENCE[span.start : span.end] == expected


def test_span_never_repeats_the_question():
    span = extract_span("What did Serhiy Orlov tell the BBC?", SENTENCE)
    if span is not None:
        text = SENTENCE[span.start : span.end].lower()
        assert "orlov" not in text and "bbc" not in text


def test_sentence_initial_function_words_are_not_names():
    assert (0, 7) not in typed_candidates("However, Kuleba said he was ready.", "name")
    spans = [
        ("However, Kuleba said he was ready."[s:e])
        for s, e in typed_candidates("However, Kuleba said he was ready.", "name")
    ]
    assert "Kuleba" in spans


def test_whole_sentence_is_always_a_candidate():
    cands = candidate_features("Why did the talks fail?", "It rained.")
    assert any(k == "sentence" and (s, e) == (0, len("It rained.")) for s, e, k, _ in cands)


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=120), st.text(min_size=1, max_size=60))
def test_spans_are_always_inside_the_sentence(sentence, question):
    span = extract_span(question, sentence)
    if span is not None:
        assert 0 <= span.start < span.end <= len(sentence)
        assert sentence[span.start : span.end].strip() == sentence[span.start : span.end]


@pytest.mark.parametrize(
    ("question", "head"),
    [
        ("Which military unit is holding the port?", {"military", "unit"}),
        ("What kinds of shops were looted?", {"shops"}),
        ("Which Acme official spoke first?", {"official", "spoke"}),
        ("What did the minister say?", set()),
        ("How many people live there?", set()),
    ],
)
def test_wh_head_is_the_asked_about_noun(question, head):
    assert wh_head(question) == head


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("Who has surrounded the town?", True),
        ("Which alliance refused to help?", True),
        ("What has the alliance ruled out?", False),
        ("What did Smith blame the storm for?", False),
        ("Which week of the war has it entered?", False),
        ("What were workers at the port loading onto the ships?", False),  # a bare noun, then its verb
        ("Whose boats have mysteriously disappeared?", True),  # an adverb is no subject
        ("Which crew is known for its speed?", True),
    ],
)
def test_slot_is_subject(question, subject):
    assert slot_is_subject(question) is subject


def test_the_asked_about_noun_may_be_inside_the_answer():
    sentence = "Witnesses described looted shoe shops and bakeries across the town."
    spans = [sentence[s:e] for s, e, _k, _f in candidate_features("What kinds of shops were looted?", sentence)]
    assert "shoe shops and bakeries" in spans


def test_durations_are_quantities():
    sentence = "The two ministers met for about an hour and a half on Thursday."
    span = extract_span("How long did the ministers meet?", sentence)
    assert span is not None and sentence[span.start : span.end] == "about an hour and a half"


def test_possessives_of_question_words_are_question_words():
    sentence = "Jane Roe, a senior official of the Acme’s board, spoke first."
    spans = [sentence[s:e] for s, e, _k, _f in candidate_features("Which Acme official spoke first?", sentence)]
    assert "Acme’s" not in spans and "Jane Roe" in spans


def test_reason_clauses_are_candidates():
    sentence = "The bridge matters because it links the two halves of the city, officials said."
    spans = [
        sentence[s:e] for s, e, k, _f in candidate_features("Why does the bridge matter?", sentence) if k == "clause"
    ]
    assert "it links the two halves of the city" in spans


def test_word_runs_never_cut_a_number():
    sentence = "The mayor said the death toll is 1,207 and 3.5 million people are trapped."
    spans = [sentence[s:e] for s, e, _k, _f in candidate_features("What death toll did he give?", sentence)]
    assert not any(t.endswith(("1", "3")) or t.startswith(("207", "5 ")) for t in spans)
    assert any("1,207" in t for t in spans)


def _features(question: str, sentence: str) -> dict[str, dict[str, float]]:
    return {sentence[s:e]: f for s, e, _k, f in candidate_features(question, sentence)}


def test_object_answer_fills_the_gap_after_the_question_words():
    sentence = "The council has ruled out raising the rents over the winter, the chairman said."
    feats = _features("What has the council ruled out?", sentence)
    assert feats["raising the rents"].get("object_x_gap") == 1.0  # starts after "ruled out", ends before "over"
    assert not feats["rents"].get("object_x_gap")
    assert not feats["raising the rents over the winter, the chairman"].get("ends_at_boundary")


def test_question_and_sentence_words_match_on_stems():
    sentence = "The rebels hoped to begin liberating their villages from the occupiers."
    feats = _features("What did the rebels want to liberate?", sentence)
    assert "liberating" not in feats  # "liberate" is a question word, so it is not an answer
    assert feats["villages"].get("object_x_gap") == 1.0


def test_abbreviations_are_not_cut():
    sentence = "Meanwhile, the U.S. government wants to turn the valley into a national park."
    spans = _features("What does the government want to turn the valley into?", sentence)
    assert not {"U", "S", "U.", "S."} & set(spans)
    clauses = [
        sentence[s:e] for s, e, k, _f in candidate_features("Why is he here?", "He came to warn Mr. Smith about it.")
    ]
    assert "warn Mr" not in clauses


def test_why_questions_are_answered_by_a_reason_clause():
    sentence = "For Acme, buying Vertex would be a coup because it would give Acme the Berlin market."
    kinds = {k for _s, _e, k, _f in candidate_features("Why would buying Vertex be a coup for Acme?", sentence)}
    assert kinds == {"clause"}


def test_appositives_and_parentheses_are_marked():
    sentence = "Jon Hale, a retired pilot, meets Ana Ruiz (Maria Cole) at the airport."
    feats = _features("What is Jon Hale's job?", sentence)
    assert feats["retired pilot"].get("appositive_after_anchor") == 1.0
    assert feats["Maria Cole"].get("in_parentheses") == 1.0


def test_headless_what_questions_mark_names():
    sentence = "The mayor complained about the price of bread in Springfield."
    headless = _features("What did the mayor complain about?", sentence)
    with_head = _features("What town did the mayor complain about?", sentence)
    assert headless["Springfield"].get("what_headless_x_name") == 1.0
    assert not with_head["Springfield"].get("what_headless_x_name")


def test_a_span_cut_short_inside_a_list_is_completed():
    sentence = "Villagers say they lack bread, milk, fuel and medicine, the aid group reported."
    start = sentence.index("bread")
    end = complete_list("What do the villagers lack?", sentence, start, sentence.index(", fuel"))
    assert sentence[start:end] == "bread, milk, fuel and medicine"
    short = Span(sentence.index("fuel"), sentence.index(" and medicine"), "run", 0.0)
    done = finish_span("What do they lack?", sentence, short)
    assert sentence[done.start : done.end] == "fuel and medicine"


def test_list_completion_stops_where_no_list_goes_on():
    sentence = "The army of Brevia defeats Carthia and occupies the capital."
    start = sentence.index("Carthia")
    end = start + len("Carthia")
    assert complete_list("Who does the army of Brevia defeat?", sentence, start, end) == end  # "and occupies" is a verb
    towns = "He visited Arden, Bree and Colm in May."
    start, end = towns.index("Arden"), towns.index("Arden") + len("Arden")
    assert complete_list("Which town did he visit first?", towns, start, end) == end  # one town asked for
    assert towns[start : complete_list("Which towns did he visit?", towns, start, end)] == "Arden, Bree and Colm"


def test_questions_ending_on_a_preposition_mark_what_follows_it():
    sentence = "The mayor complained about the price of bread in Springfield."
    feats = _features("What did the mayor complain about?", sentence)
    assert feats["price of bread"].get("after_question_prep") == 1.0
    assert not feats["Springfield"].get("after_question_prep")


def test_a_number_inside_a_duration_is_not_an_answer_of_its_own():
    sentence = "The talks lasted an hour and a half, officials said."
    spans = {sentence[s:e] for s, e in typed_candidates(sentence, "number")}
    assert "an hour and a half" in spans and "half" not in spans


@pytest.mark.parametrize(
    ("question", "action"),
    [
        ("What will the council do about the bridge?", "will"),
        ("What could the miners do next?", "can"),
        ("What are the farmers doing in response to the drought?", "ing"),
        ("What did the mayor do after the flood?", ""),
        ("What is the mayor ready to do?", "to"),
        ("What did the mayor say she would do?", "will"),
        ("What has happened to the residents?", "have"),
        ("What happened next?", ""),
        ("What job did the mayor do before?", None),  # asks for a noun
        ("What did the mayor say?", None),
        ("Who will do it?", None),
    ],
)
def test_questions_asking_what_someone_does(question, action):
    assert asks_for_action(question) == action


def test_verb_phrases_run_to_the_clause_end_with_their_coordinated_parts():
    sentence = "The storm is over, with the farmers rebuilding their barns and repairing fences despite the cold."
    assert [sentence[s:e] for s, e in verb_phrases(sentence)] == ["rebuilding their barns and repairing fences"]
    subject = "For the town, rebuilding the bridge would be a relief."
    assert [subject[s:e] for s, e in verb_phrases(subject)] == ["rebuilding the bridge"]  # stops at "would be"
    quoted = 'She said the board was "not able to decide" on the plan but that it would "consult" with the town.'
    phrases = [quoted[s:e] for s, e in verb_phrases(quoted)]
    assert phrases == ["decide", '"consult" with the town']  # a closing quote ends a phrase
    assert [quoted[s:e] for s, e in verb_phrases(quoted, "will")] == ['"consult" with the town']
    negated = "The mayor said the town will not surrender the bridge."
    assert [negated[s:e] for s, e in verb_phrases(negated, "will")] == ["not surrender the bridge"]
    past = "The mayor visited the bridge and the repaired school."
    assert [past[s:e] for s, e in verb_phrases(past)] == ["visited the bridge and the repaired school"]
    assert verb_phrases(past, "ing") == []
    other_form = "He was willing to meet the mayor again and expressed some hope."
    assert [other_form[s:e] for s, e in verb_phrases(other_form)] == ["meet the mayor again", "expressed some hope"]
    pronoun = "The council said no despite the mayor calling for this."
    assert [pronoun[s:e] for s, e in verb_phrases(pronoun, "ing")] == ["calling for this"]  # an object pronoun stays
    perfect = "Half of the residents have left and the bridge has not reopened."
    assert [perfect[s:e] for s, e in verb_phrases(perfect, "have")] == ["left", "not reopened"]


def test_action_questions_are_answered_by_a_verb_phrase():
    sentence = "The flood has reached the valley, with the army and its volunteers building dams and evacuating homes."
    question = "What are the army and its volunteers doing in response to the flood?"
    span = extract_span(question, sentence)
    assert sentence[span.start : span.end] == "building dams and evacuating homes"
    assert span.kind == "action"


@pytest.mark.parametrize(
    ("question", "said"),
    [
        ("What did the mayor say about the bridge?", True),
        ("What did the guard say?", True),
        ("What did the guard say next?", True),
        ("What does the nurse tell him just before he leaves?", True),
        ("What did the mayor say the council had wanted?", False),  # asks for what the council wanted
        ("What does the knight claim as a reward?", False),
        ("Who said it?", False),
    ],
)
def test_questions_asking_what_was_said(question, said):
    assert asks_what_was_said(question) == said


def test_reported_speech_is_quotations_and_reported_clauses():
    lead = 'We will rebuild the bridge before winter," the mayor said.'
    assert [lead[s:e] for s, e in reported_speech(lead)] == ["We will rebuild the bridge before winter"]
    told = "The mayor told reporters that the bridge would reopen in May."
    assert [told[s:e] for s, e in reported_speech(told)] == ["the bridge would reopen in May"]
    where = "“The water is rising,” she said in a message broadcast by the radio."
    assert [where[s:e] for s, e in reported_speech(where)] == ["The water is rising"]  # "said in" reports nothing
    inner = 'He called the talks "hard" but said the town would hold.'
    assert [inner[s:e] for s, e in reported_speech(inner)] == ["hard", "the town would hold"]
    label = '“We will hold,” the mayor told reporters after a meeting he described as “difficult.”'
    assert [label[s:e] for s, e in reported_speech(label)] == ["We will hold"]  # a quoted label is not speech
    order = "She told him to leave the bridge."
    assert [order[s:e] for s, e in reported_speech(order)] == ["to leave the bridge"]


def test_what_was_said_about_a_topic_is_the_speech_on_that_topic():
    sentence = "The mayor praised the “brave crews” and vowed that the town would never again depend on one bridge."
    span = extract_span("What did the mayor say about depending on the bridge?", sentence)
    assert sentence[span.start : span.end] == "the town would never again depend on one bridge"
    assert span.kind == "speech"


def test_a_verb_after_the_questions_last_preposition_takes_its_whole_phrase():
    sentence = "The union has accused the company of hiring guards as strike breakers as well as cutting wages."
    start = sentence.index("hiring")
    short = Span(start, start + len("hiring guards"), "run", 0.0)
    done = finish_span("What has the union accused the company of?", sentence, short)
    assert sentence[done.start : done.end] == "hiring guards as strike breakers as well as cutting wages"
    assert finish_span("What has the union hired?", sentence, short) == short  # no preposition asks for it


def test_a_subject_answer_inside_a_prepositional_phrase_takes_the_whole_subject():
    sentence = "In the south, soldiers and volunteer crews from Arden have rebuilt the bridge."
    start = sentence.index("Arden")
    end = start + len("Arden")
    new_start = complete_subject("Who has rebuilt the bridge?", sentence, start, end)
    assert sentence[new_start:end] == "soldiers and volunteer crews from Arden"
    assert complete_subject("Who has crossed the bridge?", sentence, start, end) == start  # another verb
    assert complete_subject("What has Arden rebuilt?", sentence, start, end) == start  # not a subject question
    count = "The tale begins with three cats."
    three = count.index("three")
    assert complete_subject("How many cats are there?", count, three, three + 5) == three
    # the question's verb is the second of two coordinated verbs
    coordinated = "Soldiers and crews from Arden have reached the bridge and are rebuilding it."
    arden = coordinated.index("Arden")
    new_start = complete_subject("Who is rebuilding the bridge?", coordinated, arden, arden + 5)
    assert coordinated[new_start : arden + 5] == "Soldiers and crews from Arden"


@pytest.mark.parametrize(
    "question",
    ["What will the council do about the bridge?", "What did the mayor say about the bridge?", "Who rebuilt it?"],
)
def test_every_feature_a_candidate_gets_is_one_the_scorer_is_fitted_on(question):
    sentence = 'The mayor said that crews "would rebuild" the bridge, rebuilding it by May.'
    for *_, feats in candidate_features(question, sentence):
        assert set(feats) <= set(FEATURES)


def test_who_is_questions_ask_for_a_description_of_the_name():
    assert asks_who_is("Who is Anna Berg?") == "Anna Berg"
    assert asks_who_is("Who is the harbour master?") is None  # asks for a name
    sentences = {
        "Speaking to the radio, Anna Berg, the town’s harbour master, said the port was closed.": [
            "the town’s harbour master"
        ],
        "Harbour Master Anna Berg closed the port.": ["Harbour Master"],
        "He met the pilot's sister, Anna Berg, to ask about the port.": ["pilot's sister"],
        "A stern harbour master named Anna Berg (Jane Roe) closed the port.": ["stern harbour master"],
        "Anna Berg is a retired pilot.": ["a retired pilot"],
    }
    for sentence, expected in sentences.items():
        assert [sentence[s:e] for s, e in descriptions(sentence, "Anna Berg")] == expected, sentence
    sentence = "Speaking to the radio, Anna Berg, the town’s harbour master, said the port was closed."
    span = extract_span("Who is Anna Berg?", sentence)
    assert (sentence[span.start : span.end], span.kind) == ("the town’s harbour master", "description")


def test_who_said_questions_ask_for_the_speaker():
    assert asks_who_said("Who said the bridge would reopen?")
    assert not asks_who_said("Who rebuilt the bridge?")
    sentences = {
        "The mayor of Arden said the bridge would reopen.": ["The mayor of Arden"],
        "Speaking to the radio, Anna Berg, the harbour master, said the port was closed.": [
            "Anna Berg, the harbour master"
        ],
        "“We will hold,” Anna Berg told reporters.": ["Anna Berg"],
        '"We will hold," said Anna Berg.': ["Anna Berg"],
        "The council also claimed that the port was safe.": ["The council"],
        "The story is told by an old fisherman.": ["an old fisherman"],
        "He said the port was closed.": [],  # a pronoun names no one
    }
    for sentence, expected in sentences.items():
        assert [sentence[s:e] for s, e in speakers(sentence)] == expected, sentence
    sentence = "The mayor of Arden said the bridge would reopen in May."
    span = extract_span("Who said the bridge would reopen?", sentence)
    assert (sentence[span.start : span.end], span.kind) == ("The mayor of Arden", "speaker")


def test_where_questions_without_a_named_place_are_answered_by_a_place_phrase():
    sentence = "The crates were stored in an old barn because roads outside the town cannot be used."
    assert [sentence[s:e] for s, e in places(sentence)] == ["an old barn", "the town"]
    span = extract_span("Where were the crates stored?", sentence)
    assert (sentence[span.start : span.end], span.kind) == ("an old barn", "place")
    named = "The crates were stored in Arden."
    assert extract_span("Where were the crates stored?", named).kind == "name"  # a name answers first


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("What were workers loading onto the old ships?", ("onto", "ships", "loading")),
        ("What has the council ruled out over the winter?", ("over", "winter", "ruled")),
        ("What did the mayor open in Arden?", ("in", "Arden", "open")),
        ("What did the mayor blame the storm for?", None),  # the question ends on its preposition
        ("On what date did the crew sail from Arden?", None),  # asks for a date
        ("What does he call the boat that sank near Arden?", None),  # a clause comes between
        ("Which boats did they want to repair?", None),  # "to repair" is an infinitive
        ("Who loaded the crates onto the ships?", None),  # asks for the subject
    ],
)
def test_questions_asking_for_the_object_before_a_closing_phrase(question, phrase):
    assert asks_object_before_phrase(question) == (phrase and (phrase[0], word_key(phrase[1]), word_key(phrase[2])))


def test_the_object_before_the_questions_closing_phrase_answers_it():
    sentence = "Dock workers described long shifts, loading fresh fish onto the old ships and resting in the sheds."
    keys = {word_key(w) for w in ("workers", "loading", "old", "ships")}
    spans = objects_before_phrase(sentence, "onto", word_key("ships"), keys)
    assert [sentence[s:e] for s, e in spans] == ["fresh fish"]
    span = extract_span("What were workers loading onto the old ships?", sentence)
    assert (sentence[span.start : span.end], span.kind) == ("fresh fish", "object")
    took = "The thieves took the silver from the house."
    keys = {word_key("thieves"), word_key("house")}
    assert [took[s:e] for s, e in objects_before_phrase(took, "from", word_key("house"), keys)] == ["the silver"]
    # not an object: a possessive noun phrase before the phrase, or no verb before it
    office = "Anna Berg, head of the Red Cross's office in Arden, described the harbour."
    assert objects_before_phrase(office, "in", word_key("Arden"), {word_key("Berg"), word_key("Arden")}) == []
    assert objects_before_phrase("Crates in Arden were lost.", "in", word_key("Arden"), {word_key("Arden")}) == []


def test_without_the_closing_phrase_the_object_after_the_questions_verb_answers_it():
    sentence = "At dawn the men started to load the fresh fish and then rested."
    keys = {word_key(w) for w in ("men", "loading", "old", "ships")}
    assert [sentence[s:e] for s, e in objects_after_verb(sentence, word_key("loading"), keys)] == ["the fresh fish"]
    span = extract_span("What were the men loading onto the old ships?", sentence)
    assert (sentence[span.start : span.end], span.kind) == ("the fresh fish", "object")
    # an "of" phrase belongs to the noun phrase; a particle, a preposition or a verb form ends it
    raised = "The council raised the question of a new harbour wall, then took the plans away."
    assert [raised[s:e] for s, e in objects_after_verb(raised, word_key("raise"), set())] == [
        "the question of a new harbour wall"
    ]
    # "took" is no form of "take" to word_key
    assert [raised[s:e] for s, e in objects_after_verb(raised, word_key("take"), set())] == []
    assert objects_after_verb("The crates were loaded onto the ships.", word_key("load"), set()) == []
    # a noun sharing the verb's stem is no verb: "the loading of the ships"
    assert objects_after_verb("They watched the loading of the ships.", word_key("load"), set()) == []


@pytest.mark.parametrize(
    ("question", "verb"),
    [
        ("Who has ruled out a new bridge?", "ruled"),
        ("Who is rebuilding the bridge?", "rebuilding"),
        ("Who repaired the bridge?", "repaired"),
        ("Which crew is rebuilding the bridge?", "rebuilding"),
        ("Which crew repairs the old bridge?", "repairs"),  # the verb is no part of the head "crew"
        ("Which harbour crews repaired the bridge?", "repaired"),
        ("Who was killed in the storm?", None),  # a passive asks for who it happened to
        ("Who is the mayor?", None),
        ("Who is Anna Berg?", None),
        ("What has the council ruled out?", None),  # asks for an object
    ],
)
def test_questions_asking_who_did_something(question, verb):
    assert asks_who_did(question) == (verb and word_key(verb))


def test_agents_are_the_subjects_of_the_questions_verb():
    cases = [
        ("However, the council has ruled out a new bridge despite Anna Berg asking for one.", "ruled", ["the council"]),
        ("Anna Berg, head of the Red Cross office in Arden, described the storm.", "described", ["Anna Berg"]),
        ("The harbour was closed, while Arden has repaired the bridge.", "repaired", ["Arden"]),
        (
            "Soldiers and crews from Arden have reached the bridge and are rebuilding it.",
            "rebuilding",
            ["Soldiers and crews from Arden"],
        ),
        ("The bridge was repaired by volunteers from Arden.", "repaired", ["volunteers from Arden"]),
        # the agent ends before a coordinated verb
        ("The bridge was repaired by crews from Arden and reopened.", "repaired", ["crews from Arden"]),
        ("He repaired the bridge.", "repaired", []),  # a pronoun names no one
        ("Crews began the repairs of the bridge.", "repaired", []),  # "repairs" is no verb here
    ]
    for sentence, verb, expected in cases:
        assert [sentence[s:e] for s, e in agents(sentence, word_key(verb))] == expected, sentence
    passive = "The bridge was repaired by volunteers from Arden."
    assert agents(passive, word_key("repaired"), passive=False) == []


@pytest.mark.parametrize(
    ("question", "sentence", "answer"),
    [
        (
            "Who has ruled out a new bridge?",
            "However, Arden has ruled out a new bridge despite Anna Berg asking for one.",
            "Arden",
        ),
        (
            "Who described the storm?",
            "Anna Berg, head of the Red Cross office in Arden, described the storm.",
            "Anna Berg",
        ),
        # a name that only qualifies the subject's noun is no answer of its own
        (
            "Who opened the new harbour?",
            "The French ambassador also opened the new harbour on Monday.",
            "French ambassador",
        ),
        ("Who opened the new harbour?", "Anna Berg used the occasion to open the new harbour.", "Anna Berg"),
    ],
)
def test_who_did_questions_are_answered_from_the_subject_of_their_verb(question, sentence, answer):
    span = extract_span(question, sentence)
    assert sentence[span.start : span.end] == answer
