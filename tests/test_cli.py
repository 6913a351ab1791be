"""`python -m bot …` as a newcomer runs it."""

import os
import subprocess
import sys
from pathlib import Path

import discord

from bot.__main__ import PERMISSIONS_INTEGER

ROOT = Path(__file__).resolve().parents[1]


def run_cli(tmp_path, *args, env=None):
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "DATABASE_PATH": str(tmp_path / "db.sqlite3"),
        "ANON_SECRET_PATH": str(tmp_path / "anon.key"),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )


def test_check_validates_settings_migrates_and_lists_commands_without_connecting(tmp_path):
    (tmp_path / ".env").write_text(
        (ROOT / ".env.example").read_text().replace("DISCORD_TOKEN=", "DISCORD_TOKEN=dummy-token-for-checking-only")
    )
    result = run_cli(tmp_path, "check")
    assert result.returncode == 0, result.stderr
    assert "Settings OK" in result.stdout and "schema version" in result.stdout
    assert "/setup group-create" in result.stdout and "/group join" in result.stdout
    assert (tmp_path / "anon.key").exists()


def test_run_without_a_token_explains_how_to_get_one_and_exits_non_zero(tmp_path):
    result = run_cli(tmp_path, "run")
    assert result.returncode == 2
    assert "Reset Token" in result.stderr and "SERVER MEMBERS INTENT" in result.stderr
    assert f"permissions={PERMISSIONS_INTEGER}" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_malformed_setting_stops_with_one_clear_line(tmp_path):
    result = run_cli(tmp_path, "check", env={"DEV_GUILD_ID": "not-a-number"})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("Error: DEV_GUILD_ID must be a whole number")
    assert "Traceback" not in result.stderr


def test_migrate_and_backup(tmp_path):
    assert run_cli(tmp_path, "migrate").returncode == 0
    result = run_cli(tmp_path, "backup", str(tmp_path / "copy.sqlite3"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "copy.sqlite3").exists()
    assert "not in it" in result.stdout


def test_invite_permissions_cover_what_the_bot_uses():
    needed = discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
        manage_roles=True,
        manage_events=True,
        manage_threads=True,
        create_public_threads=True,
        create_private_threads=True,
        manage_messages=True,
    )
    assert needed.value == PERMISSIONS_INTEGER
