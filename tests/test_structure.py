"""The project's shape: every cog is loaded, no command is defined twice, the layering holds."""

import re
from pathlib import Path

from bot.client import EXTENSIONS

ROOT = Path(__file__).resolve().parents[1]


def test_every_cog_module_is_in_the_extension_list():
    modules = {f"cogs.{p.stem}" for p in (ROOT / "cogs").glob("*.py") if not p.name.startswith("_")}
    assert modules == set(EXTENSIONS)


async def test_no_command_name_is_defined_twice(tmp_path):
    from discord import app_commands

    from bot.client import PeerBot
    from bot.settings import Settings

    bot = PeerBot(Settings(database_path=tmp_path / "db", anon_secret_path=tmp_path / "k"), sync_on_start=False)
    for extension in EXTENSIONS:
        await bot.load_extension(extension)
    seen: list[str] = []

    def walk(commands, prefix=""):
        for command in commands:
            name = f"{prefix}{command.name}"
            seen.append(name)
            if isinstance(command, app_commands.Group):
                walk(command.commands, name + " ")

    walk(bot.tree.get_commands())
    assert len(seen) == len(set(seen))
    await bot.close()


def test_only_the_client_and_the_cli_import_discord_in_the_engine():
    pattern = re.compile(r"^\s*(import discord|from discord)", re.M)
    leaks = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "bot").rglob("*.py")
        if p.name not in ("client.py", "__main__.py", "playground.py") and pattern.search(p.read_text())
    ]
    assert leaks == []


def test_logic_imports_nothing_of_ours_but_logic():
    pattern = re.compile(r"^\s*(from|import) (bot\.(?!logic)|cogs)", re.M)
    assert [p.name for p in (ROOT / "bot" / "logic").glob("*.py") if pattern.search(p.read_text())] == []


def test_first_responses_are_given_only_through_the_answering_helpers():
    # bot/client.py's reply, defer_reply, defer_update, edit_reply and open_modal take the interaction's gate, so
    # the safeguard against Discord's 3-second deadline never answers at the same time as a cog.
    pattern = re.compile(r"\.response\.(send_message|send_modal|defer|edit_message|launch_activity)\(")
    direct = [
        f"{p.relative_to(ROOT)}: {m.group(0)}"
        for folder in ("bot", "cogs")
        for p in (ROOT / folder).rglob("*.py")
        if p != ROOT / "bot" / "client.py"
        for m in pattern.finditer(p.read_text())
    ]
    assert direct == []


def test_every_component_and_form_handler_is_guarded():
    # Guarded handlers turn errors into kind replies and tell the deadline safeguard they have the interaction
    # (so a click nothing answers any more is told so); see cogs/_ui.py.
    import importlib
    import inspect

    import discord

    from cogs._ui import Components, GuardedModal, GuardedView, guarded

    wrapper = guarded(lambda self, interaction: None).__code__  # what every guarded callback runs

    def is_guarded(cls: type) -> bool:
        if issubclass(cls, discord.ui.DynamicItem):
            return cls.callback.__code__ is wrapper
        if issubclass(cls, discord.ui.Modal):
            return issubclass(cls, GuardedModal)
        if issubclass(cls, discord.ui.View):
            return issubclass(cls, GuardedView | Components)
        return True

    unguarded = [
        name
        for path in sorted((ROOT / "cogs").glob("*.py"))
        for name, cls in inspect.getmembers(importlib.import_module(f"cogs.{path.stem}"), inspect.isclass)
        if cls.__module__ == f"cogs.{path.stem}" and not is_guarded(cls)
    ]
    assert unguarded == []


async def test_every_dynamic_item_is_registered_with_the_bot(bot):
    # Views of DynamicItems are not kept per message (cogs/_ui.py, Components): a click on one is answered only
    # because its template was registered when its cog loaded.
    import importlib
    import inspect

    import discord

    registered = set(bot._connection._view_store._dynamic_items.values())
    defined = {
        cls
        for path in sorted((ROOT / "cogs").glob("*.py"))
        for _, cls in inspect.getmembers(importlib.import_module(f"cogs.{path.stem}"), inspect.isclass)
        if cls.__module__ == f"cogs.{path.stem}" and issubclass(cls, discord.ui.DynamicItem)
    }
    assert defined and {cls.__name__ for cls in defined - registered} == set()
