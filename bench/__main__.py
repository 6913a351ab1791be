"""Run the benchmarks: `python -m bench [names...] [--quick]`.

Every module `bench/<name>.py` not starting with an underscore is a benchmark: it exposes `TITLE` and
`run(quick: bool) -> str` (or `async def run`) returning a Markdown section. A full run prints each
section and appends them to docs/benchmarks.md; `--quick` runs tiny sizes and writes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import pkgutil
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from bench._report import DOCS, append_run

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    """List the benchmark modules by name."""
    return sorted(info.name for info in pkgutil.iter_modules([str(HERE)]) if not info.name.startswith("_"))


def run_one(name: str, quick: bool) -> str:
    """Run one benchmark and return its section, headed by its title."""
    module = importlib.import_module(f"bench.{name}")
    result = module.run(quick)
    if inspect.isawaitable(result):
        result = asyncio.run(result)
    return f"### {module.TITLE}\n\n{str(result).strip()}"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, run the chosen benchmarks and record a full run."""
    available = discover()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all of {', '.join(available)})")
    parser.add_argument("--quick", action="store_true", help="tiny sizes as a smoke test; write nothing")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")

    sections: list[str] = []
    failed: list[str] = []
    for name in args.names or available:
        print(f"Running {name}{' (quick)' if args.quick else ''}…", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            section = run_one(name, args.quick)
        except Exception:
            # One broken benchmark should not cost the figures of the others.
            traceback.print_exc()
            failed.append(name)
            continue
        print(section + "\n", flush=True)
        print(f"({name} took {time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
        sections.append(section)

    if sections and not args.quick:
        if failed:
            sections.append(f"Failed in this run (see the console): {', '.join(failed)}.")
        append_run(sections)
        print(f"Appended to {DOCS.relative_to(HERE.parent)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
