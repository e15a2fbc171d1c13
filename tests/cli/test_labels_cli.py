"""The CLI says what each number is: the status's uncertainties (posterior probability, of
what), the service's units, the forecast's posterior predictive probability, the feasibility's
credible and confidence intervals — each label read from the JSON the library gives."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.helpers import Cli, make_cli
from tests.report.labelled_data import labelled
from tests.server.pages_data import copy_of


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_of(labelled(tmp_path_factory)[0], tmp_path_factory.mktemp("cli-labels") / "ws")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, home: Path,
        monkeypatch: pytest.MonkeyPatch) -> Cli:  # fmt: skip
    cli = make_cli(capsys, tmp_path, monkeypatch)
    cli.home = home
    return cli


def flat(text: str) -> str:
    """The output on one line: no panel borders, no wrapping."""
    return " ".join(text.replace("│", " ").split())


def test_status_says_what_each_uncertainty_is(cli: Cli) -> None:
    text = flat(cli.ok("status", "churn").out)
    assert "uncertainty: model: posterior probability" in text
    assert "that every model criterion is met (feasibility: gbm-40000," in text
    assert "impact: posterior probability" in text
    assert "that the arm that would be chosen meets every impact criterion" in text
    assert "model 99%" not in text  # the bare form of before
    assert "impact 99%" not in text
    xss = flat(cli.ok("status", "xss").out)  # a belief recorded by hand, without its kind
    assert "model: probability (kind not stated) 40%" in xss
    assert "impact: unknown (never recorded)" in xss


def test_a_latency_is_shown_with_its_unit(cli: Cli) -> None:
    """Before: ``latency_p99 1372.028 (FAILS 300)``, a number that could be anything."""
    text = flat(cli.ok("status", "churn").out)
    service = text[text.index("● service") :]
    assert "latency_p99" in service
    assert " ms (met 300 ms)" in service or " ms (FAILS 300 ms)" in service
    assert re.search(r"error_rate [\d.]+ \((met|FAILS) 0.01\)", service)  # a share: no unit


def test_the_forecast_says_its_probabilities_are_posterior_predictive(cli: Cli) -> None:
    by = (datetime.now(UTC) + timedelta(days=200)).date().isoformat()
    text = flat(cli.ok("forecast", "xss", "--by", by, "--trials", "2000").out)
    assert "(95%) — posterior predictive probability;" in text
    assert f"posterior predictive probability of delivery by {by}:" in text
    assert cli.json("forecast", "xss", "--trials", "2000")["probability_kind"] == (
        "posterior predictive probability")  # fmt: skip


def test_evaluate_names_its_intervals_and_probabilities(cli: Cli) -> None:
    text = flat(cli.ok("evaluate", "churn").out)
    assert "[95% CrI]: 95 % credible interval" in text
    assert "P(met): posterior probability that the criterion is met" in text
    assert "learning curve [95% CI]: 95 % confidence interval of the fit" in text
    assert "posterior probability that every model criterion is met:" in text
    assert " 100% " not in text  # never a rounded certainty
    assert " 0% " not in text
