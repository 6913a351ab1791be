"""Command line: `python -m bot [run|migrate|check|backup PATH|sync [--guild ID]|playground]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

from bot.db import Database, DatabaseError
from bot.errors import ConfigError
from bot.keys import load_or_create_secret, secret_permissions_warning
from bot.settings import Settings, configure_logging, load_settings

log = logging.getLogger("bot")

PERMISSIONS_INTEGER = 403995487232  # see tests/test_cli.py for the permissions it encodes
NO_TOKEN_HELP = f"""\
No DISCORD_TOKEN is set, so I can't log in to Discord.

1. Open https://discord.com/developers/applications and create an application (New Application).
2. In "Bot", click "Reset Token", copy it, and put it in .env as DISCORD_TOKEN=...
   (copy .env.example to .env first if you have no .env).
3. Still in "Bot", under "Privileged Gateway Intents", turn on SERVER MEMBERS INTENT
   (needed to welcome members, keep buddies paired when someone leaves, and honour data erasure).
4. Invite the bot with (replace APP_ID with "Application ID" from "General Information"):
   https://discord.com/oauth2/authorize?client_id=APP_ID&scope=bot+applications.commands&permissions={PERMISSIONS_INTEGER}

Want to try it first without Discord? Run: python -m bot playground
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="A Discord bot for peer-support groups.")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (the default)")
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser("check", help="validate settings and the database, list commands, exit without connecting")
    backup = sub.add_parser("backup", help="write an online backup of the database")
    backup.add_argument("path", type=Path)
    sync = sub.add_parser("sync", help="sync slash commands with Discord now")
    sync.add_argument("--guild", type=int, default=None, help="sync to one server only (instant)")
    play = sub.add_parser("playground", help="try the bot offline against a local Discord")
    play.add_argument("--tour", action="store_true", help="play a narrated walk-through and exit")
    play.add_argument("--db", type=Path, default=None, help="keep the playground database at this path")
    return parser


async def _open_database(settings: Settings) -> Database:
    db = Database(settings.database_path)
    await db.connect()
    try:
        await db.migrate()
    except BaseException:
        await db.close()
        raise
    return db


async def cmd_migrate(settings: Settings) -> int:
    db = Database(settings.database_path)
    await db.connect()
    try:
        applied = await db.migrate()
        version = await db.schema_version()
    finally:
        await db.close()
    print(
        f"Database {settings.database_path} is at schema version {version}"
        + (f" (applied {applied})" if applied else "")
    )
    return 0


async def cmd_check(settings: Settings) -> int:
    from bot.client import PeerBot

    db = await _open_database(settings)
    version = await db.schema_version()
    await db.close()
    load_or_create_secret(settings.anon_secret_path)
    warning = secret_permissions_warning(settings.anon_secret_path)
    bot = PeerBot(settings, sync_on_start=False)
    from bot.client import EXTENSIONS

    for extension in EXTENSIONS:
        await bot.load_extension(extension)
    names = sorted(_walk(bot.tree.get_commands()))
    await bot.close()
    print(f"Settings OK. Database {settings.database_path}: schema version {version}.")
    print(f"Anonymity key: {settings.anon_secret_path}" + (f" — WARNING: {warning}" if warning else " (mode 0600)"))
    if not settings.discord_token:
        print("No DISCORD_TOKEN yet: `run` will explain how to get one.")
    print(f"{len(names)} commands would be registered:")
    for name in names:
        print(f"  {name}")
    return 0


def _walk(commands) -> list[str]:
    from discord import app_commands

    out: list[str] = []
    for command in commands:
        if isinstance(command, app_commands.Group):
            out += [f"/{command.name} {name}" for name in (n.lstrip("/") for n in _walk(command.commands))]
        elif isinstance(command, app_commands.ContextMenu):
            out.append(f"[menu] {command.name}")
        else:
            out.append(f"/{command.name}")
    return out


async def cmd_backup(settings: Settings, target: Path) -> int:
    if target.resolve() == settings.database_path.resolve():
        raise ConfigError("The backup path is the live database itself; choose another file.")
    db = await _open_database(settings)
    try:
        await db.backup(target)
    finally:
        await db.close()
    print(
        f"Backed up {settings.database_path} to {target}. The anonymity key is not in it: back up "
        f"{settings.anon_secret_path} separately and keep it apart (see docs/privacy.md)."
    )
    return 0


async def cmd_sync(settings: Settings, guild_id: int | None) -> int:
    from bot.client import PeerBot

    if not settings.discord_token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    bot = PeerBot(settings, sync_on_start=False)
    async with bot:
        await bot.login(settings.discord_token)
        count = await bot.sync_commands(guild_id or settings.dev_guild_id)
    print(f"Synced {count} commands.")
    return 0


async def cmd_run(settings: Settings) -> int:
    from bot.client import PeerBot

    if not settings.discord_token:
        print(NO_TOKEN_HELP, file=sys.stderr)
        return 2
    bot = PeerBot(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with bot:
        runner = asyncio.create_task(bot.start(settings.discord_token))
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            log.info("Shutting down")
            await bot.close()
        stopper.cancel()
        await asyncio.gather(runner, return_exceptions=stopper in done)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    args = _parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        if command == "playground":
            from bot.playground import run_playground

            # The transcript is the output; the bot's INFO lines would interleave with it.
            logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
            for name in ("discord", "discord.gateway", "discord.http", "discord.client"):
                logging.getLogger(name).setLevel(logging.WARNING)
            return asyncio.run(run_playground(tour=args.tour, db_path=args.db))
        coroutine = {
            "run": lambda: cmd_run(settings),
            "migrate": lambda: cmd_migrate(settings),
            "check": lambda: cmd_check(settings),
            "backup": lambda: cmd_backup(settings, args.path),
            "sync": lambda: cmd_sync(settings, args.guild),
        }[command]()
        return asyncio.run(coroutine)
    except (ConfigError, DatabaseError) as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        import discord

        if isinstance(exc, discord.LoginFailure):
            print(
                "Error: Discord refused the token. Reset it in the Developer Portal and update .env.", file=sys.stderr
            )
            return 2
        if isinstance(exc, discord.PrivilegedIntentsRequired):
            print(
                "Error: the SERVER MEMBERS intent is off. Turn it on in the Developer Portal (Bot → Privileged "
                "Gateway Intents) and start again.",
                file=sys.stderr,
            )
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
