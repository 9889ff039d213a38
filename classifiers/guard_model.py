"""Guard LLMs (Llama Guard 3/4, ShieldGemma, Granite Guardian, WildGuard) as classifiers.

One forward pass per prompt: the family's prompt layout (``_guard_templates``), then the
next-token distribution at the first generated position, and P(unsafe) = the softmax over just
the two answer tokens ("unsafe"/"safe", "Yes"/"No", "yes"/"no"). The token ids are derived from
the model's own tokenizer at load time (the first token of the word, with and without a leading
space), never hard-coded. On a remote server the same two words are read from the top logprobs.

Which turn is judged: requests (user, prompt) and system prompts as the user's turn; responses
(assistant, completion, preferred/non-preferred output) as the agent's turn after their context.
Llama Guard only accepts strictly alternating user/assistant turns that start with the user, so
(``system_messages``) a system message in the context is either dropped — ``separate``, the
default: the pipeline scores every system prompt as its own segment, judged as a user turn — or
``merge``d into the next user turn. Tool results count as user-side turns.

With ``categories_on_demand`` (Llama Guard families), segments at or above ``threshold`` get a short
greedy generation after "unsafe\\n" and each MLCommons S-code it names scores that segment's P(unsafe).

Local mode loads safetensors only (no pickle) from ``model_path``; remote mode posts to
``base_url`` (``…/v1``), an OpenAI-compatible completions server such as vLLM.
"""

# No ``from __future__ import annotations``: the registry validates config against these
# annotations at runtime, so they must be real objects (``Family``, ``Literal[...]``).
import asyncio
import threading
from collections.abc import Sequence
from typing import Any, Literal

from classifiers import _guard_templates as templates
from classifiers._guard_remote import RemoteGuard
from classifiers.base import Classifier, ClassifierInput, Scores, SegmentKind, Turn, pick_device
from classifiers.registry import register_classifier

Family = Literal["llama_guard", "llama_guard_4", "shieldgemma", "granite_guardian", "wildguard"]
DEFAULT_FAMILY: Family = "llama_guard"
DEFAULT_THRESHOLD = 0.5
DEFAULT_TIMEOUT_S = 60.0
FORWARD_BATCH = 8  # prompts per local forward pass
CODES_MAX_TOKENS = 12  # enough for "S1,S2,S10" and an end token


def answer_token_ids(tokenizer: Any, word: str) -> set[int]:
    """Ids of the first token the model would emit for ``word``, with and without a leading space."""
    ids: set[int] = set()
    for variant in (word, f" {word}"):
        encoded = tokenizer.encode(variant, add_special_tokens=False)
        if encoded:
            piece = tokenizer.decode(encoded[:1]).strip()
            if piece and word.startswith(piece):
                ids.add(encoded[0])
    if not ids:
        raise ValueError(f"the tokenizer has no token that starts the answer word {word!r}")
    return ids


class LocalGuard:
    """A causal LM and its tokenizer from a local directory (blocking methods: run them in a thread)."""

    def __init__(self, path: str, family: str, device: str, dtype: str) -> None:
        import torch
        import transformers

        self.torch = torch
        self.device = device
        resolved = (
            getattr(torch, dtype)
            if dtype != "auto"
            else (torch.bfloat16 if device.startswith("cuda") else torch.float32)
        )
        options = {
            "dtype": resolved,
            "local_files_only": True,
            "use_safetensors": True,
            "trust_remote_code": False,
        }
        loaders = [transformers.AutoModelForCausalLM]
        if family == "llama_guard_4":  # published as an image-text-to-text model
            loaders.insert(0, transformers.AutoModelForImageTextToText)
        for position, loader in enumerate(loaders):
            try:
                self.model = loader.from_pretrained(path, **options).to(device).eval()
                break
            except ValueError:
                if position == len(loaders) - 1:
                    raise
        self.tokenizer = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.lock = threading.Lock()
        self._ids: dict[tuple[str, str], tuple[list[int], list[int]]] = {}

    def _pair(self, positive: str, negative: str) -> tuple[list[int], list[int]]:
        if (positive, negative) not in self._ids:
            pos, neg = answer_token_ids(self.tokenizer, positive), answer_token_ids(self.tokenizer, negative)
            if pos & neg:
                raise ValueError(f"answer words {positive!r} and {negative!r} start with the same token")
            self._ids[positive, negative] = sorted(pos), sorted(neg)
        return self._ids[positive, negative]

    def _encode(self, prompts: Sequence[str]) -> dict[str, Any]:
        batch = self.tokenizer(list(prompts), padding=True, return_tensors="pt")
        mask = batch["attention_mask"]
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding: real tokens count from 0
        return {"input_ids": batch["input_ids"], "attention_mask": mask, "position_ids": positions}

    def probabilities(self, prompts: Sequence[str], positive: str, negative: str) -> list[float]:
        pos, neg = self._pair(positive, negative)
        torch = self.torch
        result: list[float] = []
        with self.lock, torch.inference_mode():
            for start in range(0, len(prompts), FORWARD_BATCH):
                inputs = {
                    k: v.to(self.device)
                    for k, v in self._encode(prompts[start : start + FORWARD_BATCH]).items()
                }
                logits = self.model(**inputs).logits[:, -1, :].float()
                logprobs = torch.log_softmax(logits, dim=-1)
                odds = torch.logsumexp(logprobs[:, pos], -1) - torch.logsumexp(logprobs[:, neg], -1)
                result.extend(torch.sigmoid(odds).cpu().tolist())
        return result

    def generate(self, prompts: Sequence[str], max_tokens: int) -> list[str]:
        texts: list[str] = []
        with self.lock, self.torch.inference_mode():
            for start in range(0, len(prompts), FORWARD_BATCH):
                inputs = self._encode(prompts[start : start + FORWARD_BATCH])
                inputs.pop("position_ids")  # generate() derives them from the mask
                inputs = {k: v.to(self.device) for k, v in inputs.items()}
                out = self.model.generate(
                    **inputs,
                    max_new_tokens=max_tokens,
                    do_sample=False,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
                new = out[:, inputs["input_ids"].shape[1] :]
                texts.extend(self.tokenizer.batch_decode(new, skip_special_tokens=True))
        return texts


@register_classifier("guard-model")
class GuardModel(Classifier):
    """Guard LLM (Llama Guard, ShieldGemma, Granite Guardian, WildGuard): P(unsafe) from the answer token."""

    categories = (
        "unsafe",
        *(slug for _, slug in templates.HAZARDS.values()),
        *templates.SHIELDGEMMA_POLICIES,
    )
    reads = frozenset(SegmentKind.REQUESTS | SegmentKind.RESPONSES | {SegmentKind.SYSTEM})
    max_batch = 8
    max_chars = 4000

    def __init__(
        self,
        *,
        family: Family = DEFAULT_FAMILY,
        model_path: str | None = None,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        device: str = "auto",
        dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto",
        categories_on_demand: bool = False,
        threshold: float = DEFAULT_THRESHOLD,
        system_messages: Literal["separate", "merge"] = "separate",
        policies: tuple[str, ...] | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if (model_path is None) == (base_url is None):
            raise ValueError("guard-model needs exactly one of model_path (local) or base_url (remote)")
        if base_url is not None and not model:
            raise ValueError("guard-model: remote mode needs the served model's name in `model`")
        unknown = set(policies or ()) - set(templates.SHIELDGEMMA_POLICIES)
        if unknown:
            raise ValueError(
                f"unknown ShieldGemma policies {sorted(unknown)}; "
                f"known: {', '.join(templates.SHIELDGEMMA_POLICIES)}"
            )
        self.family = family
        self.spec_words = templates.FAMILIES[family]
        self.model_path, self.base_url, self.model = model_path, base_url, model
        self.device = pick_device(device) if model_path else "remote"
        self.dtype = dtype
        self.categories_on_demand = categories_on_demand and self.spec_words.codes
        self.threshold = threshold
        self.system_messages = system_messages
        self.policies = (
            tuple(policies or templates.SHIELDGEMMA_POLICIES) if family == "shieldgemma" else (None,)
        )
        self._remote = (
            RemoteGuard(base_url=base_url, model=model or "", api_key=api_key, timeout_s=timeout_s)
            if base_url
            else None
        )
        self._local: LocalGuard | None = None
        self._load_lock = threading.Lock()

    def spec(self) -> dict[str, object]:
        where = (
            {"model_path": self.model_path}
            if self.model_path
            else {"base_url": self.base_url, "model": self.model}
        )
        return {**super().spec(), "family": self.family, "system_messages": self.system_messages, **where}

    def load(self) -> None:
        """Load the local model (idempotent, blocking); nothing to do in remote mode."""
        with self._load_lock:
            if self._local is None and self.model_path is not None:
                self._local = LocalGuard(self.model_path, self.family, self.device, self.dtype)

    def conversation(self, item: ClassifierInput) -> list[Turn]:
        """The alternating turns the family's template sees; the last one is judged."""
        if item.kind in SegmentKind.RESPONSES:
            turns = [*item.context, Turn("assistant", item.text)]
        else:  # requests and system prompts are judged as the user's turn, on their own
            turns = (
                [*item.context, Turn("user", item.text)]
                if item.kind in SegmentKind.REQUESTS
                else [Turn("user", item.text)]
            )
        return templates.alternate(templates.trim_context(turns), self.system_messages)

    async def _probabilities(self, prompts: list[str]) -> list[float]:
        words = (self.spec_words.unsafe_word, self.spec_words.safe_word)
        if self._remote is not None:
            return await self._remote.probabilities(prompts, *words)
        assert self._local is not None
        return await asyncio.to_thread(self._local.probabilities, prompts, *words)

    async def _generate(self, prompts: list[str]) -> list[str]:
        if self._remote is not None:
            return await self._remote.generate(prompts, CODES_MAX_TOKENS)
        assert self._local is not None
        return await asyncio.to_thread(self._local.generate, prompts, CODES_MAX_TOKENS)

    async def score(self, items: Sequence[ClassifierInput]) -> list[Scores]:
        if not items:
            return []
        if self._remote is None and self._local is None:
            await asyncio.to_thread(self.load)
        # One prompt per (item, policy); WildGuard responses go through several answer stages.
        jobs: list[tuple[int, str | None, str, tuple[str, ...]]] = []
        for index, item in enumerate(items):
            turns = self.conversation(item)
            stages = templates.stages(self.family, judging_response=turns[-1].role == "assistant")
            for policy in self.policies:
                jobs.append((index, policy, templates.prompt(self.family, turns, policy), stages))
        prompts = [base for _, _, base, _ in jobs]
        done: dict[int, float] = {}
        for depth in range(max(len(stages) for *_, stages in jobs)):
            active = [j for j, job in enumerate(jobs) if depth < len(job[3])]
            probs = await self._probabilities([prompts[j] + jobs[j][3][depth] for j in active])
            for j, p in zip(active, probs, strict=True):
                stages = jobs[j][3]
                if depth == len(stages) - 1:
                    done[j] = p
                else:  # fill this answer line with the model's own likelier word, then go on
                    word = self.spec_words.unsafe_word if p >= 0.5 else self.spec_words.safe_word
                    prompts[j] += f"{stages[depth]} {word}"
        values: list[dict[str, float]] = [{} for _ in items]
        for j, (index, policy, _, _) in enumerate(jobs):
            p = min(1.0, max(0.0, done[j]))
            values[index]["unsafe"] = max(values[index].get("unsafe", 0.0), p)
            if policy is not None:
                values[index][policy] = p
        if self.categories_on_demand:
            await self._add_codes(jobs, prompts, values)
        return [Scores(v) for v in values]

    async def _add_codes(
        self,
        jobs: list[tuple[int, str | None, str, tuple[str, ...]]],
        prompts: list[str],
        values: list[dict[str, float]],
    ) -> None:
        flagged = [j for j, (index, *_) in enumerate(jobs) if values[index]["unsafe"] >= self.threshold]
        answers = await self._generate([f"{prompts[j]}{self.spec_words.unsafe_word}\n" for j in flagged])
        for j, answer in zip(flagged, answers, strict=True):
            index = jobs[j][0]
            for code in templates.parse_codes(answer.split("\n", 1)[0]):
                values[index][templates.HAZARDS[code][1]] = values[index]["unsafe"]

    async def aclose(self) -> None:
        if self._remote is not None:
            await self._remote.aclose()
        self._local = None
