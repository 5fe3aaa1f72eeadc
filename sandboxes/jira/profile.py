"""What differs from one real org to another, for the sandbox to play (sandboxes.kit.profile)."""

from __future__ import annotations

from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from handoff_hub.sandboxes.kit.profile import OrgProfile

__all__ = ["JiraSiteProfile"]

DEFAULT_TIME_ZONE = "Europe/Berlin"
HARD_TIME_ZONE = "America/St_Johns"
"""UTC-03:30, -02:30 in summer: a half-hour offset whose hour repeats in November."""


class JiraSiteProfile(OrgProfile):
    """The switches of the jira sandbox's org; the defaults are the demo's org."""

    product: ClassVar[str] = "jira"

    no_admin_permission: bool = Field(
        default=False,
        description="The API user lacks the 'Administer Jira' global permission, as most"
        " integration accounts do: creating a project (POST /rest/api/3/project) is refused"
        " with 403 'You must have global administrator rights in order to modify projects.'",
    )
    bulk_results_reordered: bool = Field(
        default=False,
        description="After a partial failure, POST /rest/api/3/issue/bulk lists the created"
        " issues in an order of the site's own (here: reversed). Jira numbers only the failed"
        " elements (failedElementNumber) and documents no order for the created issues, so a"
        " client must not pair them with the remaining elements by position.",
    )
    user_time_zone: str = Field(
        default=DEFAULT_TIME_ZONE,
        description="The API user's time zone (/myself timeZone). Jira reads JQL date literals"
        " and renders timestamps in it; real users sit in any IANA zone, some with half-hour"
        " offsets and daylight saving time.",
    )

    @field_validator("user_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name such as {HARD_TIME_ZONE})"
            ) from None
        return value

    @classmethod
    def hard_values(cls) -> dict[str, Any]:
        """Every switch on, and a user in a half-hour zone with daylight saving time."""
        return {**super().hard_values(), "user_time_zone": HARD_TIME_ZONE}
