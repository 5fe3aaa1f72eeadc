"""The results: one Figure per measurement, a Rich table and a JSON file with the machine."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table


@dataclass
class Figure:
    """One measured value and its target (``bound``: the target is a max or a min)."""

    figure: str
    product: str
    size: int
    value: float
    target: float
    bound: Literal["max", "min"]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """Whether the value meets its target."""
        return self.value <= self.target if self.bound == "max" else self.value >= self.target


def machine() -> dict[str, Any]:
    """What the figures ran on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "reference_loop_seconds": reference_loop_seconds(),
    }


def reference_loop_seconds(runs: int = 3) -> float:
    """Best of ``runs`` timings of a fixed pure-Python loop (10 million additions).

    The same shared machine runs this 1.5x faster on some days than on others;
    absolute figures (records/s, reconcile seconds) from two runs compare only
    next to this.
    """
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best, 3)


def print_table(figures: list[Figure], console: Console | None = None) -> None:
    """figure, product, size, value, target, pass/miss."""
    table = Table(title="Handoff Hub benchmarks")
    for column in ("figure", "product", "size", "value", "target", "result"):
        table.add_column(column, justify="right" if column in {"size", "value"} else "left")
    for f in figures:
        sign = "<=" if f.bound == "max" else ">="
        result = "[green]pass[/]" if f.passed else "[red]miss[/]"
        table.add_row(
            f.figure, f.product, str(f.size), f"{f.value:g}", f"{sign} {f.target:g}", result
        )
    (console or Console()).print(table)


def write_json(figures: list[Figure], path: Path) -> None:
    """The machine and every figure (with its details) as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "machine": machine(),
        "figures": [{**asdict(f), "passed": f.passed} for f in figures],
    }
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def markdown_table(figures: list[Figure]) -> str:
    """The figures as a Markdown table: one row per figure and product, one column per size."""
    sizes = sorted({f.size for f in figures})
    rows: dict[tuple[str, str], dict[int, Figure]] = {}
    for f in figures:
        rows.setdefault((f.figure, f.product), {})[f.size] = f
    head = ["figure", "product", *[f"{n:,}" for n in sizes], "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (name, product), by_size in rows.items():
        any_figure = next(iter(by_size.values()))
        sign = "<=" if any_figure.bound == "max" else ">="
        cells = [_cell(by_size[n]) if n in by_size else "" for n in sizes]
        lines.append(
            "| " + " | ".join([name, product, *cells, f"{sign} {any_figure.target:g}"]) + " |"
        )
    return "\n".join(lines) + "\n"


def _cell(figure: Figure) -> str:
    return f"{figure.value:g} {'pass' if figure.passed else 'miss'}"
