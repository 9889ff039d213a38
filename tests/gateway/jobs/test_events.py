"""Redaction of upstream names in event texts before and after release."""

from __future__ import annotations

from gateway.jobs.events import WITHHELD, Redactor


def test_unreleased_names_are_withheld_and_ids_mapped():
    redact = Redactor({"ftjob-up": "ftjob-gw", "ft:base:org::abc": WITHHELD, "file-up": "file-gw"}, set())
    text = "Job ftjob-up made ft:base:org::abc and ft:base:org::abc:ckpt-step-6 from file-up"
    assert redact(text) == f"Job ftjob-gw made {WITHHELD} and {WITHHELD} from file-gw"


def test_released_names_are_shown_and_unknown_ft_names_still_hidden():
    redact = Redactor({"ft:base:org::abc": "ft:base:acme::xyz"}, {"ft:base:acme::xyz"})
    assert redact("New model ft:base:org::abc") == "New model ft:base:acme::xyz"
    assert redact("Other ft:other:model") == f"Other {WITHHELD}"
    assert redact.data({"a": ["ft:base:org::abc"]}) == {"a": ["ft:base:acme::xyz"]}
