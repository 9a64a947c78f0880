"""The ``twin assets / inspections / work-orders`` commands, in process on the rolled-back
test transaction (the session factory of the commands is pointed at it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from twin.cli import _assets_common
from twin.cli._app import app

runner = CliRunner()


@pytest.fixture()
def cli(session: Session, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    @contextmanager
    def _db() -> Iterator[Session]:
        yield session
        session.flush()

    monkeypatch.setattr(_assets_common, "db_session", _db)
    return runner


def test_cli_inventory_inspection_work_order(cli: CliRunner, tmp_path: Path) -> None:
    r = cli.invoke(
        app,
        [
            "assets",
            "create",
            "--external-id",
            "CLI-1",
            "--kind",
            "bridge",
            "--lon",
            "117.1",
            "--lat",
            "39.0",
            "--built-on",
            "2001-01-01",
            "--actor",
            "eng.sun",
        ],
    )
    assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["assets", "list", "--kind", "bridge", "--json"])
    (asset,) = json.loads(r.output)
    aid = asset["id"]
    scores = tmp_path / "s.json"
    scores.write_text(
        json.dumps({"parts": {"main_girders": [90], "piers": [85], "pavement": [80]}})
    )
    r = cli.invoke(
        app, ["inspections", "add", str(aid), "--on", "2020-02-02", "--scores", f"@{scores}"]
    )
    assert r.exit_code == 0, r.output
    assert "class 2" in r.output
    r = cli.invoke(
        app, ["inspections", "add", str(aid), "--on", "1999-02-02", "--scores", f"@{scores}"]
    )
    assert r.exit_code == 2 and "before" in r.output
    r = cli.invoke(app, ["assets", "transition", str(aid), "planned"])
    assert r.exit_code == 4 and "cannot move" in r.output
    r = cli.invoke(app, ["assets", "show", "424242"])
    assert r.exit_code == 3
    r = cli.invoke(
        app,
        [
            "work-orders",
            "create",
            "--asset",
            str(aid),
            "--kind",
            "repair",
            "--estimate-cny",
            "9000",
        ],
    )
    assert r.exit_code == 0, r.output
    wid = int(r.output.split()[2].rstrip(":"))
    for args in (
        ["assign", str(wid), "--to", "crew 1"],
        ["start", str(wid)],
        ["close", str(wid), "--cost-cny", "9500"],
    ):
        r = cli.invoke(app, ["work-orders", *args])
        assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["work-orders", "list", "--asset", str(aid), "--json"])
    assert json.loads(r.output)[0]["status"] == "closed"
    out = tmp_path / "assets.xlsx"
    r = cli.invoke(app, ["assets", "export", str(out)])
    assert r.exit_code == 0 and out.stat().st_size > 0


def test_cli_import_reports_lines_and_writes_nothing(cli: CliRunner, tmp_path: Path) -> None:
    cli.invoke(
        app,
        [
            "assets",
            "create",
            "--external-id",
            "CLI-2",
            "--kind",
            "tunnel",
            "--lon",
            "117.1",
            "--lat",
            "39.0",
            "--built-on",
            "2001-01-01",
        ],
    )
    bad = tmp_path / "h.csv"
    bad.write_text(
        "external_id,inspected_on,condition_class\nCLI-2,2005-01-01,2\nCLI-2,2006-01-01,9\n"
    )
    r = cli.invoke(app, ["inspections", "import", str(bad)])
    assert r.exit_code == 2
    assert f"{bad}:3: condition_class" in r.output
    r = cli.invoke(app, ["assets", "list", "--kind", "tunnel", "--json"])
    aid = json.loads(r.output)[0]["id"]
    r = cli.invoke(app, ["inspections", "list", str(aid), "--json"])
    assert json.loads(r.output) == []
    bad.write_text(
        "external_id,inspected_on,condition_class\nCLI-2,2005-01-01,2\nCLI-2,2006-01-01,3\n"
    )
    r = cli.invoke(app, ["inspections", "import", str(bad)])
    assert r.exit_code == 0 and "imported 2" in r.output


def test_cli_generate_history_forecast_and_plan(cli: CliRunner, tmp_path: Path) -> None:
    for i in range(6):
        r = cli.invoke(
            app,
            [
                "assets",
                "create",
                "--external-id",
                f"CLI-H{i}",
                "--kind",
                "bridge",
                "--wkt",
                f"LINESTRING(117.{i} 39.0, 117.{i}01 39.0)",
                "--built-on",
                f"{1990 + i}-01-01",
            ],
        )
        assert r.exit_code == 0, r.output
    r = cli.invoke(app, ["assets", "generate-history", "--seed", "5", "--years", "11"])
    assert r.exit_code == 0 and "synthetic history" in r.output and "of 6 bridges" in r.output
    png = tmp_path / "f.png"
    r = cli.invoke(
        app, ["plan", "forecast", "--kind", "bridge", "--years", "15", "--png", str(png)]
    )
    assert r.exit_code == 0, r.output
    assert png.read_bytes()[:4] == b"\x89PNG"
    r = cli.invoke(
        app,
        [
            "plan",
            "run",
            "--name",
            "cli",
            "--budget-cny",
            "2e6",
            "--budget-cny",
            "2e6",
            "--gap",
            "0",
            "--json",
        ],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["result"]["assets"] == 6 and out["result"]["milp"]["status"].startswith("optimal")
    r = cli.invoke(app, ["plan", "run", "--name", "bad", "--budget-cny", "-1"])
    assert r.exit_code == 2 and "budget" in r.output
    r = cli.invoke(
        app, ["plan", "run", "--name", "3y", "--budget-cny", "1e6", "--years", "3", "--json"]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["params"]["budgets_cny"] == [1e6, 1e6, 1e6]
    r = cli.invoke(
        app,
        ["plan", "run", "--name", "x", "--budget-cny", "1", "--budget-cny", "2", "--years", "3"],
    )
    assert r.exit_code == 2 and "--years 3" in r.output
