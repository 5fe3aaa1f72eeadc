"""The won-batched figure's arithmetic: levels of a batch, calls against their minimum, rate."""

from __future__ import annotations

from bench.won_batched import PRODUCTS, Window, _crm_writes, _details, _levels
from handoff_hub.hub.connector import NewProject, ProjectTemplate, TemplateTask

TEMPLATE = ProjectTemplate(
    "t",
    tasks=(
        TemplateTask("A"),
        TemplateTask("A1", parent="A"),
        TemplateTask("A1x", parent="A1"),
        TemplateTask("B"),
    ),
)


def test_levels_count_projects_then_each_depth_of_their_tasks() -> None:
    projects = [NewProject(f"crm:{n}", f"P{n}", {}, TEMPLATE) for n in range(3)]
    assert _levels(projects) == [3, 6, 3, 3]


def test_calls_are_counted_against_the_bulk_minimum_and_the_rate_over_the_windows() -> None:
    bulk = "/rest/api/3/issue/bulk"
    journal = [["POST", bulk, 201, False]] * 3 + [["POST", bulk, 429, False]]
    journal += [["POST", "/rest/api/3/search/jql", 200, False]]
    windows = [Window(60, [60, 120], 1.0, journal)]
    details = _details(PRODUCTS["jira"], windows)
    assert details["batch_minimum"] == 2 + 3
    assert details["write_calls"] == 4  # the refused one counts, the search does not
    assert details["refused_429"] == 1
    assert details["achieved_per_second"] == 5.0


def test_crm_writes_leave_out_the_posts_that_only_read() -> None:
    data = "/services/data/v61.0"
    journal = [
        ["POST", "/services/oauth2/token", 200, False],
        ["GET", f"{data}/query", 200, False],
        ["POST", f"{data}/composite/sobjects/Opportunity", 200, False],  # retrieve by ids
        ["POST", "/services/Soap/u/61.0", 200, False],  # the org's currency
        ["PATCH", f"{data}/composite/sobjects", 200, False],  # ids written back
        ["PATCH", f"{data}/composite/sobjects", 200, False],
        ["POST", f"{data}/composite/sobjects", 200, False],  # a create
    ]
    assert _crm_writes(journal) == 3
