"""Who manages a new delivery project: the ``manager:`` steps of won-to-project.

The first step that gives an address wins: a deal field, the first matching
rule (an address, or a round-robin pool of its own), the template's
``manager_email``, the handoff's pool, the deal's owner. The project tool
must know the address (a user with that e-mail); where it does not, or no
step gives one, the ``fallback`` takes over and the handoff warns.

A pool's position lives in the state store (``turns``), so restarts and
concurrent workers go on round it instead of starting again at its first member.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from handoff_hub.hub.config.handoffs import ManagerConfig
from handoff_hub.hub.handoffs.conditions import Conditions
from handoff_hub.hub.model import Opportunity, json_at

__all__ = ["ManagerChoice", "ManagerChooser", "Resolved", "resolve"]

TakeTurn = Callable[[str, int], int]
"""``(pool name, pool size) -> position``: the store's :meth:`take_turn`."""


@dataclass(frozen=True)
class ManagerChoice:
    """The address a step gave (None: none did) and which step, as an admin reads it."""

    email: str | None
    step: str


@dataclass(frozen=True)
class Resolved:
    """The project tool's user for a choice, and a warning where it is not the one chosen."""

    email: str | None
    user_id: str | None
    warning: str | None = None


class ManagerChooser:
    """Goes through the ``manager:`` steps for one deal at a time."""

    def __init__(
        self,
        config: ManagerConfig,
        *,
        pool_prefix: str,
        take_turn: TakeTurn,
    ) -> None:
        self.cfg = config
        self.pool_prefix = pool_prefix
        self.take_turn = take_turn
        self.rules = [(Conditions(rule.when), rule) for rule in config.rules]

    def choose(
        self, opp: Opportunity, *, template_email: str | None = None, turns: bool = True
    ) -> ManagerChoice:
        """The manager's address for ``opp``; without ``turns`` a pool is named, not turned.

        ``template_email``: the ``manager_email`` of the template the deal's project takes.
        """
        if email := self._from_field(opp):
            return ManagerChoice(email, f"field {self.cfg.field}")
        for index, (conditions, rule) in enumerate(self.rules, start=1):
            if conditions.failed(opp) is None:
                if rule.email:
                    return ManagerChoice(rule.email, f"rule {index}")
                return self._turn(rule.pool, f"rule {index} pool", turns=turns)
        if template_email:
            return ManagerChoice(template_email, "template")
        if self.cfg.pool:
            return self._turn(self.cfg.pool, "pool", turns=turns)
        owner = opp.owner.email if opp.owner and opp.owner.email else None
        return ManagerChoice(owner, "deal owner")

    def addresses(self, choices: Sequence[ManagerChoice]) -> list[str]:
        """Every address the project tool is asked about: the choices' and the fallback."""
        found = {c.email.strip().lower() for c in choices if c.email}
        if self.cfg.fallback:
            found.add(self.cfg.fallback.strip().lower())
        return sorted(found)

    def _from_field(self, opp: Opportunity) -> str | None:
        if not self.cfg.field:
            return None
        value = json_at(opp, self.cfg.field)
        if isinstance(value, Mapping):
            value = value.get("email")
        text = str(value).strip() if value is not None else ""
        return text if "@" in text else None

    def _turn(self, pool: Sequence[str], step: str, *, turns: bool) -> ManagerChoice:
        if not turns:
            return ManagerChoice(None, f"{step} (next in turn)")
        digest = hashlib.sha256("\n".join(pool).lower().encode()).hexdigest()[:12]
        position = self.take_turn(f"{self.pool_prefix}:{digest}", len(pool))
        return ManagerChoice(pool[position], f"{step}, turn {position + 1} of {len(pool)}")


def resolve(
    choice: ManagerChoice, users: Mapping[str, str], *, fallback: str | None, tool: str
) -> Resolved:
    """The user a choice comes to in the project tool (``users``: lower-case e-mail -> id)."""
    if choice.email and (user := users.get(choice.email.strip().lower())):
        return Resolved(choice.email, user)
    missing = (
        f"no {tool} user has the e-mail {choice.email} ({choice.step})"
        if choice.email
        else f"no manager address ({choice.step} gives none)"
    )
    if fallback and (user := users.get(fallback.strip().lower())):
        return Resolved(fallback, user, f"{missing}: the project goes to the fallback {fallback}")
    if fallback:
        missing += f", nor the fallback {fallback}"
    return Resolved(choice.email, None, f"{missing}: the project has no manager")
