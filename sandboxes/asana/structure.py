"""Read handlers of the Asana sandbox for the workspace's structure.

Teams (``GET /workspaces/{gid}/teams``, ``GET /teams/{gid}``) and a project's
custom field settings (``GET /projects/{gid}/custom_field_settings``): what
an admin looks up to configure the hub (the team's gid, which fields a
project has). Listings page as every Asana listing does.
"""

from __future__ import annotations

from handoff_hub.sandboxes.asana.api import AsanaReads, find
from handoff_hub.sandboxes.asana.render import field_setting_json, team_json
from handoff_hub.sandboxes.asana.router import Call, Reply

__all__ = ["StructureReads"]


class StructureReads:
    """GET handlers for teams and custom field settings, over the reads' store and pages."""

    def __init__(self, reads: AsanaReads) -> None:
        self.reads = reads
        self.store = reads.store

    def teams(self, call: Call) -> Reply:
        """``GET /workspaces/{workspace}/teams``: the organization's teams."""
        workspace, refused = find(self.store, "workspace", call.args["workspace"])
        if refused:
            return refused
        gids = [t.gid for t in self.store.teams.values() if t.workspace == workspace.gid]
        return self.reads.page(call, lambda: gids, lambda g: team_json(self.store, g))

    def team(self, call: Call) -> Reply:
        """``GET /teams/{team}``."""
        team, refused = find(self.store, "team", call.args["team"])
        return refused or self.reads.one(call, team_json(self.store, team.gid))

    def field_settings(self, call: Call) -> Reply:
        """``GET /projects/{project}/custom_field_settings``, in the project's order."""
        project, refused = find(self.store, "project", call.args["project"])
        if refused:
            return refused
        numbers = {f"{project.gid}{n}": n for n in range(len(project.field_settings))}
        return self.reads.page(
            call,
            lambda: list(numbers),
            lambda g: field_setting_json(self.store, project, numbers[g]),
        )
