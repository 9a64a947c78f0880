"""environment.yml (conda-forge) and pyproject.toml declare the same dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml

from twin.settings import PROJECT_ROOT

#: PyPI name -> conda-forge name where they differ.
CONDA_NAMES = {"osmium": "pyosmium"}


def _name(req: str) -> str:
    return re.split(r"[\[<>=!~ ;]", req.strip(), maxsplit=1)[0].lower()


def _pyproject() -> set[str]:
    data = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    reqs = data["project"]["dependencies"] + data["project"]["optional-dependencies"]["dev"]
    return {CONDA_NAMES.get(_name(r), _name(r)) for r in reqs}


def _conda() -> set[str]:
    """conda packages plus the pip section (packages conda-forge does not carry)."""
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    names = {_name(d) for d in env["dependencies"] if isinstance(d, str)}
    for d in env["dependencies"]:
        if isinstance(d, dict):
            names |= {_name(p) for p in d.get("pip", []) if not p.startswith("-")}
    return names - {"python", "pip"}


def test_dependency_lists_agree() -> None:
    py, conda = _pyproject(), _conda()
    assert py - conda == set(), f"in pyproject.toml but not environment.yml: {sorted(py - conda)}"
    assert conda - py == set(), f"in environment.yml but not pyproject.toml: {sorted(conda - py)}"
