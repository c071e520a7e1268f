"""SECURITY.md's limits table states the defaults that graph/settings.py actually has."""
from __future__ import annotations

import re
from pathlib import Path

from graph.settings import BY_NAME

DOC = Path(__file__).resolve().parents[2] / "SECURITY.md"
ROW = re.compile(r"^\| `(\w+)` \| ([^|]+) \|", re.M)


def test_limits_table_matches_settings() -> None:
    rows = dict(ROW.findall(DOC.read_text(encoding="utf-8")))
    assert {"query_timeout", "max_rows", "max_body_bytes", "allowed_service_hosts"} <= set(rows)
    for name, shown in rows.items():
        default = BY_NAME[name].default
        expected = "(empty)" if default == [] else "(unset)" if default is None \
            else f"`{default}`"
        assert shown.strip() == expected, f"SECURITY.md says {name} defaults to {shown}"
