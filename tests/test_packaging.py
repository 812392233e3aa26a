"""Packaging: the `all` extra really holds every extra."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_all_extra_holds_every_other_extra() -> None:
    extras = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    everything = set(extras.pop("all"))
    for name, requirements in extras.items():
        missing = set(requirements) - everything
        assert not missing, f"extra {name!r}: {sorted(missing)} missing from `all`"
    assert everything == {r for reqs in extras.values() for r in reqs}
