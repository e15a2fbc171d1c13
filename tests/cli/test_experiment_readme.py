"""The README's experiment commands, run as written, on data where the offers raise retention
and also raise the offer cost per customer by 20 %: the verdict must be a guardrail failure.

Before directions were required, the README's ``--guardrail offer_cost_per_customer`` made
"higher is better" the silent default, and cost +20.0 % [+14.7 %, +25.4 %] (p = 2e-15) passed.
"""

from __future__ import annotations

import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.cli.helpers import Cli, create_args, make_cli

README = Path(__file__).resolve().parents[2] / "README.md"
T0 = datetime(2026, 3, 2, tzinfo=UTC)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(capsys, tmp_path, monkeypatch)


def readme_commands(*prefixes: str) -> list[list[str]]:
    """The README's ``sh`` commands (continuation lines joined, comments dropped) that start
    with one of ``prefixes``, as argument lists without the leading ``mlpilot``."""
    commands, pending, shell = [], "", False
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            shell = line.strip() == "```sh"
            continue
        if not shell:
            continue
        text = pending + line
        if text.rstrip().endswith("\\"):
            pending = text.rstrip()[:-1] + " "
            continue
        pending = ""
        words = shlex.split(text, comments=True)
        if words[:1] == ["mlpilot"] and any(" ".join(words).startswith(p) for p in prefixes):
            commands.append(words[1:])
    return commands


def write_data(folder: Path, units: int = 20_000, seed: int = 14) -> None:
    """Exposures and metric events: retention 60 % → 66 %, offer cost per customer +20 %."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"s{i}" for i in range(units)])
    treated = rng.random(units) < 0.5
    pq.write_table(
        pa.table(
            {
                "unit_id": ids,
                "experiment": ["offers"] * units,
                "variant": np.where(treated, "treatment", "control"),
                "time": pa.array([T0] * units, pa.timestamp("us", tz="UTC")),
            }
        ),
        folder / "exposures.parquet",
    )
    retained = rng.random(units) < np.where(treated, 0.66, 0.60)
    cost = rng.gamma(4.0, 1.0, units) * np.where(treated, 1.2, 1.0)
    before = rng.random(units) < 0.6
    events = {
        "unit_id": [*ids[retained], *ids, *ids[before]],
        "metric": ["retention_30d"] * int(retained.sum())
        + ["offer_cost_per_customer"] * units
        + ["retention_30d"] * int(before.sum()),
        "value": [1.0] * int(retained.sum()) + cost.tolist() + [1.0] * int(before.sum()),
        "time": [T0 + timedelta(days=3)] * (int(retained.sum()) + units)
        + [T0 - timedelta(days=3)] * int(before.sum()),
    }
    events["time"] = pa.array(events["time"], pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table(events), folder / "events.parquet")


def test_the_readme_experiment_fails_on_its_guardrail(cli: Cli, tmp_path: Path):
    criteria = readme_commands("mlpilot criteria add churn --kind impact")
    experiment = readme_commands(
        "mlpilot experiment create", "mlpilot log exposures", "mlpilot log metric-events"
    )
    (analyze,) = readme_commands("mlpilot experiment analyze churn")
    assert len(criteria) == 1
    assert len(experiment) == 3
    write_data(tmp_path)
    cli.ok("init")
    cli.ok(*create_args("churn"))
    for command in criteria + experiment:
        cli.ok(*command)
    out = cli.json(*analyze)
    cost = next(r for r in out["results"] if r["metric"] == "offer_cost_per_customer")
    assert cost["direction"] == "lower"
    assert cost["effect_rel"] == pytest.approx(0.20, abs=0.04)
    assert cost["effect_rel_ci"][0] > 0.1  # a clear rise, as in the issue
    kpi = next(r for r in out["results"] if r["metric"] == "retention_30d")
    assert kpi["effect_rel_ci"][0] > 0.02  # the KPI alone would pass
    assert out["verdict"] == "fail"
    assert "guardrail offer_cost_per_customer degrades" in out["reason"]
    (guard,) = out["guardrails"]
    assert guard["verdict"] == "fail"
    assert guard["probability_harm"] > 0.99
    text = " ".join(cli.ok(*analyze).out.split())
    assert "verdict: fail" in text
    assert "posterior probability of harm > 0.999" in text
