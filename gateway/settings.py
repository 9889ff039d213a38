"""Configuration: ``tunegate.yaml`` overlaid by ``TUNEGATE_*`` environment variables.

Secrets are never written in the YAML: a value ``${NAME}`` is replaced by the environment
variable ``NAME`` at load time, and a missing variable stops startup. ``load_settings``
turns every problem into one ``ConfigError`` whose message names the field.
"""

from __future__ import annotations

import fnmatch
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.errors import ConfigError

DEFAULT_CONFIG_FILE = "tunegate.yaml"
DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024
LOCAL_TRAINER_PORT = 8090
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class UpstreamSettings(BaseModel):
    """One fine-tuning provider the gateway may forward to."""

    model_config = {"extra": "forbid"}

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    type: Literal["openai", "together"] = "openai"
    base_url: str
    api_key: SecretStr | None = None
    key_header: str = "Authorization"
    extra_query: dict[str, str] = Field(default_factory=dict)
    extra_headers: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=60.0, gt=0)
    max_attempts: int = Field(default=4, ge=1, le=20)
    # When set, only these models are offered as base models; otherwise the upstream's
    # /models list minus fine-tuned models.
    base_models: list[str] | None = None


class RouteSettings(BaseModel):
    """Base models matching ``model`` (a glob) are fine-tuned on ``upstream``."""

    model_config = {"extra": "forbid"}

    model: str
    upstream: str


class TrainerSettings(BaseModel):
    """The reference trainer that ``tunegate serve`` starts beside the gateway when embedded."""

    model_config = {"extra": "forbid"}

    embedded: bool = True
    host: str = "127.0.0.1"
    port: int = LOCAL_TRAINER_PORT


class WorkerSettings(BaseModel):
    model_config = {"extra": "forbid"}

    poll_interval: float = Field(default=5.0, gt=0, description="seconds between upstream job polls")
    idle_sleep: float = Field(default=0.5, gt=0, description="seconds a worker waits when no work is due")
    lease_seconds: float = Field(default=60.0, gt=1)
    max_attempts: int = Field(default=8, ge=1, description="tries of one work item before it fails")
    metrics_port: int | None = Field(
        default=None, ge=1, le=65535, description="`tunegate worker` serves /metrics here when set"
    )


class UISettings(BaseModel):
    """The reviewer web pages under /ui."""

    model_config = {"extra": "forbid"}

    enabled: bool = True
    session_ttl_seconds: int = Field(default=8 * 3600, ge=60, description="how long a sign-in lasts")
    secure_cookies: bool = Field(
        default=False, description="mark the session cookie Secure always (it is on https requests anyway)"
    )


def _local_trainer_upstream() -> list[UpstreamSettings]:
    return [UpstreamSettings(name="local", base_url=f"http://127.0.0.1:{LOCAL_TRAINER_PORT}/v1")]


class Settings(BaseSettings):
    """Everything the gateway reads at startup."""

    model_config = SettingsConfigDict(env_prefix="TUNEGATE_", env_nested_delimiter="__", extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    data_dir: Path = Path(".tunegate")
    database_url: str | None = None
    spool_dir: Path | None = None
    policy_dir: Path | None = None  # default: the policies shipped with tunegate
    policy_reload_interval: float = Field(default=2.0, gt=0, description="seconds between policy dir checks")
    max_upload_bytes: int = Field(default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)
    max_line_bytes: int = Field(default=4 * 1024 * 1024, gt=0)
    upload_expiry_seconds: int = Field(default=3600, gt=0)
    max_inflight_requests: int = Field(
        default=512, ge=1, description="requests handled at once; past it, 503 `overloaded` with Retry-After"
    )
    upstreams: list[UpstreamSettings] = Field(default_factory=_local_trainer_upstream)
    routes: list[RouteSettings] = Field(default_factory=lambda: [RouteSettings(model="*", upstream="local")])
    trainer: TrainerSettings = Field(default_factory=TrainerSettings)
    worker: WorkerSettings = Field(default_factory=WorkerSettings)
    ui: UISettings = Field(default_factory=UISettings)
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The environment overrides the YAML file (passed in as init values).
        return (env_settings, init_settings)

    @model_validator(mode="after")
    def _check_references(self) -> Settings:
        names = [u.name for u in self.upstreams]
        if len(set(names)) != len(names):
            raise ValueError(f"upstream names must be unique, got {names}")
        for route in self.routes:
            if route.upstream not in names:
                raise ValueError(
                    f"route for model {route.model!r} names upstream {route.upstream!r}, "
                    f"which is not configured; known upstreams: {', '.join(names) or 'none'}"
                )
        return self

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'tunegate.db'}"

    @property
    def resolved_policy_dir(self) -> Path:
        import policies

        return self.policy_dir or Path(policies.__file__).resolve().parent

    @property
    def resolved_spool_dir(self) -> Path:
        return self.spool_dir or self.data_dir / "spool"

    def upstream_for_model(self, model: str) -> str | None:
        """The first route whose glob matches the base model, or None."""
        for route in self.routes:
            if fnmatch.fnmatchcase(model, route.model):
                return route.upstream
        return None


class _Resolved(Settings):
    """Settings already merged from file and environment; explicit overrides win over both."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _expand_env(value: Any, where: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _expand_env(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_env(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in os.environ:
                raise ConfigError(f"config {where}: environment variable {name} is referenced but not set")
            return os.environ[name]

        return _ENV_REF.sub(replace, value)
    return value


def _format_validation_error(error: ValidationError, source: str) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = len(error.errors()) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return f"invalid configuration in {source}: {location}: {first['msg']}{suffix}"


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Read the YAML file (``TUNEGATE_CONFIG`` or ./tunegate.yaml when present), then the environment.

    ``overrides`` win over both (the CLI's flags and the tests use them).
    """
    chosen = path or os.environ.get("TUNEGATE_CONFIG")
    source = "defaults"
    data: dict[str, Any] = {}
    config_path = Path(chosen) if chosen else Path(DEFAULT_CONFIG_FILE)
    if chosen and not config_path.is_file():
        raise ConfigError(f"config file {config_path} does not exist")
    if config_path.is_file():
        source = str(config_path)
        try:
            loaded = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {config_path} is not valid YAML: {exc}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {config_path} must hold a mapping at the top level")
        data = _expand_env(loaded)
    try:
        settings = Settings(**data)
        if overrides:
            settings = _Resolved(**{**settings.model_dump(), **overrides})
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(exc, source)) from None
    return settings
