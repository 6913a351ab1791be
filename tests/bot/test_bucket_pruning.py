"""discord.py's scan of its rate-limit buckets runs at most once a minute (it made a fan-out quadratic)."""

from types import SimpleNamespace

from bot.client import throttle_bucket_pruning


def test_bucket_pruning_runs_at_most_once_per_interval(monkeypatch):
    calls = []
    http = SimpleNamespace(_try_clear_expired_ratelimits=lambda: calls.append(1))
    now = [1000.0]
    monkeypatch.setattr("bot.client.time.monotonic", lambda: now[0])
    throttle_bucket_pruning(http, interval=60)
    for _ in range(500):  # a fan-out creating a bucket per DM channel
        http._try_clear_expired_ratelimits()
    assert calls == [1]
    now[0] += 61
    http._try_clear_expired_ratelimits()
    assert calls == [1, 1]


def test_a_client_without_the_scan_is_left_alone():
    http = SimpleNamespace()
    throttle_bucket_pruning(http)
    assert vars(http) == {}


async def test_peerbot_throttles_its_own_http_client(tmp_path):
    from bot.client import PeerBot
    from bot.settings import Settings

    bot = PeerBot(Settings(discord_token="x", database_path=tmp_path / "db.sqlite3", anon_secret_path=tmp_path / "k"))
    try:
        assert bot.http._try_clear_expired_ratelimits.__name__ == "throttled"
    finally:
        await bot.close()
