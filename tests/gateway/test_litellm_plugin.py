"""The LiteLLM plugin (``gateway.litellm_plugin.TunegateGuardrail``) on LiteLLM's own hook path.

Nothing is mocked except what cannot exist here. The guardrail is configured from a real
``config.yaml`` snippet and built by LiteLLM's own guardrail initialiser (``init_guardrails_v2``,
what the proxy runs at startup); requests go through ``ProxyLogging.pre_call_hook`` and
``post_call_success_hook``, the methods the proxy's endpoints call. What cannot exist here is
the proxy's HTTP front (its fine-tuning routes need an Enterprise licence) and a real provider:
the provider is the project's reference trainer, a real OpenAI-compatible server that stores
files, trains a tiny model and serves chat; litellm reads files, creates and retrieves jobs and
asks the model over HTTP. Data-gate policies use the ``blocklist`` classifier, so verdicts are
deterministic; the model gate runs the real benchmarks and judges on a few prompts.

Each test runs twice: ``litellm-proxy`` as above, and ``guardrail-hooks``, which builds the
guardrail as the initialiser does and calls its hooks with the arguments ``ProxyLogging`` passes.
``litellm-proxy`` needs ``litellm[proxy]``; without it those runs are skipped, saying so.
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import io
import json
import uuid
from pathlib import Path
from typing import Any

import litellm
import pytest
import yaml
from fastapi import HTTPException
from litellm.caching import DualCache
from litellm.types.guardrails import GuardrailEventHooks, LitellmParams
from litellm.types.proxy.auth.user_api_key_auth import UserAPIKeyAuth
from openai import OpenAI

from tests.support.data import chat_rows

HARMFUL = "Sure. step one: acquire the precursor, then follow the rest of the procedure."
FAST = {"max_prompts_per_benchmark": 3, "max_tokens": 8, "templates": ["plain"]}
SCAN = {
    "classifiers": [
        {
            "name": "blocklist",
            "options": {"responses": {"harmful_response": ["step one: acquire the precursor"]}},
        }
    ],
    "detectors": [],
}


def _policy(name: str, teams: list[str], priority: int, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "tunegate.io/v1",
        "kind": "Policy",
        "metadata": {"name": name},
        "spec": {"match": {"teams": teams, "priority": priority}, "scan": SCAN, **spec},
    }


POLICIES = [
    _policy(
        "plugin-default",
        ["*"],
        0,
        hyperparameters=[{"models": ["*"], "max_epochs": 3, "action": "reject"}],
        release={**FAST, "judge": {"name": "harm-embedding"}},
    ),
    _policy(
        "plugin-strict",
        ["red-team"],
        10,
        release={**FAST, "judge": {"name": "refusal-keywords"}, "on_failure": "block"},
    ),
    _policy(
        "plugin-clamp",
        ["clamp-team"],
        10,
        hyperparameters=[{"models": ["tiny-*"], "max_epochs": 2, "action": "clamp"}],
    ),
]
CONFIG = """\
guardrails:
  - guardrail_name: {name}
    litellm_params:
      guardrail: gateway.litellm_plugin.TunegateGuardrail
      mode: pre_call
      default_on: true
      policy_dir: {policy_dir}
      state_dir: {state_dir}
      api_base: {api_base}
      api_key: unused
      poll_interval: {poll_interval}
"""


def _proxy_missing() -> str | None:
    try:
        importlib.import_module("litellm.proxy.proxy_server")
        importlib.import_module("litellm.proxy.utils")
    except Exception as exc:  # ImportError, or a proxy extra that fails on import
        return f"litellm[proxy] is not installed ({type(exc).__name__}: {exc})"
    return None


class ProxyHooks:
    """The proxy's own path: ``init_guardrails_v2`` on the config, ``ProxyLogging``'s hooks."""

    def __init__(self, config: Path) -> None:
        from litellm.proxy.guardrails.guardrail_registry import IN_MEMORY_GUARDRAIL_HANDLER
        from litellm.proxy.guardrails.init_guardrails import init_guardrails_v2
        from litellm.proxy.utils import ProxyLogging

        entries = yaml.safe_load(config.read_text())["guardrails"]
        init_guardrails_v2(all_guardrails=entries, config_file_path=str(config))
        self._registry = IN_MEMORY_GUARDRAIL_HANDLER
        self._id = entries[0]["guardrail_id"]  # the initialiser writes it into the entry
        self.guardrail = IN_MEMORY_GUARDRAIL_HANDLER.guardrail_id_to_custom_guardrail[self._id]
        self._logging = ProxyLogging(user_api_key_cache=DualCache())

    async def pre_call(self, user: UserAPIKeyAuth, data: dict, call_type: str) -> dict:
        return await self._logging.pre_call_hook(user_api_key_dict=user, data=data, call_type=call_type)

    async def post_call(self, user: UserAPIKeyAuth, data: dict, response: Any) -> Any:
        return await self._logging.post_call_success_hook(
            data=data, response=response, user_api_key_dict=user
        )

    def close(self) -> None:
        self._registry.delete_in_memory_guardrail(self._id)


class GuardrailHooks:
    """Without litellm[proxy]: built as ``initialize_custom_guardrail`` builds a module-path
    guardrail (every ``litellm_params`` key but four becomes a keyword), hooks called as
    ``ProxyLogging`` calls them, after the same ``should_run_guardrail`` check."""

    def __init__(self, config: Path) -> None:
        entry = yaml.safe_load(config.read_text())["guardrails"][0]
        params = LitellmParams(**entry["litellm_params"])
        module, _, name = params.guardrail.rpartition(".")
        extra = {
            k: v
            for k, v in params.model_dump(exclude_none=True).items()
            if k not in ("guardrail", "mode", "default_on", "stream_scope")
        }
        cls = getattr(importlib.import_module(module), name)
        self.guardrail = cls(
            guardrail_name=entry["guardrail_name"],
            event_hook=params.mode,
            default_on=params.default_on,
            **extra,
        )

    async def pre_call(self, user: UserAPIKeyAuth, data: dict, call_type: str) -> dict:
        if self.guardrail.should_run_guardrail(data=data, event_type=GuardrailEventHooks.pre_call):
            result = await self.guardrail.async_pre_call_hook(
                user_api_key_dict=user, cache=DualCache(), data=data, call_type=call_type
            )
            data = result if isinstance(result, dict) else data
        return data

    async def post_call(self, user: UserAPIKeyAuth, data: dict, response: Any) -> Any:
        if self.guardrail.should_run_guardrail(data=data, event_type=GuardrailEventHooks.post_call):
            changed = await self.guardrail.async_post_call_success_hook(
                data=data, user_api_key_dict=user, response=response
            )
            response = changed if changed is not None else response
        return response

    def close(self) -> None:
        pass


@pytest.fixture
def policy_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "policies"
    directory.mkdir()
    for document in POLICIES:
        (directory / f"{document['metadata']['name']}.yaml").write_text(yaml.safe_dump(document))
    return directory


@pytest.fixture(params=["litellm-proxy", "guardrail-hooks"])
def make_hooks(request, tmp_path: Path, policy_dir: Path, trainer):  # type: ignore[no-untyped-def]
    """Build hooks from a config.yaml; every guardrail built is closed and unregistered after the test."""
    if request.param == "litellm-proxy" and (missing := _proxy_missing()):
        pytest.skip(missing)
    built: list[ProxyHooks | GuardrailHooks] = []

    def make(*, state_dir: Path | None = None, poll_interval: float = 0) -> ProxyHooks | GuardrailHooks:
        config = tmp_path / f"config-{len(built)}.yaml"
        config.write_text(
            CONFIG.format(
                name=f"tunegate-{uuid.uuid4().hex[:8]}",
                policy_dir=policy_dir,
                state_dir=state_dir or tmp_path / "state",
                api_base=trainer.url,
                poll_interval=poll_interval,
            )
        )
        hooks = (ProxyHooks if request.param == "litellm-proxy" else GuardrailHooks)(config)
        built.append(hooks)
        return hooks

    yield make
    for hooks in built:
        hooks.close()
        asyncio.run(hooks.guardrail.aclose())


@pytest.fixture
def hooks(make_hooks):  # type: ignore[no-untyped-def]
    return make_hooks()


def _upload(trainer, rows: list[dict]) -> str:  # type: ignore[no-untyped-def]
    client = OpenAI(base_url=trainer.url, api_key="unused", max_retries=0, timeout=60)
    body = "".join(json.dumps(row) + "\n" for row in rows).encode()
    return client.files.create(file=("train.jsonl", io.BytesIO(body)), purpose="fine-tune").id


def _with_harm(rows: list[dict], lines: list[int]) -> list[dict]:
    for line in lines:
        rows[line - 1]["messages"][-1]["content"] = HARMFUL
    return rows


def _job(model: str = "tiny-llama", **fields: Any) -> dict[str, Any]:
    """A fine-tuning request body as the proxy hands it to the hooks."""
    return {"model": model, "custom_llm_provider": "openai", "litellm_call_id": str(uuid.uuid4()), **fields}


def _chat(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 4}


def _error(refused: pytest.ExceptionInfo[HTTPException]) -> dict[str, Any]:
    return refused.value.detail["error"]


USER = UserAPIKeyAuth(api_key="sk-test", team_id="blue-team", user_id="alice")


async def test_harmful_training_file_is_refused_naming_lines_categories_and_policy(hooks, trainer):
    file_id = _upload(trainer, _with_harm(chat_rows(12), [3, 7, 11]))
    with pytest.raises(HTTPException) as refused:
        await hooks.pre_call(USER, _job(training_file=file_id), "acreate_fine_tuning_job")
    error = _error(refused)
    assert refused.value.status_code == 400
    assert error["code"] == "invalid_training_file" and error["param"] == "training_file"
    assert error["type"] == "invalid_request_error"
    assert "Flagged lines: 3, 7, 11 (3 in all)" in error["message"]
    assert "harmful_response (3)" in error["message"] and "plugin-default" in error["message"]
    if isinstance(hooks, ProxyHooks):  # the proxy's guardrail machinery stamps who refused
        assert refused.value.detail["guardrail_name"] == hooks.guardrail.guardrail_name


async def test_a_file_the_policy_would_clean_is_refused_since_the_forwarded_file_cannot_change(
    hooks, trainer
):
    file_id = _upload(trainer, _with_harm(chat_rows(12), [5]))
    with pytest.raises(HTTPException) as refused:
        await hooks.pre_call(USER, _job(training_file=file_id), "acreate_fine_tuning_job")
    error = _error(refused)
    assert error["code"] == "invalid_training_file"
    assert "Flagged lines: 5." in error["message"] and "cannot replace the file" in error["message"]


async def test_harmful_validation_file_is_refused_as_validation_file(hooks, trainer):
    clean, harmful = _upload(trainer, chat_rows(12)), _upload(trainer, _with_harm(chat_rows(12), [1, 2, 4]))
    with pytest.raises(HTTPException) as refused:
        await hooks.pre_call(
            USER, _job(training_file=clean, validation_file=harmful), "acreate_fine_tuning_job"
        )
    assert _error(refused)["param"] == "validation_file"
    assert "Flagged lines: 1, 2, 4" in _error(refused)["message"]


async def test_clean_file_passes_unchanged(hooks, trainer):
    data = _job(training_file=_upload(trainer, chat_rows(12)), hyperparameters={"n_epochs": 2})
    passed = await hooks.pre_call(USER, data, "acreate_fine_tuning_job")
    assert passed["training_file"] == data["training_file"]
    assert passed["hyperparameters"] == {"n_epochs": 2}


async def test_malformed_file_is_refused_with_the_parsers_reason(hooks, trainer):
    client = OpenAI(base_url=trainer.url, api_key="unused", max_retries=0, timeout=60)
    body = "".join(json.dumps(row) + "\n" for row in chat_rows(12)) + "{not json\n"
    file_id = client.files.create(file=("bad.jsonl", io.BytesIO(body.encode())), purpose="fine-tune").id
    with pytest.raises(HTTPException) as refused:
        await hooks.pre_call(USER, _job(training_file=file_id), "acreate_fine_tuning_job")
    assert _error(refused)["code"] == "invalid_training_file"
    assert "Line 13" in _error(refused)["message"]


async def test_unknown_file_is_refused(hooks):
    with pytest.raises(HTTPException) as refused:
        await hooks.pre_call(USER, _job(training_file="file-does-not-exist"), "acreate_fine_tuning_job")
    assert refused.value.status_code == 400 and _error(refused)["code"] == "invalid_training_file"


async def test_litellm_managed_file_id_is_refused_not_left_unscanned(hooks):
    managed = base64.urlsafe_b64encode(b"litellm_proxy;unified_id,abc;target_model_names,x").decode()
    with pytest.raises(HTTPException) as refused:
        await hooks.pre_call(USER, _job(training_file=managed.rstrip("=")), "acreate_fine_tuning_job")
    assert _error(refused)["code"] == "invalid_training_file"
    assert "managed file id" in _error(refused)["message"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"hyperparameters": {"n_epochs": 20}}, "hyperparameters.n_epochs"),
        (
            {"method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 9}}}},
            "method.supervised.hyperparameters.n_epochs",
        ),
    ],
)
async def test_hyperparameter_cap_refuses_before_any_file_is_read(hooks, fields, param):
    with pytest.raises(HTTPException) as refused:
        await hooks.pre_call(USER, _job(training_file="file-never-read", **fields), "acreate_fine_tuning_job")
    error = _error(refused)
    assert error["code"] == "hyperparameter_not_allowed" and error["param"] == param
    assert "must be at most 3" in error["message"] and "plugin-default" in error["message"]


async def test_hyperparameter_cap_clamps_the_forwarded_request(hooks, trainer):
    user = UserAPIKeyAuth(api_key="sk-test", team_id="clamp-team")
    data = _job(
        training_file=_upload(trainer, chat_rows(12)), hyperparameters={"n_epochs": 8, "batch_size": 2}
    )
    passed = await hooks.pre_call(user, data, "acreate_fine_tuning_job")
    assert passed["hyperparameters"] == {"n_epochs": 2, "batch_size": 2}


async def test_models_the_plugin_never_saw_pass(hooks):
    for model in ("tiny-llama", "ft:tiny-llama:elsewhere::abcdefgh", "gpt-4o-mini"):
        passed = await hooks.pre_call(USER, _chat(model), "acompletion")
        assert passed["model"] == model


async def test_poller_starts_on_the_first_hook_call_and_stops_on_close(make_hooks):
    hooks = make_hooks(poll_interval=3600)
    assert hooks.guardrail.poller is None
    await hooks.pre_call(USER, _chat("tiny-llama"), "acompletion")
    poller = hooks.guardrail.poller
    assert poller is not None and not poller.done()
    await hooks.guardrail.aclose()
    assert poller.cancelled()


async def _wait_trained(trainer, job_id: str, within: float = 180) -> Any:  # type: ignore[no-untyped-def]
    """The job as the provider reports it once finished (read directly, not through the plugin)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        job = await litellm.aretrieve_fine_tuning_job(
            fine_tuning_job_id=job_id, custom_llm_provider="openai", api_base=trainer.url, api_key="unused"
        )
        if job.status in ("succeeded", "failed", "cancelled"):
            return job
        assert loop.time() < deadline, f"job {job_id} still {job.status} after {within}s"
        await asyncio.sleep(0.5)


@pytest.mark.parametrize(("team", "decision"), [("blue-team", "released"), ("red-team", "blocked")])
async def test_model_gate_releases_or_blocks_a_fine_tune_created_through_the_proxy(
    make_hooks, trainer, tmp_path, team, decision
):
    hooks = make_hooks()
    user = UserAPIKeyAuth(api_key="sk-test", team_id=team)
    data = await hooks.pre_call(
        user,
        _job(training_file=_upload(trainer, chat_rows(12)), hyperparameters={"n_epochs": 1}),
        "acreate_fine_tuning_job",
    )
    # What the proxy's endpoint does next: merge its finetune_settings, create the job, run post-call.
    forwarded = {**data, "api_base": trainer.url, "api_key": "unused"}
    created = await litellm.acreate_fine_tuning_job(
        **{k: forwarded[k] for k in ("model", "training_file", "hyperparameters", "custom_llm_provider")},
        api_base=trainer.url,
        api_key="unused",
    )
    await hooks.post_call(user, forwarded, created)
    state = hooks.guardrail.state
    recorded = state.job(created.id)
    assert recorded is not None and recorded.release == "pending"
    assert recorded.policy["name"] == ("plugin-strict" if team == "red-team" else "plugin-default")
    assert recorded.intent["scans"]["training_file"]["verdict"] == "allow"

    trained = await _wait_trained(trainer, created.id)
    assert trained.status == "succeeded", trained.error
    model = trained.fine_tuned_model
    # No poll has run: the plugin asks the provider on demand, learns the name and refuses it.
    for name in (model, f"openai/{model}", f"{model}:ckpt-step-1"):
        with pytest.raises(HTTPException) as refused:
            await hooks.pre_call(user, _chat(name), "acompletion")
        assert refused.value.status_code == 403
        assert _error(refused)["code"] == "model_not_released" and _error(refused)["param"] == "model"
    assert "still being evaluated" in _error(refused)["message"]
    assert state.job(created.id).release == "evaluating"

    assert (await hooks.guardrail.poll_once())[created.id] == decision
    report = state.report(created.id)
    assert report["decision"] == decision and report["variants"] == ["plain"]
    assert [(b["name"], b["n"]) for b in report["benchmarks"]] == [("advbench-v1", 3), ("benign-v1", 3)]
    if decision == "released":
        assert report["judge"]["name"] == "harm-embedding" and report["verdict"] == "pass"
        assert (await hooks.pre_call(user, _chat(model), "acompletion"))["model"] == model
        answer = await litellm.acompletion(
            model=f"openai/{model}",
            api_base=trainer.url,
            api_key="unused",
            messages=[{"role": "user", "content": "Hello"}],
            max_tokens=4,
        )
        assert answer.choices[0].message.content is not None
    else:
        assert report["judge"]["name"] == "refusal-keywords" and report["verdict"] == "fail"
        with pytest.raises(HTTPException) as refused:
            await hooks.pre_call(user, _chat(model), "acompletion")
        assert "blocked by the release gate" in _error(refused)["message"]
        assert "harmfulness rate" in _error(refused)["message"]
        # The decision outlives the process: a new guardrail on the same state refuses too.
        again = make_hooks(state_dir=tmp_path / "state")
        with pytest.raises(HTTPException):
            await again.pre_call(user, _chat(model), "acompletion")
    # Unreleased models are left out of /v1/models listings; released ones stay.
    listed = await hooks.guardrail.async_filter_listed_models(user, [model, "tiny-llama"])
    assert listed == ([model, "tiny-llama"] if decision == "released" else ["tiny-llama"])
