"""CI runs the README's test command, and the suite's parallel set-up refers to real files."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import GROUPS

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = [c for c in re.findall(r"```sh\n(.*?)\n```", readme, re.DOTALL) if "pytest" in c]
    assert len(commands) == 1, commands
    return commands[0].strip()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = _readme_test_command()
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert command in lines
    assert lines.index(command) < lines.index("ruff check .") < lines.index("mypy")


def test_the_test_extra_installs_what_the_command_uses() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    extra = re.search(r"^test = \[\n(.*?)^\]", pyproject, re.MULTILINE | re.DOTALL)  # tomllib is 3.11+
    assert extra, "pyproject.toml has no test extra"
    names = set(re.findall(r'^\s*"([A-Za-z0-9_.-]+)', extra.group(1), re.MULTILINE))
    assert "-n 3 --dist loadfile" in _readme_test_command()
    assert {"pytest", "pytest-xdist"} <= names


def test_the_worker_groups_name_test_files() -> None:
    assert all((ROOT / "tests" / name).is_file() for name in GROUPS)
