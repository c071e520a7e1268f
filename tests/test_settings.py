"""The settings table: resolution order, conversion errors, and documentation in sync."""
from __future__ import annotations

import dataclasses
import types
import typing
from pathlib import Path
from typing import Any

import pytest

from graph.errors import ConfigError
from graph.settings import SETTINGS, Settings, load_settings, settings_markdown

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


def _accepts(kind: Any, value: Any) -> bool:
    """Whether ``value`` is of the annotated ``kind`` (``X | None``, ``list[str]``, scalars)."""
    if isinstance(kind, types.UnionType):
        return any(_accepts(part, value) for part in typing.get_args(kind))
    if kind is type(None):
        return value is None
    origin = typing.get_origin(kind)
    if origin is list:
        (item,) = typing.get_args(kind)
        return isinstance(value, list) and all(_accepts(item, v) for v in value)
    if kind is float:
        return isinstance(value, float)
    return isinstance(value, kind) and not (kind is int and isinstance(value, bool))


def test_the_dataclass_has_one_field_per_setting_in_table_order() -> None:
    assert [f.name for f in dataclasses.fields(Settings)] == [s.name for s in SETTINGS]


def test_every_default_converts_to_its_fields_type() -> None:
    hints = typing.get_type_hints(Settings)
    defaults = load_settings(environ={})
    for setting in SETTINGS:
        value = getattr(defaults, setting.name)
        assert _accepts(hints[setting.name], value), (setting.name, value, hints[setting.name])
        if setting.default is not None:
            assert _accepts(hints[setting.name], setting.convert(setting.default)), setting.name


def test_every_setting_from_the_environment_has_its_fields_type() -> None:
    """Values read from text (environment) convert to the field's type, not stay text."""
    hints = typing.get_type_hints(Settings)
    env = {s.env: (",".join(s.default) if isinstance(s.default, list) else str(s.default))
           for s in SETTINGS if s.default is not None}
    settings = load_settings(environ=env)
    for setting in SETTINGS:
        assert _accepts(hints[setting.name], getattr(settings, setting.name)), setting.name


def test_settings_are_frozen_and_read_by_attribute() -> None:
    settings = load_settings({"store": "memory", "data_dir": "/srv/kg"}, environ={})
    assert settings.store == "memory" and settings.data_path == Path("/srv/kg")
    assert settings.get("max_rows") == 100_000 and settings.get("no_such", 5) == 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.store = "disk"  # type: ignore[misc]  # the point: frozen refuses it
    assert list(settings.public()) == [s.name for s in SETTINGS]
