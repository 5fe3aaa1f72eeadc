"""Figure 5: the hub's connector against the vendors' official SDKs, in one run.

For HubSpot and Salesforce a sandbox is seeded with N deals / opportunities
and served on localhost, by a process of its own (as a product's servers are
not in the client's process, and do not share its interpreter lock), with
``LATENCY`` seconds of latency per request. Then, one after the other on the
same sandbox, every record is read:

- by the hub: ``connector.read_changes(obj, since=None, fields=...)`` with the
  won-to-project mapping's source fields (as bench/overhead.py reads them);
- by the SDK, the way its docs read everything: hubspot-api-client
  ``client.crm.deals.get_all(properties=...)`` (list endpoint, 100 a page) and,
  within the search's 10,000-result window, ``search_api.do_search`` paged
  with ``after`` (200 a page); simple-salesforce ``query_all_iter(SOQL)`` with
  the same fields (2000 a batch) after one OAuth client-credentials token call.

The sandbox process counts every request it serves (tokens, metadata,
429s); each side's calls are the difference over its read. Up to 10,000
records there are two rounds, the hub first in one and the SDK first in the
other, and each side's faster read counts: the first read of a sandbox pays
for building its search views and caches. Two rate-limit modes:

- ``published``: the sandboxes' limits as seeded (HubSpot: 190 / 10 s, 19 / s,
  search 5 / s); the hub keeps its own pacing (``requests_per_second=None``),
  the HubSpot SDK retries 429s with urllib3 ``Retry`` (honouring Retry-After).
- ``lifted``: HubSpot's sandbox throttle replaced by ``RateLimits.generous()``,
  the hub's client-side pacing lifted (1000 / s, search pacing off): latency,
  calls and CPU only.

Besides wall time each side reports the client process's CPU (every thread:
the hub fetches the next page on a thread while it works on this one) and the
sandbox process's CPU; the rest is waiting: latency and pacing.
``python -m bench.peers --profile DIR`` also writes a cProfile of each side's
client.

The SDKs are optional (``pip install -e '.[bench]'``); simple-salesforce
builds ``https://`` URLs from the instance host, so its requests session
carries an adapter that sends them to the sandbox's plain-HTTP port.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import io
import pstats
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import OBJECTS, served_product
from bench.reconcile_scale import Server
from bench.report import Figure, print_table, write_json
from handoff_hub.hub.handoffs.won_to_project import WonToProject
from handoff_hub.hub.runtime import Runtime

LATENCY = 0.03
"""Seconds added to every request by the sandbox (a near-region API round trip)."""
SPEED_TARGET = 1.5
CALLS_TARGET = 1.0
SEARCH_WINDOW = 10_000
SEARCH_PAGE = 200
MODES = ("published", "lifted")
PEERS = {"hubspot": "asana", "salesforce": "jira"}
SDKS = {"hubspot": "hubspot-api-client get_all", "salesforce": "simple-salesforce query_all_iter"}


@dataclass
class Side:
    """One full read: what it read, how long it took, and the calls the sandbox saw."""

    name: str
    ids: list[str]
    seconds: float
    client_cpu: float
    server_cpu: float
    calls: int
    by_path: dict[str, int]
    status_429: int
    profile: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The side as figure details (no ids)."""
        return {
            "reader": self.name,
            "records": len(self.ids),
            "seconds": round(self.seconds, 3),
            "records_per_s": round(len(self.ids) / self.seconds) if self.seconds else None,
            "client_cpu_seconds": round(self.client_cpu, 3),
            "server_cpu_seconds": round(self.server_cpu, 3),
            "waiting_seconds": round(max(0.0, self.seconds - self.client_cpu - self.server_cpu), 3),
            "calls": self.calls,
            "calls_by_path": self.by_path,
            "status_429": self.status_429,
            **self.extra,
        }


@dataclass
class Bench:
    """The hub's runtime and the CRM sandbox it reads, served by a process of its own."""

    runtime: Runtime
    server: Server
    product: str


def _path(call_path: str) -> str:
    """A journal path with record ids and query locators folded, so paths group."""
    parts = call_path.split("/")
    if len(parts) > 5 and parts[-2] == "query" and parts[-1]:  # .../query/<locator>-<n>
        parts[-1] = "{locator}"
    return "/".join(parts)


def _run(
    name: str,
    bench: Bench,
    read: Callable[[], Iterable[str]],
    profile_dir: Path | None = None,
    size: int = 0,
    mode: str = "",
) -> Side:
    """Time ``read`` (which returns record ids); its calls are what the sandbox served."""
    profiler = cProfile.Profile() if profile_dir else None
    before = bench.server.counters()
    cpu_start = time.process_time()
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    ids = list(read())
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - cpu_start
    after = bench.server.counters()
    by_path = Counter(after["calls"]) - Counter(before["calls"])
    refused = Counter(after["refused"]) - Counter(before["refused"])
    folded = Counter[str]()
    for call, count in by_path.items():
        method, _, path = call.partition(" ")
        folded[f"{method} {_path(path)}"] += count
    profile = None
    if profiler and profile_dir:
        profile_dir.mkdir(parents=True, exist_ok=True)
        stem = f"{bench.product}-{size}-{mode}-{name.replace(' ', '_')}"
        profiler.dump_stats(profile_dir / f"{stem}.prof")
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(25)
        (profile_dir / f"{stem}.txt").write_text(text.getvalue(), encoding="utf-8")
        profile = str(profile_dir / f"{stem}.txt")
    return Side(
        name,
        ids,
        seconds,
        client_cpu,
        after["cpu_seconds"] - before["cpu_seconds"],
        sum(by_path.values()),
        dict(folded.most_common()),
        sum(refused.values()),
        profile,
    )


# the hub ----------------------------------------------------------------------------


def _fields(bench: Bench, obj: str) -> list[str]:
    """The won-to-project mapping's source fields of the CRM's deal entity."""
    config = bench.runtime.loaded.config.handoffs.won_to_project
    assert config is not None
    crm_map = WonToProject(bench.runtime, config).crm_map
    entity = next(e for e in crm_map.entities.values() if e.object == obj)
    return entity.source_fields()


def _hub_read(bench: Bench, obj: str, fields: list[str]) -> Callable[[], Iterator[str]]:
    connector = bench.runtime.connector("crm")

    def read() -> Iterator[str]:
        for page in connector.read_changes(obj, since=None, fields=fields):
            for record in page.records:
                yield record.id

    return read


# HubSpot ------------------------------------------------------------------------------


def _hubspot_properties(bench: Bench, fields: list[str]) -> list[str]:
    """The properties the hub's search asks for with these fields (the SDK asks the same)."""
    connector: Any = bench.runtime.connector("crm")
    return list(connector._read_properties(OBJECTS["hubspot"], fields))


def _hubspot_client(bench: Bench) -> Any:
    from hubspot import HubSpot
    from urllib3.util.retry import Retry

    # hubspot-api-client's README: retry 429s with a urllib3 Retry; POST (search) included.
    retry = Retry(
        total=20,
        status_forcelist=(429,),
        allowed_methods=None,
        backoff_factor=0.3,
        respect_retry_after_header=True,
    )
    token = bench.server.manifest["credentials"]["access_token"]
    return HubSpot(access_token=token, host=bench.server.url, retry=retry)


def _hubspot_get_all(bench: Bench, properties: list[str]) -> Callable[[], list[str]]:
    client = _hubspot_client(bench)

    def read() -> list[str]:
        # One comma-separated value, as HubSpot documents ``properties``; the sandbox
        # reads only the last of repeated ``properties=`` parameters (the SDK's default).
        deals = client.crm.deals.get_all(properties=[",".join(properties)])
        return [d.id for d in deals]

    return read


def _hubspot_search(bench: Bench, properties: list[str]) -> Callable[[], list[str]]:
    from hubspot.crm.deals import PublicObjectSearchRequest

    client = _hubspot_client(bench)

    def read() -> list[str]:
        api = client.crm.deals.search_api
        ids: list[str] = []
        after: str | None = None
        while True:
            request = PublicObjectSearchRequest(
                properties=properties, limit=SEARCH_PAGE, after=after
            )
            page = api.do_search(public_object_search_request=request)
            ids.extend(r.id for r in page.results)
            if page.paging is None or page.paging.next is None:
                return ids
            after = page.paging.next.after

    return read


def _lift_hubspot(bench: Bench) -> None:
    """No client-side search pacing in the hub (the sandbox runs without its limits)."""
    connector: Any = bench.runtime.connector("crm")
    connector.client.search_limiter = None


# Salesforce ---------------------------------------------------------------------------


def _sandbox_session(url: str) -> Any:
    """A requests session whose ``https://`` requests go to the sandbox's HTTP port."""
    import requests
    from requests.adapters import HTTPAdapter

    class ToSandbox(HTTPAdapter):
        def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
            _, _, rest = str(request.url).partition("://")
            request.url = url + "/" + rest.partition("/")[2]
            return super().send(request, *args, **kwargs)

    session = requests.Session()
    session.mount("https://", ToSandbox())
    return session


def _salesforce_query_all(bench: Bench, fields: list[str]) -> tuple[Callable[[], list[str]], str]:
    from simple_salesforce.api import Salesforce

    connector: Any = bench.runtime.connector("crm")
    version = str(connector.config.api_version)
    selected = list(dict.fromkeys(["Id", "SystemModstamp", *fields]))
    soql = f"SELECT {', '.join(selected)} FROM {OBJECTS['salesforce']}"
    credentials = bench.server.manifest["credentials"]

    def read() -> list[str]:
        session = _sandbox_session(bench.server.url)
        # The client-credentials token call simple-salesforce would make, with the
        # form fields (simple-salesforce sends them as Basic auth, which the sandbox lacks).
        token = session.post(
            "https://login.salesforce.com/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
            },
            timeout=30,
        )
        token.raise_for_status()
        body = token.json()
        sf = Salesforce(
            instance_url=body["instance_url"],
            session_id=body["access_token"],
            version=version,
            session=session,
        )
        return [r["Id"] for r in sf.query_all_iter(soql)]

    return read, soql


# the measurement ----------------------------------------------------------------------


@contextmanager
def _bench(product: str, size: int, mode: str) -> Iterator[Bench]:
    """The CRM sandbox served by a process of its own, and a runtime pointed at it."""
    rps = None if mode == "published" else 1000
    with served_product(
        product,
        PEERS[product],
        product,
        size,
        requests_per_second=rps,
        latency=LATENCY,
        lifted=mode == "lifted",
    ) as (runtime, server):
        bench = Bench(runtime, server, product)
        if mode == "lifted" and product == "hubspot":
            _lift_hubspot(bench)
        yield bench


def compare(product: str, size: int, mode: str, profile_dir: Path | None = None) -> list[Side]:
    """Read every record with the hub, then with the SDK (and HubSpot's search), in one run."""
    obj = OBJECTS[product]
    with _bench(product, size, mode) as bench:
        fields = _fields(bench, obj)
        run = functools.partial(_run, bench=bench, profile_dir=profile_dir, size=size, mode=mode)
        hub_read = _hub_read(bench, obj, fields)
        extra: dict[str, Any] = {}
        if product == "hubspot":
            properties = _hubspot_properties(bench, fields)
            sdk_read = _hubspot_get_all(bench, properties)
            extra["properties"] = properties
        else:
            sdk_read, extra["soql"] = _salesforce_query_all(bench, fields)
        hub_runs: list[Side] = []
        sdk_runs: list[Side] = []
        for round_number in range(_rounds(size)):  # hub first, then the SDK first
            order = [(hub_runs, hub_read), (sdk_runs, sdk_read)]
            for runs, read in order if round_number % 2 == 0 else order[::-1]:
                name = "hub connector" if read is hub_read else SDKS[product]
                runs.append(run(name, read=read))
        hub, sdk = _fastest(hub_runs), _fastest(sdk_runs)
        hub.extra["fields"] = fields
        sdk.extra.update(extra)
        sides = [hub, sdk]
        if product == "hubspot" and size <= SEARCH_WINDOW:
            sides.append(
                run("hubspot-api-client search_api", read=_hubspot_search(bench, properties))
            )
    return sides


def _rounds(size: int) -> int:
    """Two rounds, each side first once, where a round is quick; one at 100k."""
    return 2 if size <= SEARCH_WINDOW else 1


def _fastest(runs: list[Side]) -> Side:
    """The faster read's time; the first (cold) read's calls, setup calls included."""
    best = min(runs, key=lambda side: side.seconds)
    best.extra["seconds_each"] = [round(side.seconds, 3) for side in runs]
    best.extra["calls_each"] = [side.calls for side in runs]
    best.calls, best.by_path = runs[0].calls, runs[0].by_path
    return best


def _figures(product: str, size: int, mode: str, sides: list[Side]) -> list[Figure]:
    hub, sdk, *others = sides
    same = sorted(hub.ids) == sorted(sdk.ids)
    details: dict[str, Any] = {
        "mode": mode,
        "latency_seconds": LATENCY,
        "same_records": same,
        "hub": hub.summary(),
        "sdk": sdk.summary(),
    }
    for other in others:
        details["sdk_search"] = {
            **other.summary(),
            "same_records": sorted(other.ids) == sorted(hub.ids),
        }
    suffix = "" if mode == "published" else " (limits lifted)"
    speed = sdk.seconds / hub.seconds if hub.seconds else 0.0
    calls = hub.calls / sdk.calls if sdk.calls else float("inf")
    return [
        Figure(
            "peers: hub speed / sdk speed" + suffix,
            product,
            size,
            round(speed, 3),
            SPEED_TARGET,
            "min",
            details,
        ),
        Figure(
            "peers: hub calls / sdk calls" + suffix,
            product,
            size,
            round(calls, 3),
            CALLS_TARGET,
            "max",
            details,
        ),
    ]


def measure(
    size: int,
    *,
    modes: tuple[str, ...] = MODES,
    products: tuple[str, ...] = ("hubspot", "salesforce"),
    profile_dir: Path | None = None,
) -> list[Figure]:
    """Hub vs SDK full reads of ``size`` records, per product and rate-limit mode.

    Raises:
        AssertionError: the two sides did not read the same records.
    """
    figures: list[Figure] = []
    for product in products:
        for mode in modes:
            sides = compare(product, size, mode, profile_dir)
            found = _figures(product, size, mode, sides)
            if not found[0].details["same_records"]:
                hub, sdk = sides[0], sides[1]
                raise AssertionError(
                    f"{product} {mode}: hub read {len(hub.ids)} records, SDK {len(sdk.ids)}"
                )
            figures.extend(found)
    return figures


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.peers``: run figure 5, print the table, write the JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    parser.add_argument("--sizes", default="1000,10000", help="record counts, comma-separated")
    parser.add_argument("--json", default="bench/peers.json", type=Path, help="results file")
    parser.add_argument("--mode", choices=MODES, action="append", help="only these modes")
    parser.add_argument(
        "--product", choices=sorted(PEERS), action="append", help="only these products"
    )
    parser.add_argument("--profile", type=Path, help="write a cProfile of each side here")
    args = parser.parse_args(argv)
    figures: list[Figure] = []
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        started = time.perf_counter()
        figures.extend(
            measure(
                size,
                modes=tuple(args.mode or MODES),
                products=tuple(args.product or sorted(PEERS)),
                profile_dir=args.profile,
            )
        )
        print(f"size {size}: {time.perf_counter() - started:.1f} s", flush=True)
        write_json(figures, args.json)
    print_table(figures)
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
