"""The benchmarks still run: a quick pass of each, checked for its report, never for its timings."""

from bench import pairing


def test_pairing_benchmark_runs_quickly_and_reports_targets() -> None:
    report = pairing.run(quick=True)
    rows = [line for line in report.splitlines() if line.startswith("| ")]
    for size in (*pairing.QUICK_SPEED_SIZES, *pairing.QUICK_QUALITY_SIZES):
        assert any(row.startswith(f"| {size:,} |") for row in rows), size
    assert "target" in report
    assert "**miss**" in report or "pass" in report


def _verdicts(report: str) -> list[str]:
    return [line for line in report.splitlines() if line.startswith("| ") and ("pass" in line or "miss" in line)]


async def test_interactions_benchmark_compares_peerbot_with_a_bare_bot() -> None:
    from bench import interactions

    report = await interactions.run(quick=True)
    assert "`/ping` (bare discord.py)" in report and "`/meetings`" in report
    assert "`/checkin share:private`" in report or "`/reminders style`" in report
    assert "median / bare" in report and "acknowledged" in report
    assert len(_verdicts(report)) >= 4  # write and read, sequential and in flight, plus the bursts


async def test_fanout_benchmark_delivers_every_reminder_once_with_and_without_a_rate_limit() -> None:
    from bench import fanout

    report = await fanout.run(quick=True)
    assert "bot CPU per DM" in report and "of the limit" in report
    # The quick sizes deliver everything exactly once in every run (two weeks unlimited, one limited).
    assert report.count("0 lost, 0 duplicates") == 3
    assert "| 2.00 |" in report and "| 1.00 |" in report  # requests per DM: channels opened, then known
    assert "{" not in report  # no placeholder left unformatted


async def test_startup_benchmark_rebuilds_every_job_in_a_fresh_process() -> None:
    from bench import startup

    report = await startup.run(quick=True)
    assert f"{startup.QUICK.series} series" in report and "meeting:start" in report
    assert "peak memory" in report and len(_verdicts(report)) == 1


async def test_storage_benchmark_measures_the_service_layer_against_raw_inserts() -> None:
    from bench import storage

    report = await storage.run(quick=True)
    assert "service layer, one writer at a time" in report and "raw aiosqlite" in report
    assert len(_verdicts(report)) == 2
