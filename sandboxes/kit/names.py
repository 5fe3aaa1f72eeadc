"""Names the sandboxes seed their fake customers and people with.

Shared so that a deal's company in the CRM sandbox and the customer on the
delivery side of the demo read the same (and include an apostrophe on purpose:
O'Brien must survive every query builder).
"""

from __future__ import annotations

__all__ = [
    "COMPANY_PREFIXES",
    "COMPANY_SUFFIXES",
    "COUNTRIES",
    "FIRST_NAMES",
    "LAST_NAMES",
    "PRODUCTS",
    "SUBTASKS",
    "TASKS",
]

FIRST_NAMES = (
    "Ada",
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Margaret",
    "Dennis",
    "Barbara",
    "Ken",
    "Frances",
    "Edsger",
    "Radia",
    "Tim",
    "Hedy",
    "John",
    "Sophie",
)

LAST_NAMES = (
    "Lovelace",
    "Hopper",
    "Turing",
    "Johnson",
    "Torvalds",
    "Hamilton",
    "Ritchie",
    "Liskov",
    "Thompson",
    "Allen",
    "Dijkstra",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "O'Brien",
    "Wilson",
)

COMPANY_PREFIXES = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Aperture",
    "Massive",
    "Nakatomi",
)

COMPANY_SUFFIXES = (
    "Industries",
    "Corporation",
    "Systems",
    "Holdings",
    "Labs",
    "Logistics",
    "Analytics",
    "Foods",
    "Energy",
    "Media",
)

PRODUCTS = (
    "Platform rollout",
    "Data migration",
    "Support renewal",
    "Analytics add-on",
    "Integration project",
    "Training package",
    "Expansion",
    "Pilot",
)

COUNTRIES = (
    "United States",
    "Germany",
    "United Kingdom",
    "France",
    "Netherlands",
    "Canada",
)


def company_name(n: int) -> str:
    """The ``n``-th seeded company name: distinct for every ``n``."""
    name = f"{COMPANY_PREFIXES[n % len(COMPANY_PREFIXES)]} "
    name += COMPANY_SUFFIXES[(n // len(COMPANY_PREFIXES) + n) % len(COMPANY_SUFFIXES)]
    if n >= len(COMPANY_PREFIXES) * len(COMPANY_SUFFIXES):
        name += f" {n}"
    return name


# A delivery project's work breakdown, as the PM sandboxes seed it.
TASKS = (
    "Kick-off meeting",
    "Requirements workshop",
    "Solution design",
    "Configuration",
    "Data migration dry run",
    "User acceptance testing",
    "Go-live",
    "Hypercare",
)
SUBTASKS = ("Prepare agenda", "Book attendees", "Write minutes", "Sign-off")
