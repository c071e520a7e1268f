"""The settings table: resolution order, conversion errors, and documentation in sync."""
from __future__ import annotations

from pathlib import Path

import pytest

from graph.errors import ConfigError
from graph.settings import SETTINGS, load_settings, settings_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_then_file_then_environment_then_overrides(tmp_path: Path) -> None:
    config = tmp_path / "borderkg.toml"
    config.write_text("[borderkg]\nquery_timeout = 3.5\nmax_rows = 7\nport = 9000\n")
    env = {"BORDERKG_CONFIG": str(config), "BORDERKG_MAX_ROWS": "11"}
    settings = load_settings({"port": 9100}, environ=env)
    assert settings.query_timeout == 3.5
    assert settings.max_rows == 11
    assert settings.port == 9100
    assert settings.threads == 8


@pytest.mark.parametrize("env, message", [
    ({"BORDERKG_PORT": "eighty"}, "setting port from environment BORDERKG_PORT"),
    ({"BORDERKG_STORE": "postgres"}, "expected one of disk, memory, remote"),
    ({"BORDERKG_ALLOW_ANONYMOUS_WRITES": "maybe"}, "expected a boolean"),
])
def test_bad_values_name_the_setting_and_origin(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=env)


def test_unknown_setting_in_config_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text("query_timout = 1\n")
    with pytest.raises(ConfigError, match="unknown settings query_timout"):
        load_settings(config_file=str(config), environ={})


def test_secrets_are_hidden_in_public_view() -> None:
    settings = load_settings({"update_token": "s3cret"}, environ={})
    assert settings.public()["update_token"] is True
    assert "s3cret" not in repr(settings.public())


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    assert settings_markdown() in readme, "README settings table is out of date"
    for setting in SETTINGS:
        assert setting.help.strip(), f"{setting.name} has no help"
