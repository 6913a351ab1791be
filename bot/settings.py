"""Settings, built once from the environment and `.env`, then passed in; never read at import time."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from bot.errors import ConfigError

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Settings:
    """Everything the bot is configured with; see `.env.example` for each key."""

    discord_token: str | None = None
    database_path: Path = Path("data/peerbot.sqlite3")
    anon_secret_path: Path = Path("data/anon.key")
    dev_guild_id: int | None = None
    log_level: str = "INFO"
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    anon_delay_min_seconds: int = 60
    anon_delay_max_seconds: int = 600
    escalation_minutes: int = 10
    erase_after_days: int = 30
    privacy_url: str | None = None


def _int(env: Mapping[str, str], key: str, default: int | None, *, minimum: int = 0) -> int | None:
    raw = env.get(key, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{key} must be a whole number, but it is {raw!r}. Fix it in .env.") from None
    if value < minimum:
        raise ConfigError(f"{key} must be at least {minimum}, but it is {value}. Fix it in .env.")
    return value


def _url(env: Mapping[str, str], key: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(key, "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in schemes or not parsed.netloc:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise ConfigError(f"{key} must be a URL starting with {wanted}, but it is {raw!r}. Fix it in .env.")
    return raw.rstrip("/")


def load_settings(env: Mapping[str, str] | None = None, *, dotenv_path: str | os.PathLike | None = ".env") -> Settings:
    """Build Settings from `env` (default: the process environment plus `.env`), or raise ConfigError."""
    if env is None:
        from dotenv import dotenv_values

        merged: dict[str, str] = {}
        if dotenv_path is not None and Path(dotenv_path).is_file():
            merged.update({k: v for k, v in dotenv_values(dotenv_path).items() if v is not None})
        merged.update(os.environ)
        env = merged

    token = env.get("DISCORD_TOKEN", "").strip() or None
    if token is not None and (" " in token or len(token) < 20):
        raise ConfigError(
            "DISCORD_TOKEN does not look like a bot token. Copy it again from the Developer Portal "
            "(Applications -> your app -> Bot -> Reset Token) into .env."
        )
    level = env.get("LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, but it is {level!r}. Fix it in .env.")
    delay_min = _int(env, "ANON_DELAY_MIN_SECONDS", 60)
    delay_max = _int(env, "ANON_DELAY_MAX_SECONDS", 600)
    if delay_max < delay_min:
        raise ConfigError("ANON_DELAY_MAX_SECONDS must not be smaller than ANON_DELAY_MIN_SECONDS. Fix it in .env.")
    return Settings(
        discord_token=token,
        database_path=Path(env.get("DATABASE_PATH", "").strip() or "data/peerbot.sqlite3"),
        anon_secret_path=Path(env.get("ANON_SECRET_PATH", "").strip() or "data/anon.key"),
        dev_guild_id=_int(env, "DEV_GUILD_ID", None, minimum=1),
        log_level=level,
        discord_api_base=_url(env, "DISCORD_API_BASE", ("http", "https")),
        discord_gateway_url=_url(env, "DISCORD_GATEWAY_URL", ("ws", "wss")),
        anon_delay_min_seconds=delay_min,
        anon_delay_max_seconds=delay_max,
        escalation_minutes=_int(env, "ESCALATION_MINUTES", 10, minimum=1),
        erase_after_days=_int(env, "ERASE_AFTER_DAYS", 30, minimum=1),
        privacy_url=_url(env, "PRIVACY_URL", ("http", "https")),
    )


def configure_logging(level: str) -> None:
    """Configure logging once: level, format, and discord.py's HTTP bodies kept out of the logs."""
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # discord.http logs request payloads (which can hold check-in text) at DEBUG: keep it at INFO.
    logging.getLogger("discord.http").setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("discord.gateway").setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("aiosqlite").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
