"""Settings come from LAUNCHDECK_* variables, default to a SQLite file here, and a bad value
stops start-up naming the variable."""

import pytest

from orchestrator.core.errors import ConfigError
from orchestrator.core.settings import get_settings, reset_settings


@pytest.fixture(autouse=True)
def fresh_settings(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("LAUNCHDECK_DATABASE_URL", "LAUNCHDECK_SLACK_BOT_TOKEN", "LAUNCHDECK_SEED_FILE"):
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    yield
    reset_settings()


def test_default_database_is_a_sqlite_file_in_the_working_directory():
    assert get_settings().database_url == "sqlite:///launchdeck.db"


def test_plain_postgresql_urls_use_psycopg(monkeypatch):
    monkeypatch.setenv("LAUNCHDECK_DATABASE_URL", "postgresql://ops@db.internal/launchdeck")
    assert get_settings().database_url == "postgresql+psycopg://ops@db.internal/launchdeck"


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("LAUNCHDECK_SLACK_BOT_TOKEN=xoxb-from-dotenv\n")
    token = get_settings().slack_bot_token
    assert token is not None
    assert token.get_secret_value() == "xoxb-from-dotenv"
    assert "xoxb" not in repr(get_settings())


def test_unsupported_database_is_refused_naming_the_variable(monkeypatch):
    monkeypatch.setenv("LAUNCHDECK_DATABASE_URL", "mysql://root@localhost/db")
    with pytest.raises(ConfigError) as caught:
        get_settings()
    assert "LAUNCHDECK_DATABASE_URL" in caught.value.message
    assert "postgresql+psycopg://" in caught.value.message
