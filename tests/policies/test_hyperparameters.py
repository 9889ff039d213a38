"""The hyperparameter guard: which cap applies, reject versus clamp, and values it leaves alone."""

from __future__ import annotations

import pytest

from policies.hyperparameters import Violation, cap_for, check
from policies.schema import HyperparameterCap

STRICT = HyperparameterCap(
    models=["gpt-4o*"], max_epochs=5, max_learning_rate_multiplier=2.0, min_batch_size=8, action="reject"
)
LOOSE = HyperparameterCap(models=["*"], max_epochs=10, action="reject")
CLAMP = HyperparameterCap(
    models=["*"], max_epochs=3, max_learning_rate_multiplier=1.0, min_batch_size=16, action="clamp"
)


def test_first_matching_cap_by_model_glob():
    caps = [STRICT, LOOSE]
    assert cap_for(caps, "gpt-4o-mini") is STRICT
    assert cap_for(caps, "llama-3-8b") is LOOSE
    # Order matters, not specificity: a catch-all first wins.
    assert cap_for([LOOSE, STRICT], "gpt-4o-mini") is LOOSE
    assert check(caps, "gpt-4o-mini", {"n_epochs": 7}).cap is STRICT
    assert check(caps, "llama-3-8b", {"n_epochs": 7}).violations == ()


def test_reject_leaves_values_and_lists_violations():
    hyperparameters = {"n_epochs": 12, "learning_rate_multiplier": 4, "batch_size": 2, "seed": 1}
    result = check([STRICT], "gpt-4o", hyperparameters)
    assert result.rejected and not result.clamped
    assert result.hyperparameters == hyperparameters
    assert result.hyperparameters is not hyperparameters
    assert hyperparameters == {"n_epochs": 12, "learning_rate_multiplier": 4, "batch_size": 2, "seed": 1}
    assert result.violations == (
        Violation("n_epochs", 12.0, 5.0, "max"),
        Violation("learning_rate_multiplier", 4.0, 2.0, "max"),
        Violation("batch_size", 2.0, 8.0, "min"),
    )
    assert [v.describe() for v in result.violations] == [
        "n_epochs=12 is not allowed; it must be at most 5",
        "learning_rate_multiplier=4 is not allowed; it must be at most 2",
        "batch_size=2 is not allowed; it must be at least 8",
    ]


def test_describe_keeps_fractions():
    result = check([STRICT], "gpt-4o", {"learning_rate_multiplier": 2.5})
    (violation,) = result.violations
    assert violation.describe() == "learning_rate_multiplier=2.5 is not allowed; it must be at most 2"


def test_clamp_brings_values_to_the_caps():
    hyperparameters = {"n_epochs": 8, "learning_rate_multiplier": 1.8, "batch_size": 4, "seed": 7}
    result = check([CLAMP], "any-model", hyperparameters)
    assert result.clamped and not result.rejected
    assert result.hyperparameters == {
        "n_epochs": 3,
        "learning_rate_multiplier": 1.0,
        "batch_size": 16,
        "seed": 7,
    }
    assert [v.param for v in result.violations] == ["n_epochs", "learning_rate_multiplier", "batch_size"]
    # The caller's dict is not modified.
    assert hyperparameters == {"n_epochs": 8, "learning_rate_multiplier": 1.8, "batch_size": 4, "seed": 7}


def test_clamp_only_touches_values_beyond_a_cap():
    result = check([CLAMP], "m", {"n_epochs": 9, "learning_rate_multiplier": 0.5, "batch_size": 32})
    assert result.hyperparameters == {"n_epochs": 3, "learning_rate_multiplier": 0.5, "batch_size": 32}
    assert [v.param for v in result.violations] == ["n_epochs"]


@pytest.mark.parametrize("cap", [STRICT, CLAMP], ids=["reject", "clamp"])
def test_values_at_the_caps_pass(cap):
    values = {
        "n_epochs": cap.max_epochs,
        "learning_rate_multiplier": cap.max_learning_rate_multiplier,
        "batch_size": cap.min_batch_size,
    }
    result = check([cap], "gpt-4o", values)
    assert result.violations == ()
    assert not result.rejected and not result.clamped
    assert result.hyperparameters == values


@pytest.mark.parametrize("cap", [STRICT, CLAMP], ids=["reject", "clamp"])
def test_auto_and_missing_values_are_left_to_the_provider(cap):
    values = {"n_epochs": "auto", "learning_rate_multiplier": "auto"}
    result = check([cap], "gpt-4o", values)
    assert result.violations == ()
    assert result.hyperparameters == values
    assert "batch_size" not in result.hyperparameters
    empty = check([cap], "gpt-4o", {})
    assert empty.violations == () and empty.hyperparameters == {}
    assert check([cap], "gpt-4o", {"n_epochs": None}).hyperparameters == {"n_epochs": None}


@pytest.mark.parametrize("cap", [STRICT, CLAMP], ids=["reject", "clamp"])
def test_bools_are_not_numbers(cap):
    # True would be 1 (below every min_batch_size); False would be 0.
    values = {"n_epochs": True, "learning_rate_multiplier": True, "batch_size": True}
    result = check([cap], "gpt-4o", values)
    assert result.violations == ()
    assert result.hyperparameters == values
    assert check([cap], "gpt-4o", {"batch_size": False}).violations == ()


def test_numeric_strings_are_not_numbers():
    assert check([STRICT], "gpt-4o", {"n_epochs": "50"}).violations == ()


def test_unset_limits_are_not_checked():
    epochs_only = HyperparameterCap(models=["*"], max_epochs=4)
    result = check([epochs_only], "m", {"n_epochs": 3, "learning_rate_multiplier": 100, "batch_size": 1})
    assert result.violations == ()
    assert result.cap is epochs_only


def test_no_cap_passes():
    values = {"n_epochs": 100, "learning_rate_multiplier": 50.0, "batch_size": 1}
    for caps in ([], [STRICT]):
        result = check(caps, "llama-3", values)
        assert result.cap is None
        assert result.violations == ()
        assert not result.rejected and not result.clamped
        assert result.hyperparameters == values
        assert result.hyperparameters is not values


def test_default_action_is_reject():
    cap = HyperparameterCap(max_epochs=2)
    assert cap.models == ["*"]
    result = check([cap], "m", {"n_epochs": 3})
    assert result.rejected
    assert result.hyperparameters == {"n_epochs": 3}
