"""The official jira SDK (pycontribs ``jira``) against the served sandbox: its common calls.

Admins script against ``hub sandbox serve``, so the calls they make with the
SDK must work there as they do on a Jira Cloud site. The SDK speaks REST API
version 2 by default (rich text as strings); Jira Cloud serves versions 2 and 3
with the same operations, and so does the sandbox. One test per common call,
on version 2, and the rich-text calls again on version 3.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from jira import JIRA, JIRAError

from handoff_hub.sandboxes.jira.app import JiraSandbox
from handoff_hub.sandboxes.kit.server import RunningSandbox, serve_in_thread

ADA = "ada.lovelace@acme-sales.example"


@pytest.fixture(scope="module")
def served() -> Iterator[RunningSandbox]:
    running = serve_in_thread(JiraSandbox(seed=12, records=30))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def site(served: RunningSandbox) -> JiraSandbox:
    assert isinstance(served.sandbox, JiraSandbox)
    return served.sandbox


def sdk(served: RunningSandbox, **options: Any) -> JIRA:
    creds = served.sandbox.credentials
    return JIRA(
        served.url,
        basic_auth=(creds["email"], creds["api_token"]),
        options=options,
        max_retries=0,
    )


@pytest.fixture(scope="module")
def jira(served: RunningSandbox) -> JIRA:
    """A client as ``JIRA(url, basic_auth=...)`` makes it: REST API version 2."""
    return sdk(served)


@pytest.fixture(scope="module")
def jira3(served: RunningSandbox) -> JIRA:
    return sdk(served, rest_api_version="3")


def new_task(jira: JIRA, summary: str, **fields: Any) -> Any:
    return jira.create_issue(project="DEL", summary=summary, issuetype={"name": "Task"}, **fields)


def adf(text: str) -> dict[str, Any]:
    paragraph = {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    return {"type": "doc", "version": 1, "content": [paragraph]}


def test_server_info_says_cloud(jira, served):
    info = jira.server_info()
    assert info["deploymentType"] == "Cloud" and jira._is_cloud
    assert info["baseUrl"] == served.url and info["versionNumbers"] == [1001, 0, 0]


def test_myself(jira, site):
    me = jira.myself()
    assert me["accountId"] == site.store.me.account_id
    assert me["emailAddress"] == site.credentials["email"]
    assert me["self"].startswith(f"{jira.server_url}/rest/api/2/user")


def test_projects_and_project(jira):
    assert [p.key for p in jira.projects()] == ["DEL"]
    project = jira.project("DEL")
    assert project.name == "Delivery" and project.lead.displayName


def test_fields(jira):
    ids = {f["id"] for f in jira.fields()}
    assert {"summary", "description", "customfield_10050", "customfield_10052"} <= ids


def test_create_issue_and_read_it_back(jira, site):
    issue = new_task(jira, "Made with the SDK", description="First line\nsecond line")
    assert issue.key.startswith("DEL-") and issue.fields.summary == "Made with the SDK"
    assert jira.issue(issue.key).fields.description == "First line\nsecond line"
    stored = site.state.get(issue.key)["fields"]["description"]
    assert stored["type"] == "doc"  # stored as ADF, served to v3 clients as ADF


def test_create_issues_in_bulk(jira, site):
    made = jira.create_issues(
        [
            {"project": {"key": "DEL"}, "summary": "Bulk one", "issuetype": {"name": "Task"}},
            {"project": {"key": "DEL"}, "summary": "Bulk two", "issuetype": {"name": "Nope"}},
        ]
    )
    assert [m["status"] for m in made] == ["Success", "Error"]
    assert site.state.get(made[0]["issue"].key)["fields"]["summary"] == "Bulk one"


def test_issue_update(jira):
    issue = new_task(jira, "Before")
    issue.update(fields={"summary": "After", "description": "Now with text", "labels": ["sdk"]})
    issue.add_field_value("labels", "script")
    again = jira.issue(issue.key)
    assert again.fields.summary == "After" and again.fields.description == "Now with text"
    assert again.fields.labels == ["sdk", "script"]


def test_add_comment_and_comments(jira, site):
    issue = new_task(jira, "Commented")
    comment = jira.add_comment(issue.key, "Looks good.\n\nShip it.")
    assert comment.body == "Looks good.\n\nShip it."
    assert [c.body for c in jira.comments(issue.key)] == ["Looks good.\n\nShip it."]
    assert site.state.comments(issue.key)[0]["body"]["type"] == "doc"


def test_transitions_and_transition_issue(jira, site):
    issue = new_task(jira, "Moving along")
    names = {t["name"] for t in jira.transitions(issue.key)}
    assert "In Progress" in names and "To Do" not in names  # not into its own status
    jira.transition_issue(issue.key, "In Progress", comment="Started.")
    assert jira.issue(issue.key).fields.status.name == "In Progress"
    assert [c.body for c in jira.comments(issue.key)] == ["Started."]
    with pytest.raises(JIRAError) as refused:
        jira.transition_issue(issue.key, "999")
    assert refused.value.status_code == 400
    assert "Transition id '999' is not valid for this issue." in refused.value.text
    assert site.state.get(issue.key)["fields"]["status"]["name"] == "In Progress"


@pytest.mark.filterwarnings("ignore:Unable to gather applicationlinks")
def test_remote_links(jira):
    issue = new_task(jira, "Linked")
    link = jira.add_remote_link(
        issue.key,
        {"url": "https://crm.example/opportunity/006A", "title": "Opportunity 006A"},
        globalId="crm=006A",
        relationship="won deal",
    )
    jira.add_remote_link(
        issue.key,
        {"url": "https://crm.example/opportunity/006A", "title": "Opportunity 006A (won)"},
        globalId="crm=006A",
    )
    links = jira.remote_links(issue.key)
    assert [lk.id for lk in links] == [link.id]  # the same globalId replaced it
    assert links[0].object.title == "Opportunity 006A (won)"
    assert jira.remote_link(issue.key, link.id).globalId == "crm=006A"
    jira.remote_link(issue.key, link.id).delete()
    assert jira.remote_links(issue.key) == []


def test_search_issues_pages_with_the_enhanced_search(jira, site):
    page = jira.search_issues("project = DEL ORDER BY key ASC", maxResults=5)
    assert len(page) == 5 and page.nextPageToken
    everything = jira.search_issues("project = DEL", maxResults=False, fields="summary")
    assert len(everything) == site.state.count(project="DEL")
    paths = {c.path for c in site.journal.calls}
    assert "/rest/api/2/search/jql" in paths and "/rest/api/2/search" not in paths


def test_search_users(jira):
    [ada] = jira.search_users(query="ada.lovelace")
    assert ada.emailAddress == ADA


def test_assign_issue(jira, site):
    issue = new_task(jira, "Who does it")
    assert jira.assign_issue(issue.key, ADA)
    assert jira.issue(issue.key).fields.assignee.emailAddress == ADA
    jira.assign_issue(issue.key, None)
    assert jira.issue(issue.key).fields.assignee is None


def test_delete_needs_delete_subtasks_when_there_are_subtasks(jira, site):
    parent = new_task(jira, "Parent")
    child = jira.create_issue(
        project="DEL", summary="Child", issuetype={"name": "Subtask"}, parent={"key": parent.key}
    )
    with pytest.raises(JIRAError) as refused:
        parent.delete()
    assert refused.value.status_code == 400
    assert "You must specify the 'deleteSubtasks' parameter" in refused.value.text
    parent.delete(deleteSubtasks=True)
    assert site.store.issue(parent.key) is None and site.store.issue(child.key) is None


def test_rest_api_version_3_takes_and_gives_adf(jira3, jira, site):
    issue = new_task(jira3, "ADF", description=adf("Rich"))
    assert jira3.issue(issue.key).raw["fields"]["description"] == adf("Rich")
    assert jira.issue(issue.key).fields.description == "Rich"
    assert jira3.add_comment(issue.key, adf("Noted")).raw["body"] == adf("Noted")
    with pytest.raises(JIRAError) as refused:
        new_task(jira3, "Plain", description="not ADF")
    assert refused.value.status_code == 400 and "Atlassian Document" in refused.value.text


def test_sdk_honours_whole_second_retry_after_under_pacing():
    """The SDK reads ``int(Retry-After)``: a fractional value used to crash it."""
    running = serve_in_thread(JiraSandbox(seed=3, records=5, rate_limit=(2, 0.5)))
    try:
        client = sdk(running)  # serverInfo: the first of the window's two requests
        client._session.max_retries = 5
        client._session.max_retry_delay = 0.6  # waits 0.3-0.6 s instead of 2 x Retry-After
        keys = [client.myself()["accountId"] for _ in range(4)]
    finally:
        running.stop()
    assert len(set(keys)) == 1
    assert 429 in [c.status for c in running.sandbox.journal.calls]
