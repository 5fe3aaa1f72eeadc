"""What differs from one real org to another, for the sandbox to play (sandboxes.kit.profile)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from handoff_hub.sandboxes.kit.profile import OrgProfile

__all__ = ["AsanaWorkspaceProfile"]


class AsanaWorkspaceProfile(OrgProfile):
    """The switches of the asana sandbox's org; the defaults are the demo's org."""

    product: ClassVar[str] = "asana"

    padded_enum_options: bool = Field(
        default=False,
        description=(
            "Enum option names typed by hand, as real workspaces have them: stray spaces"
            " and another case (' High', 'Medium ', 'low', 'RED'). Asana keeps a name as"
            " it was typed; the API answers it so."
        ),
    )
    custom_fields_absent: bool = Field(
        default=False,
        description=(
            "Some delivery projects lack some of the workspace's custom fields (no custom"
            " field setting for them), as projects made before a field existed or by hand"
            " do: their tasks and the project show no such field, and writing a value for"
            " it is refused 400 'Custom field with ID ... is not on given object'. The"
            " first delivery project keeps every field."
        ),
    )
    free_plan: bool = Field(
        default=False,
        description=(
            "A workspace on a free plan (and the user in no premium team): the task search"
            " answers 402 Payment Required, as Asana's does for non-premium users."
        ),
    )
    search_lag_seconds: float = Field(
        default=0.0,
        ge=0,
        le=3600,
        description=(
            "Seconds before a task's change shows in the task search: Asana indexes changes"
            " 10-60 s after they are made (longer during incidents); until then search"
            " does not find the task. Lists and reads by gid see a change at once."
        ),
    )
