"""The one did-you-mean (generator/project/suggest.py) and the messages that use it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.project.suggest import closest


@pytest.mark.parametrize("word, choices, expected", [
    # difflib alone ties these (0.67) and the alphabet picks 'assets'.
    ("alerts", ["assets", "alerts-topic"], ["alerts-topic", "assets"]),
    # difflib alone prefers 'sg-alb' (0.73 over 0.63): 'db' shortens 'database'.
    ("sg-db", ["sg-alb", "sg-database", "sg-service"], ["sg-database", "sg-alb"]),
    ("sizng", ["sizing", "settings"], ["sizing", "settings"]),
    ("vcp", ["vpc", "vpc-endpoints"], ["vpc"]),  # letters in order across parts are no abbreviation
    ("us-est-1", ["us-east-1", "eu-west-1"], ["us-east-1", "eu-west-1"]),
    ("xyz", ["vpc", "rds"], []),
])
def test_prefixes_and_abbreviations_weigh(word: str, choices: list[str], expected: list[str]) -> None:
    assert closest(word, choices, n=3) == expected


def test_a_renamed_unit_is_what_its_old_name_meant() -> None:
    # Without the rename, 'alerts' would suggest 'alarms' (closer in spelling than 'notify').
    assert closest("alerts", ["alarms", "notify"]) == ["alarms"]
    assert closest("alerts", ["alarms", "notify"], renamed={"alerts": "notify"}) == ["notify"]


def _rename(reference_project: Path) -> Path:
    config = reference_project
    text = config.read_text()
    text = text.replace("  alerts:\n    module: monitoring/alerts\n",
                        "  alerts-topic:\n    module: monitoring/alerts\n    previous: alerts\n"
                        "  assets:\n    module: monitoring/alerts\n", 1)
    config.write_text(text)
    return config


def test_validate_suggests_the_renamed_unit_and_the_longer_name(
    reference_project: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _rename(reference_project)
    rds = config.parent / "catalog/data/rds.yaml"
    rds.write_text(rds.read_text().replace("    unit: sg-database\n", "    unit: sg-db\n"))
    monkeypatch.chdir(config.parent)
    result = runner.invoke(main, ["validate"])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert ("catalog/monitoring/events.yaml:7:11: dependencies.alerts.unit: dependency 'alerts' needs unit "
            "'alerts', which environments.yaml does not declare (did you mean 'alerts-topic', renamed from "
            "'alerts'?)") in lines
    assert ("catalog/data/rds.yaml:14:11: dependencies.sg.unit: dependency 'sg' needs unit 'sg-db', which "
            "environments.yaml does not declare (did you mean 'sg-database'?)") in lines
    assert "assets" not in result.stderr and "sg-alb" not in result.stderr
