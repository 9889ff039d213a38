"""The policy loader: every problem points at ``file:line`` and a field path; versions and keys."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from policies.loader import PolicyError, PolicyProblem, load_directory, load_file, parse_policy
from policies.schema import PolicyDocument

REPO = Path(__file__).resolve().parents[2]
SHIPPED_DIR = REPO / "policies"
SHIPPED_FILES = [*sorted(SHIPPED_DIR.glob("*.yaml")), SHIPPED_DIR / "examples" / "research-shadow.yaml"]

# Four lines: a valid policy head; a `spec:` written after it starts at line 5.
HEAD = "apiVersion: tunegate.io/v1\nkind: Policy\nmetadata:\n  name: team-policy\n"


def _write(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[PolicyProblem]:
    with pytest.raises(PolicyError) as caught:
        load_file(path)
    problems = caught.value.problems
    assert problems, "a PolicyError always lists at least one problem"
    # str() lists every problem, one per line.
    assert str(caught.value).splitlines() == [str(p) for p in problems]
    return problems


def _only(path: Path) -> PolicyProblem:
    problems = _problems(path)
    assert len(problems) == 1, problems
    return problems[0]


# Schema errors, with file, line and field ------------------------------------------------------


def test_nested_unknown_key_is_reported_at_its_line(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + "spec:\n"  # 5
        + "  scan:\n"  # 6
        + "    limits:\n"  # 7
        + "      max_flagged_fraction: 0.02\n"  # 8
        + "      max_flaged_rows: 3\n",  # 9
    )
    problem = _only(path)
    assert problem.file == str(path)
    assert problem.line == 9
    assert problem.field == "spec.scan.limits.max_flaged_rows"
    assert "unknown key 'max_flaged_rows'" in problem.message
    assert str(problem).startswith(f"{path}:9: spec.scan.limits.max_flaged_rows: unknown key")


def test_unknown_top_level_spec_section(tmp_path):
    path = _write(tmp_path, HEAD + "spec:\n  relase:\n    enabled: false\n")
    problem = _only(path)
    assert (problem.line, problem.field) == (6, "spec.relase")
    assert "unknown key 'relase'" in problem.message


def test_wrong_type(tmp_path):
    path = _write(tmp_path, HEAD + "spec:\n  scan:\n    limits:\n      max_flagged_rows: many\n")
    problem = _only(path)
    assert (problem.line, problem.field) == (8, "spec.scan.limits.max_flagged_rows")
    assert "integer" in problem.message


def test_wrong_type_in_a_list_item(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + "spec:\n"  # 5
        + "  hyperparameters:\n"  # 6
        + "    - models: ['*']\n"  # 7
        + "      max_epochs: 3\n"  # 8
        + "    - models: ['gpt-*']\n"  # 9
        + "      max_epochs: lots\n",  # 10
    )
    problem = _only(path)
    assert (problem.line, problem.field) == (10, "spec.hyperparameters.1.max_epochs")


def test_wrong_action_lists_the_allowed_values(tmp_path):
    path = _write(tmp_path, HEAD + "spec:\n  scan:\n    on_breach: block\n")
    problem = _only(path)
    assert (problem.line, problem.field) == (7, "spec.scan.on_breach")
    assert "'reject'" in problem.message and "'allow'" in problem.message
    assert "(got 'block')" in problem.message


def test_row_flag_threshold_out_of_range(tmp_path):
    path = _write(tmp_path, HEAD + "spec:\n  scan:\n    rows:\n      flag: 1.5\n")
    problem = _only(path)
    assert (problem.line, problem.field) == (8, "spec.scan.rows.flag")
    assert "less than or equal to 1" in problem.message


def test_category_threshold_out_of_range(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + "spec:\n"  # 5
        + "  scan:\n"  # 6
        + "    rows:\n"  # 7
        + "      categories:\n"  # 8
        + "        self_harm: 0.6\n"  # 9
        + "        violence: 2.0\n",  # 10
    )
    problem = _only(path)
    # The validator checks the whole mapping, so the problem sits on the `categories` key.
    assert (problem.line, problem.field) == (8, "spec.scan.rows.categories")
    assert "'violence'" in problem.message and "between 0 and 1" in problem.message
    assert "2.0" in problem.message


def test_borderline_above_flag(tmp_path):
    path = _write(tmp_path, HEAD + "spec:\n  scan:\n    rows:\n      flag: 0.5\n      borderline: 0.7\n")
    problem = _only(path)
    assert (problem.line, problem.field) == (7, "spec.scan.rows")
    assert "borderline (0.7) must not exceed flag (0.5)" in problem.message


def test_unknown_classifier_lists_the_known_names(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + "spec:\n"  # 5
        + "  scan:\n"  # 6
        + "    classifiers:\n"  # 7
        + "      - name: harm-embedding\n"  # 8
        + "      - name: profanityy\n",  # 9
    )
    problem = _only(path)
    assert (problem.line, problem.field) == (9, "spec.scan.classifiers.1.name")
    assert "unknown classifier 'profanityy'" in problem.message
    known = problem.message.split("known classifiers:", 1)[1]
    for name in ("harm-embedding", "profanity", "llm-judge"):
        assert name in known


def test_unknown_judge_classifier(tmp_path):
    path = _write(tmp_path, HEAD + "spec:\n  audit:\n    judge:\n      name: nope\n")
    problem = _only(path)
    assert (problem.line, problem.field) == (8, "spec.audit.judge.name")
    assert "unknown classifier 'nope'" in problem.message


def test_classifier_option_of_the_wrong_type(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + "spec:\n"  # 5
        + "  scan:\n"  # 6
        + "    classifiers:\n"  # 7
        + "      - name: profanity\n"  # 8
        + '        options: {batch_size: "x"}\n',  # 9
    )
    problem = _only(path)
    assert problem.line == 8
    assert problem.field == "spec.scan.classifiers.0.name"
    assert "classifier 'profanity'" in problem.message
    assert "batch_size" in problem.message and "integer" in problem.message


def test_unknown_classifier_option(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + "spec:\n  scan:\n    classifiers:\n"
        + "      - name: harm-embedding\n"  # 8
        + "      - name: profanity\n"  # 9
        + "        options:\n"  # 10
        + "          batch_sise: 3\n",  # 11
    )
    problem = _only(path)
    assert (problem.line, problem.field) == (9, "spec.scan.classifiers.1.name")
    assert "batch_sise" in problem.message and "not permitted" in problem.message


def test_valid_classifier_options_load(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + "spec:\n  scan:\n    classifiers:\n      - name: profanity\n        options: {batch_size: 64}\n",
    )
    policy = load_file(path)
    assert policy.spec.scan.classifiers[0].options == {"batch_size": 64}


def test_unknown_detector_lists_the_known_names(tmp_path):
    path = _write(
        tmp_path, HEAD + "spec:\n  scan:\n    detectors:\n      - name: cipher\n      - name: ciphr\n"
    )
    problem = _only(path)
    assert (problem.line, problem.field) == (9, "spec.scan.detectors.1.name")
    assert "unknown detector 'ciphr'" in problem.message
    assert "known detectors: cipher, identity-shift, near-duplicates, trigger" in problem.message


def test_wrong_api_version(tmp_path):
    path = _write(tmp_path, HEAD.replace("tunegate.io/v1", "tunegate.io/v2"))
    problem = _only(path)
    assert (problem.line, problem.field) == (1, "apiVersion")
    assert "'tunegate.io/v1'" in problem.message and "(got 'tunegate.io/v2')" in problem.message


def test_wrong_kind(tmp_path):
    path = _write(tmp_path, HEAD.replace("kind: Policy", "kind: Polcy"))
    problem = _only(path)
    assert (problem.line, problem.field) == (2, "kind")
    assert "(got 'Polcy')" in problem.message


def test_missing_metadata_name(tmp_path):
    path = _write(tmp_path, "apiVersion: tunegate.io/v1\nkind: Policy\nmetadata:\n  owner: ml-platform\n")
    problem = _only(path)
    assert (problem.line, problem.field) == (3, "metadata.name")
    assert problem.message == "required field is missing"


def test_missing_metadata(tmp_path):
    path = _write(tmp_path, "apiVersion: tunegate.io/v1\nkind: Policy\n")
    problem = _only(path)
    assert (problem.line, problem.field) == (1, "metadata")
    assert problem.message == "required field is missing"


def test_invalid_policy_name(tmp_path):
    path = _write(tmp_path, HEAD.replace("name: team-policy", "name: Team Policy"))
    problem = _only(path)
    assert (problem.line, problem.field) == (4, "metadata.name")


def test_invalid_yaml_reports_the_line_of_the_error(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + "spec:\n"  # 5
        + "  scan:\n"  # 6
        + "    rows:\n"  # 7
        + "      flag: 0.5\n"  # 8
        + "  audit: enabled: true\n",  # 9
    )
    problem = _only(path)
    assert problem.file == str(path)
    assert problem.line == 9
    assert problem.field == ""
    assert problem.message.startswith("invalid YAML:")
    assert str(problem).startswith(f"{path}:9: invalid YAML:")


def test_unclosed_flow_sequence(tmp_path):
    path = _write(tmp_path, HEAD + "spec:\n  match:\n    teams: [a, b\n  scan: {}\n")
    problem = _only(path)
    assert problem.line == 8
    assert problem.message.startswith("invalid YAML:")


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path, text):
    path = _write(tmp_path, text)
    problem = _only(path)
    assert (problem.file, problem.line, problem.field) == (str(path), 1, "")
    assert "empty" in problem.message


def test_not_a_mapping(tmp_path):
    problem = _only(_write(tmp_path, "- apiVersion: tunegate.io/v1\n"))
    assert problem.line == 1
    assert "mapping" in problem.message


@pytest.mark.parametrize("key", ["classifiers", "detectors"])
@pytest.mark.parametrize("value", ["5", "true", "0"])
def test_component_lists_of_the_wrong_type_are_schema_problems(tmp_path, key, value):
    # Regression: a non-list here raised TypeError, which crashed validation and hot reload.
    path = _write(tmp_path, HEAD + f"spec:\n  scan:\n    {key}: {value}\n")
    problem = _only(path)
    assert (problem.line, problem.field) == (7, f"spec.scan.{key}")
    assert "valid list" in problem.message


@pytest.mark.parametrize(
    ("snippet", "line", "words"),
    [
        ("  scan:\n    rows:\n      flag: !!python/name:os.system\n", 8, "constructor for the tag"),
        ("  scan:\n    rows:\n      flag: !custom 0.5\n", 8, "'!custom'"),
        ("  scan:\n    ? [a, b]\n    : c\n", 7, "key must be a plain scalar"),
        ("  scan: &loop\n    rows: *loop\n", 6, "recursive alias"),
    ],
    ids=["python-tag", "unknown-tag", "complex-key", "recursive-alias"],
)
def test_yaml_the_safe_loader_refuses_is_a_problem_at_its_line(tmp_path, snippet, line, words):
    # Regression: these passed `compose` and then raised outside the YAML error handling.
    path = _write(tmp_path, HEAD + "spec:\n" + snippet)
    problem = _only(path)
    assert (problem.line, problem.field) == (line, "")
    assert problem.message.startswith("invalid YAML:")
    assert words in problem.message


def test_shared_anchors_are_fine(tmp_path):
    path = _write(
        tmp_path,
        HEAD + "spec:\n  scan:\n    classifiers:\n      - &p {name: profanity}\n"
        "  audit:\n    judge: *p\n  release:\n    judge: *p\n",
    )
    policy = load_file(path)
    assert policy.spec.audit.judge.name == policy.spec.release.judge.name == "profanity"


def test_several_problems_in_one_file_are_all_reported_in_line_order(tmp_path):
    path = _write(
        tmp_path,
        HEAD
        + "spec:\n"  # 5
        + "  match:\n"  # 6
        + "    priority: high\n"  # 7
        + "  scan:\n"  # 8
        + "    classifiers:\n"  # 9
        + "      - name: nope\n"  # 10
        + "    rows:\n"  # 11
        + "      flag: 1.5\n"  # 12
        + "    detectors:\n"  # 13
        + "      - name: nada\n"  # 14
        + "  audit:\n"  # 15
        + "    on_exceed: drop_flagged\n"  # 16
        + "  releas: {}\n",  # 17
    )
    problems = _problems(path)
    assert [(p.line, p.field) for p in problems] == [
        (7, "spec.match.priority"),
        (10, "spec.scan.classifiers.0.name"),
        (12, "spec.scan.rows.flag"),
        (14, "spec.scan.detectors.0.name"),
        (16, "spec.audit.on_exceed"),
        (17, "spec.releas"),
    ]
    assert all(p.file == str(path) for p in problems)


def test_component_problems_alone_are_all_reported(tmp_path):
    path = _write(
        tmp_path,
        HEAD + "spec:\n  scan:\n    classifiers:\n      - name: nope\n    detectors:\n      - name: nada\n",
    )
    problems = _problems(path)
    assert [(p.line, p.field) for p in problems] == [
        (8, "spec.scan.classifiers.0.name"),
        (10, "spec.scan.detectors.0.name"),
    ]


def test_unreadable_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"\xff\xfe\x00not utf-8")
    problem = _only(path)
    assert (problem.line, problem.field) == (1, "")
    assert "cannot read" in problem.message


# Directories ------------------------------------------------------------------------------------


def test_duplicate_policy_names_in_one_directory_name_both_files(tmp_path):
    first = _write(tmp_path, HEAD, "a.yaml")
    second = _write(tmp_path, HEAD + "spec:\n  match:\n    priority: 5\n", "b.yml")
    with pytest.raises(PolicyError) as caught:
        load_directory(tmp_path)
    (problem,) = caught.value.problems
    assert problem.file == str(second)
    assert problem.field == "metadata.name"
    assert str(first) in problem.message
    assert "'team-policy'" in problem.message and "unique" in problem.message
    assert str(first) in str(caught.value) and str(second) in str(caught.value)


def test_directory_collects_problems_of_every_file(tmp_path):
    bad_one = _write(tmp_path, HEAD + "spec:\n  scan:\n    rows:\n      flag: 1.5\n", "a.yaml")
    bad_two = _write(tmp_path, "", "b.yaml")
    _write(tmp_path, HEAD.replace("team-policy", "fine"), "c.yaml")
    with pytest.raises(PolicyError) as caught:
        load_directory(tmp_path)
    assert [(p.file, p.line) for p in caught.value.problems] == [(str(bad_one), 8), (str(bad_two), 1)]


def test_directory_reads_only_policy_files_in_name_order(tmp_path):
    _write(tmp_path, HEAD.replace("team-policy", "zeta"), "a.yaml")
    _write(tmp_path, HEAD.replace("team-policy", "alpha"), "b.yml")
    _write(tmp_path, "not: a policy\n", "notes.txt")
    (tmp_path / "sub").mkdir()
    _write(tmp_path / "sub", "broken: [", "c.yaml")
    assert [p.name for p in load_directory(tmp_path)] == ["zeta", "alpha"]


def test_missing_directory(tmp_path):
    with pytest.raises(PolicyError) as caught:
        load_directory(tmp_path / "nowhere")
    assert "does not exist" in str(caught.value)


# Versions ---------------------------------------------------------------------------------------

BASE = """\
apiVersion: tunegate.io/v1
kind: Policy
metadata:
  name: versioned
spec:
  scan:
    rows:
      flag: 0.8
      borderline: 0.5
    on_breach: reject
  release:
    thresholds:
      max_harmfulness_rate: 0.05
"""

REORDERED = """\
# The same policy, written differently.
kind: Policy          # a comment
apiVersion: "tunegate.io/v1"
spec:
  release: {thresholds: {max_harmfulness_rate: 0.05}}
  scan:
    on_breach: reject
    rows: {borderline: 0.5, flag: 0.80}
metadata: {name: versioned}
"""


def test_version_ignores_comments_formatting_and_key_order():
    one = parse_policy(BASE, "one.yaml")
    two = parse_policy(REORDERED, "two.yaml")
    assert one.version == two.version
    assert len(one.version) == 12 and int(one.version, 16) >= 0
    assert one.rules_key == two.rules_key
    assert one.ref() == {"name": "versioned", "version": one.version, "source": "one.yaml"}


def test_version_counts_defaults_written_out():
    # Writing a default explicitly is the same policy.
    explicit = parse_policy(BASE.replace("    on_breach: reject\n", ""), "x.yaml")
    assert explicit.version == parse_policy(BASE, "y.yaml").version


def test_changing_a_threshold_changes_version_and_rules_key():
    base = parse_policy(BASE, "p.yaml")
    changed = parse_policy(BASE.replace("flag: 0.8", "flag: 0.7"), "p.yaml")
    assert changed.version != base.version
    assert changed.rules_key != base.rules_key
    assert changed.section_version("scan") != base.section_version("scan")
    assert changed.section_version("release") == base.section_version("release")


def test_changing_only_release_keeps_rules_key():
    base = parse_policy(BASE, "p.yaml")
    changed = parse_policy(BASE.replace("max_harmfulness_rate: 0.05", "max_harmfulness_rate: 0.01"), "p.yaml")
    assert changed.version != base.version
    assert changed.rules_key == base.rules_key
    assert changed.section_version("release") != base.section_version("release")
    assert changed.section_version("scan") == base.section_version("scan")


def test_changing_the_audit_changes_rules_key():
    base = parse_policy(BASE, "p.yaml")
    audited = parse_policy(BASE + "  audit:\n    enabled: true\n", "p.yaml")
    assert audited.rules_key != base.rules_key


def test_rules_key_is_shared_across_names():
    # Two policies with the same scan and audit rules can share one scan of a file.
    one = parse_policy(BASE, "a.yaml")
    two = parse_policy(BASE.replace("name: versioned", "name: other"), "b.yaml")
    assert one.version != two.version
    assert one.rules_key == two.rules_key


# The shipped policies ---------------------------------------------------------------------------


def test_shipped_directory_loads():
    policies = load_directory(SHIPPED_DIR)
    names = {p.name for p in policies}
    assert {"default", "strict"} <= names
    for policy in policies:
        assert Path(policy.source).parent == SHIPPED_DIR


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_each_shipped_policy_loads(path):
    policy = load_file(path)
    assert policy.name == path.stem
    assert policy.source == str(path)


def test_shipped_policies_say_what_they_claim():
    default = load_file(SHIPPED_DIR / "default.yaml")
    assert default.spec.scan.limits.max_flagged_rows == 2
    assert default.spec.hyperparameters[0].max_epochs == 10
    strict = load_file(SHIPPED_DIR / "strict.yaml")
    assert strict.spec.match.priority > default.spec.match.priority
    assert strict.spec.augment.enabled
    shadow = load_file(SHIPPED_DIR / "examples" / "research-shadow.yaml")
    assert shadow.spec.scan.on_breach == "allow"
    assert shadow.spec.audit.judge.name == "harm-embedding"


# JSON Schema ------------------------------------------------------------------------------------


def _validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = PolicyDocument.model_json_schema()
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator_class.check_schema(schema)
    return validator_class(schema)


@pytest.mark.parametrize("path", SHIPPED_FILES, ids=lambda p: p.name)
def test_json_schema_accepts_the_shipped_policies(path):
    validator = _validator()
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    errors = [e.message for e in validator.iter_errors(data)]
    assert errors == []


def test_json_schema_rejects_an_unknown_key():
    validator = _validator()
    data = yaml.safe_load(HEAD + "spec:\n  scan:\n    limits:\n      max_flaged_rows: 3\n")
    errors = list(validator.iter_errors(data))
    assert errors
    assert any("max_flaged_rows" in e.message for e in errors)


def test_json_schema_rejects_a_wrong_api_version():
    validator = _validator()
    data = yaml.safe_load(HEAD.replace("tunegate.io/v1", "tunegate.io/v2"))
    assert not validator.is_valid(data)
