"""Configuration: YAML, environment, ${ENV} secrets, one clear message for a bad config."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gateway.errors import ConfigError
from gateway.settings import load_settings


def test_defaults_are_the_embedded_setup(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.resolved_database_url.startswith("sqlite+aiosqlite:///")
    assert settings.upstreams[0].name == "local" and settings.trainer.embedded
    assert settings.upstream_for_model("anything") == "local"


def test_yaml_env_and_secret_references(tmp_path, monkeypatch):
    config = tmp_path / "tunegate.yaml"
    config.write_text(
        "port: 9000\n"
        "upstreams:\n"
        "  - {name: azure, base_url: 'https://x/openai/v1', api_key: '${AZ_KEY}', key_header: api-key,\n"
        "     extra_query: {api-version: '2024-10-21'}}\n"
        "  - {name: local, base_url: 'http://127.0.0.1:8090/v1'}\n"
        "routes:\n  - {model: 'gpt-4o*', upstream: azure}\n  - {model: '*', upstream: local}\n"
    )
    monkeypatch.setenv("AZ_KEY", "sk-secret")
    monkeypatch.setenv("TUNEGATE_PORT", "9100")
    settings = load_settings(config)
    assert settings.port == 9100  # the environment wins over the file
    assert settings.upstreams[0].api_key.get_secret_value() == "sk-secret"
    assert "sk-secret" not in repr(settings)
    assert settings.upstream_for_model("gpt-4o-mini") == "azure"
    assert settings.upstream_for_model("llama") == "local"
    assert load_settings(config, port=1234).port == 1234  # explicit overrides win over both


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("port: [1]\n", "port"),
        ("unknown_key: 1\n", "unknown_key"),
        ("routes: [{model: '*', upstream: nowhere}]\n", "nowhere"),
        (
            "upstreams: [{name: a, base_url: 'http://x', api_key: '${NOT_SET_ANYWHERE}'}]\n",
            "NOT_SET_ANYWHERE",
        ),
        ("port: 80\n  bad: : yaml\n", "not valid YAML"),
        ("- a list\n", "mapping"),
        ("upstreams: [{name: a, type: grpc, base_url: 'http://x'}]\n", "type"),
    ],
)
def test_bad_config_is_one_clear_message(tmp_path, text, expected):
    config = tmp_path / "tunegate.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    assert expected in str(caught.value)


def test_bad_config_stops_the_cli_with_one_line(tmp_path):
    config = tmp_path / "tunegate.yaml"
    config.write_text("routes: [{model: '*', upstream: nowhere}]\n")
    result = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "--config", str(config), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "nowhere" in result.stderr
