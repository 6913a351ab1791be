"""The benchmarks still run: a quick pass of each, checked for its report, never for its timings."""

from bench import pairing


def test_pairing_benchmark_runs_quickly_and_reports_targets() -> None:
    report = pairing.run(quick=True)
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    for size in (*pairing.QUICK_SPEED_SIZES, *pairing.QUICK_QUALITY_SIZES):
        assert any(row.startswith(f"| {size:,} |") for row in rows), size
    assert "target" in report
    assert "**miss**" in report or "pass" in report
