"""What every ``borderkg`` command module shares: settings as options, the store, JSON out.

Kept apart from ``server.cli`` (the group and its light commands) because ``server.cli``
names the heavier command modules in ``LAZY_COMMANDS`` and imports them on first use:
were their shared helpers in ``server.cli`` itself, each of them would import the module
that imports it, and ``python -m server.cli`` would load ``server.cli`` twice (once as
``__main__``, once under its name).
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import click

from graph.errors import ConfigError
from graph.settings import ENV_PREFIX, SETTINGS, Setting, Settings, load_settings

STORE_SETTINGS = ("data_dir", "store", "remote_query_url", "remote_update_url",
                  "remote_graph_store_url", "remote_user", "remote_password", "remote_auth")


def setting_option(setting: Setting) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option for a setting; its value overrides config file and environment."""
    flag = "--" + setting.name.replace("_", "-")
    if setting.default is False or setting.default is True:
        return click.option(flag, setting.name, is_flag=True, default=None, help=setting.help)
    return click.option(flag, setting.name, default=None,
                        help=setting.help + f" [env {setting.env}]")


def with_settings(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Add options for the named settings plus ``--config``; pass ``settings`` to the command."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(config: str | None, **kwargs: Any) -> Any:
            overrides = {n: kwargs.pop(n) for n in names}
            settings = resolve_settings(overrides, config)
            if "data_dir" in names and settings.store == "disk":
                check_data_dir(settings)
            return func(settings=settings, **kwargs)

        wrapper.__name__, wrapper.__doc__ = func.__name__, func.__doc__
        for setting in reversed([s for s in SETTINGS if s.name in names]):
            wrapper = setting_option(setting)(wrapper)
        return click.option("--config", default=None, help="TOML config file "
                            "[env BORDERKG_CONFIG].")(wrapper)

    return decorate


def resolve_settings(overrides: dict[str, Any], config: str | None) -> Settings:
    """:func:`load_settings`, with a config file that is not UTF-8 text (TOML must be)
    reported as a :class:`ConfigError` rather than a decoding traceback."""
    try:
        return load_settings(overrides, config_file=config)
    except UnicodeDecodeError:
        path = config or os.environ.get(ENV_PREFIX + "CONFIG")
        raise ConfigError(f"config file {path} is not UTF-8 text (TOML must be)") from None


def check_data_dir(settings: Settings) -> None:
    """Create the disk store's directory now, so an unusable ``data_dir`` (under a
    read-only file system such as /proc, below a regular file, or a file itself) is one
    clear line naming the setting, not an ``OSError`` from deep inside the store."""
    target = settings.data_path / "store"
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, FileExistsError | NotADirectoryError):
            reason = "a regular file is in the way"
        raise ConfigError(f"cannot use data directory {settings.data_path} (--data-dir, "
                          f"{ENV_PREFIX}DATA_DIR): cannot create {target}: {reason}") from None


def open_configured_store(settings: Settings) -> Any:
    """The configured store; a disk store a running server holds is one line naming it."""
    from graph.service import open_store_explained

    return open_store_explained(settings)


def echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
