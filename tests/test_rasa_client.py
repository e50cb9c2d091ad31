"""Rasa's /model/parse JSON turned into records; one entity reported twice is kept once."""

from integrations.rasa import parse_response


def test_duplicate_entities_from_two_extractors_are_merged():
    body = {
        "intent": {"name": "ask_materials", "confidence": 0.93},
        "intent_ranking": [{"name": "ask_materials", "confidence": 0.93},
                           {"name": "apply", "confidence": 0.04}],
        "entities": [
            {"entity": "matter", "value": "dibao", "start": 0, "end": 2,
             "extractor": "RegexEntityExtractor"},
            {"entity": "matter", "value": "dibao", "start": 0, "end": 2,
             "extractor": "CRFEntityExtractor"},
        ],
    }
    parsed = parse_response(body)
    assert parsed.intent == "ask_materials"
    assert parsed.ranking[1] == ("apply", 0.04)
    assert len(parsed.entities) == 1


def test_a_response_without_intent_is_not_a_crash():
    parsed = parse_response({"text": "", "intent": None, "entities": []})
    assert (parsed.intent, parsed.confidence, parsed.entities) == (None, 0.0, ())
