"""One registry of classifiers by name; config entries are validated against the class.

``@register_classifier("name")`` on a class registers it. ``build_classifier(name, params)``
checks ``params`` against the class's keyword-only constructor arguments (types included)
and fails with the known names or the bad parameter, so a typo stops startup, not a scan.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import ConfigDict, ValidationError, create_model

from classifiers.base import Classifier

C = TypeVar("C", bound=type[Classifier])
_REGISTRY: dict[str, type[Classifier]] = {}
# Modules that register the built-in classifiers when imported.
BUILTIN_MODULES = (
    "classifiers.harm_embedding",
    "classifiers.profanity",
    "classifiers.detoxify_model",
    "classifiers.guard_model",
    "classifiers.moderation_api",
    "classifiers.llm_judge",
    "classifiers.blocklist",
    "classifiers.refusal_keywords",
)


class UnknownClassifier(ValueError):
    pass


class InvalidClassifierParams(ValueError):
    pass


def register_classifier(name: str) -> Callable[[C], C]:
    def decorate(cls: C) -> C:
        if name in _REGISTRY and _REGISTRY[name] is not cls:
            raise ValueError(f"classifier {name!r} is already registered by {_REGISTRY[name].__module__}")
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return decorate


def _load_builtins() -> None:
    for module in BUILTIN_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # a missing optional dependency inside the module
                raise


def known_classifiers() -> dict[str, type[Classifier]]:
    _load_builtins()
    return dict(sorted(_REGISTRY.items()))


def description(cls: type[Classifier]) -> str:
    """The first line of the class docstring: its public description."""
    return (inspect.getdoc(cls) or "").splitlines()[0] if cls.__doc__ else ""


def params_model(cls: type[Classifier]) -> type:
    """A pydantic model of the class's keyword-only constructor arguments."""
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(cls.__init__, eval_str=True).parameters.values():
        if parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            continue
        annotation = parameter.annotation if parameter.annotation is not inspect.Parameter.empty else Any
        default = parameter.default if parameter.default is not inspect.Parameter.empty else ...
        fields[parameter.name] = (annotation, default)
    return create_model(f"{cls.__name__}Params", __config__=ConfigDict(extra="forbid"), **fields)


def validate_params(name: str, params: dict[str, Any] | None) -> dict[str, Any]:
    classes = known_classifiers()
    if name not in classes:
        raise UnknownClassifier(f"unknown classifier {name!r}; known classifiers: {', '.join(classes)}")
    try:
        model = params_model(classes[name])
        return dict(model.model_validate(params or {}))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidClassifierParams(f"classifier {name!r}: parameter {where}: {first['msg']}") from None


def build_classifier(name: str, params: dict[str, Any] | None = None) -> Classifier:
    checked = validate_params(name, params)
    return known_classifiers()[name](**checked)
