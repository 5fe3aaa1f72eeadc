"""Org profiles: what real orgs differ in, for a sandbox to play.

A sandbox plays one org, but real orgs differ: multi-currency off, custom
fields absent, batch results in any order, blank values sent as ``""``,
records committed late. Each sandbox declares an :class:`OrgProfile` subclass
whose fields are those switches. Its defaults are the org the demo plays;
``hard`` turns every switch on (the connector contract suite runs under
both); a sandbox may add named presets of its own (Salesforce:
``single-currency``). A YAML file chooses any mix::

    # hub sandbox serve salesforce --profile my-org.yaml
    sandbox: salesforce        # optional; checked against the sandbox served
    extends: default           # a preset to start from (default: default)
    multi_currency: false
    corporate_currency: EUR

Every problem of a file is reported at once, as ``file:line: key: message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError

from handoff_hub.hub.config.schema import nearest_hint, pydantic_issues
from handoff_hub.hub.config.yamlio import load_yaml
from handoff_hub.hub.errors import ConfigError, Issue

__all__ = ["DEFAULT", "HARD", "OrgProfile", "ProfileChoice", "load_profile"]

DEFAULT = "default"
HARD = "hard"
_FILE_KEYS = ("sandbox", "extends")

P = TypeVar("P", bound="OrgProfile")


class OrgProfile(BaseModel):
    """The switches one product's orgs differ in; subclass per sandbox.

    Boolean fields are switches, off by default; :meth:`hard_values` turns
    every one on. A subclass overrides it where a switch is not a boolean,
    and :attr:`presets` for named profiles of its own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    product: ClassVar[str] = ""
    presets: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    """Named profiles besides ``default`` and ``hard``: preset name -> values."""

    @classmethod
    def hard_values(cls) -> dict[str, Any]:
        """The values of the ``hard`` profile: every boolean switch on."""
        return {
            name: True
            for name, info in cls.model_fields.items()
            if info.annotation is bool or bool in get_args(info.annotation)
        }

    @classmethod
    def preset_names(cls) -> list[str]:
        """Every preset this profile knows, ``default`` and ``hard`` first."""
        return [DEFAULT, HARD, *sorted(set(cls.presets) - {DEFAULT, HARD})]

    @classmethod
    def preset(cls, name: str) -> Self:
        """The named preset.

        Raises:
            ConfigError: No such preset (the message lists those there are).
        """
        return cls.model_validate(cls._preset_values(name, "<profile>", None))

    @classmethod
    def _preset_values(cls, name: str, file: str, line: int | None) -> dict[str, Any]:
        if name == DEFAULT:
            return {}
        if name == HARD:
            return cls.hard_values()
        if name in cls.presets:
            return dict(cls.presets[name])
        raise ConfigError(
            [
                Issue(
                    file,
                    line,
                    "profile",
                    f"no {cls.product or 'sandbox'} org profile {name!r}",
                    nearest_hint(name, cls.preset_names()),
                )
            ]
        )

    def switched_on(self) -> dict[str, Any]:
        """The settings that differ from the default org, for a banner or a log."""
        return {
            name: value
            for name, value in self.model_dump().items()
            if value != type(self).model_fields[name].get_default(call_default_factory=True)
        }


ProfileChoice = OrgProfile | str | Path | Mapping[str, Any] | None
"""What a sandbox's ``profile=`` takes: a profile, a preset name, a YAML file or its values."""


def load_profile(cls: type[P], choice: ProfileChoice) -> P:
    """The profile ``choice`` names, for the sandbox whose profile class is ``cls``.

    Args:
        cls: The sandbox's profile class.
        choice: None (the default org), a profile, a preset name (``hard``), the
            path of a YAML file, or a mapping of values.

    Raises:
        ConfigError: An unknown preset, an unreadable file, or values the
            profile refuses (every problem at once, with file and line).
    """
    if choice is None:
        return cls()
    if isinstance(choice, cls):
        return choice
    if isinstance(choice, OrgProfile):
        wrong = f"a {choice.product} profile given to the {cls.product} sandbox"
        raise ConfigError([Issue("<profile>", None, "profile", wrong)])
    if isinstance(choice, Mapping):
        return _validated(cls, dict(choice), "<profile>", {})
    text = str(choice)
    if isinstance(choice, Path) or text.endswith((".yaml", ".yml")) or Path(text).is_file():
        return _from_file(cls, Path(text))
    return cls.model_validate(cls._preset_values(text, "<profile>", None))


def _from_file(cls: type[P], path: Path) -> P:
    document = load_yaml(path)
    if document.issues:
        raise ConfigError(list(document.issues))
    data = document.data if document.data is not None else {}
    file = str(path)
    if not isinstance(data, Mapping):
        raise ConfigError([Issue(file, 1, "(document)", "an org profile is a mapping of settings")])
    values = dict(data)
    issues: list[Issue] = []
    named = values.pop("sandbox", None)
    if named is not None and named != cls.product:
        issues.append(
            Issue(
                file,
                document.line(("sandbox",)),
                "sandbox",
                f"this profile is for {named!r}, not the {cls.product} sandbox",
            )
        )
    base = values.pop("extends", DEFAULT)
    try:
        start = cls._preset_values(str(base), file, document.line(("extends",)))
    except ConfigError as exc:
        issues += [Issue(i.file, i.line, "extends", i.message, i.hint) for i in exc.issues]
        start = {}
    try:
        profile = _validated(cls, {**start, **values}, file, document.lines)
    except ConfigError as exc:
        issues += exc.issues
    if issues:
        raise ConfigError(issues)
    return profile


def _validated(
    cls: type[P], values: dict[str, Any], file: str, lines: Mapping[tuple[str | int, ...], int]
) -> P:
    issues = [
        Issue(
            file,
            lines.get((key,)),
            key,
            f"not a {cls.product} org setting",
            nearest_hint(key, [*cls.model_fields, *_FILE_KEYS]),
        )
        for key in values
        if key not in cls.model_fields
    ]
    known = {k: v for k, v in values.items() if k in cls.model_fields}
    try:
        profile = cls.model_validate(known)
    except ValidationError as exc:
        issues += pydantic_issues(exc, file=file, lines=lines)
        profile = None
    if issues or profile is None:
        raise ConfigError(issues)
    return profile
