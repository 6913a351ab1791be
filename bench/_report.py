"""Shared pieces of the benchmark reports: Markdown tables, verdicts, the machine, docs/benchmarks.md."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"

INTRO = """\
# Benchmarks

PeerBot promises never to be the bottleneck: Discord's limits should be. The benchmarks in `bench/`
measure that promise against targets from the issues: interaction overhead against a bare discord.py
bot, reminder fan-out under rate limits, start-up rebuild, buddy pairing speed and quality, and storage.

Run them all with `python -m bench` (or `make bench`), or some by name, e.g. `python -m bench pairing`.
`python -m bench --quick` runs tiny sizes as a smoke test and writes nothing here. Every full run
appends a section below with the date (UTC), the machine and the git commit; each figure sits next to
its target with a pass or miss.

Absolute times drift on a shared machine, so where a figure can be compared with a reference measured
in the same run (a bare bot, raw inserts, an exact solver), the ratio is reported next to it.
"""


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """Render a Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def verdict(ok: bool | None) -> str:
    """Say whether a figure met its target ('–' when it has none)."""
    if ok is None:
        return "–"
    return "pass" if ok else "**miss**"


def seconds(value: float) -> str:
    """Format a duration for a table."""
    if value < 1:
        return f"{value * 1000:.1f} ms"
    return f"{value:.2f} s"


def percent(value: float, digits: int = 1) -> str:
    """Format a fraction as a percentage."""
    return f"{value * 100:.{digits}f} %"


def cpu_model() -> str:
    """Read the CPU model from /proc/cpuinfo, or what platform knows elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """Describe the machine: platform, CPU, cores and Python."""
    return (
        f"{platform.platform()}, {cpu_model()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


def git_commit() -> str | None:
    """Name the checked-out commit, noting uncommitted changes, or None outside a git checkout."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        # The results file itself does not count: every run but the first of a session has just written to it.
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", ".", f":(exclude){DOCS.relative_to(ROOT)}"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit} (with uncommitted changes)" if dirty else commit


def run_heading(now: datetime | None = None) -> str:
    """Head one run's sections with its date, machine and commit."""
    now = now or datetime.now(UTC)
    commit = git_commit()
    lines = [
        f"## {now:%Y-%m-%d %H:%M} UTC",
        "",
        f"- Machine: {machine()}",
        f"- Commit: {commit if commit else 'not a git checkout'}",
    ]
    return "\n".join(lines)


def append_run(sections: Sequence[str], path: Path = DOCS, now: datetime | None = None) -> None:
    """Append a run to the benchmarks page, creating it with its introduction if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = path.read_text() if path.exists() else INTRO
    body = "\n\n".join([run_heading(now), *sections])
    path.write_text(existing.rstrip("\n") + "\n\n" + body.rstrip("\n") + "\n")
