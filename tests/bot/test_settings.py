from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings


def test_defaults_need_nothing_but_an_empty_environment():
    settings = load_settings({})
    assert settings.discord_token is None
    assert settings.database_path == Path("data/peerbot.sqlite3")
    assert settings.anon_secret_path == Path("data/anon.key")
    assert settings.log_level == "INFO"
    assert settings.discord_api_base is None and settings.dev_guild_id is None


def test_every_key_is_read():
    settings = load_settings(
        {
            "DISCORD_TOKEN": "x" * 40,
            "DATABASE_PATH": "/tmp/a.db",
            "ANON_SECRET_PATH": "/tmp/k",
            "DEV_GUILD_ID": "123",
            "LOG_LEVEL": "debug",
            "DISCORD_API_BASE": "http://127.0.0.1:9/api/v10/",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:9/gateway",
        }
    )
    assert settings.discord_token == "x" * 40
    assert settings.database_path == Path("/tmp/a.db") and settings.anon_secret_path == Path("/tmp/k")
    assert settings.dev_guild_id == 123 and settings.log_level == "DEBUG"
    assert settings.discord_api_base == "http://127.0.0.1:9/api/v10"
    assert settings.discord_gateway_url == "ws://127.0.0.1:9/gateway"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DEV_GUILD_ID": "abc"}, "DEV_GUILD_ID"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DISCORD_API_BASE": "discord.com"}, "DISCORD_API_BASE"),
        ({"DISCORD_GATEWAY_URL": "http://x"}, "DISCORD_GATEWAY_URL"),
        ({"DISCORD_TOKEN": "short"}, "DISCORD_TOKEN"),
        ({"ESCALATION_MINUTES": "0"}, "ESCALATION_MINUTES"),
        ({"ANON_DELAY_MIN_SECONDS": "10", "ANON_DELAY_MAX_SECONDS": "5"}, "ANON_DELAY_MAX_SECONDS"),
    ],
)
def test_a_malformed_value_is_refused_with_its_name_and_how_to_fix_it(env, named):
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert named in str(caught.value)
    assert "\n" not in str(caught.value)


def test_dotenv_file_is_read_and_the_environment_wins(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("LOG_LEVEL=WARNING\nDATABASE_PATH=from-file.db\n")
    monkeypatch.setenv("DATABASE_PATH", "from-env.db")
    monkeypatch.delenv("LOG_LEVEL", raising=False)
    settings = load_settings(dotenv_path=env_file)
    assert settings.log_level == "WARNING"
    assert settings.database_path == Path("from-env.db")


def test_env_example_documents_every_setting():
    from dataclasses import fields

    from bot.settings import Settings

    example = Path(__file__).resolve().parents[2].joinpath(".env.example").read_text()
    for f in fields(Settings):
        assert f"{f.name.upper()}=" in example, f.name
