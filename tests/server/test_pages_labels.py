"""The dashboard and the API say what each number is: the uncertainties with their kind and
event, the model's judgement with its posterior probabilities and credible intervals, the
experiment's interval kind, its impact probability and prior, the guardrails' probability of
harm, the forecast's posterior predictive probability; the API's summary names the kind."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from tests.report.labelled_data import labelled
from tests.report.walk import unlabelled
from tests.server import pages_data
from tests.server.kit import TestClient, bearer, make_token

from mlpilot.server.app import create_app

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    built: tuple[Path, datetime] = labelled(tmp_path_factory)
    home = pages_data.copy_of(built[0], tmp_path_factory.mktemp("page-labels") / "ws")
    token = make_token(home, "viewer")
    with TestClient(create_app(home), headers=HTML | bearer(token)) as test_client:
        yield test_client


def text_of(page: str) -> str:
    """The page's visible text on one line."""
    page = re.sub(r"<script.*?</script>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_the_portfolio_names_the_kind_of_each_uncertainty(client: TestClient) -> None:
    text = text_of(client.get("/").text)
    assert "P(good enough)" not in text
    assert "model good enough impact good enough" in text
    assert "posterior probability" in text
    assert "probability (kind not stated) 40%" in text  # xss: recorded by hand


def test_the_initiative_page_names_each_probability_and_interval(client: TestClient) -> None:
    text = text_of(client.get("/initiatives/churn").text)
    assert "Can the model predict well enough? posterior probability" in text
    assert "what it is" in text
    assert "posterior probability that every model criterion is met" in text
    # the model tab: the light's judgement, each number labelled
    assert "Judgement now" in text
    assert re.search(r"Posterior probability (\d+%|>99%|<1%) that every model criterion holds "
                     r"now, from \d+ recent window\(s\)", text)  # fmt: skip
    assert re.search(r"\[[\d.]+, [\d.]+\] 95 % credible interval", text)
    # the impact tab: the experiment's own interval kind, its probability and prior
    assert "relative effect 95 % confidence interval" in text
    assert "95 % interval" not in text
    assert re.search(r"Posterior probability (\d+%|>99%|<1%) that the arm that would be chosen "
                     r"meets every impact criterion \(treatment\); prior: ", text)  # fmt: skip
    assert re.search(r"guardrail offer_cost_per_customer \(treatment\): \w+ — posterior "
                     r"probability (\d+%|>99%|<1%) that it harms", text)  # fmt: skip


def test_the_forecast_on_the_page_is_a_posterior_predictive_probability(
    client: TestClient,
) -> None:
    text = text_of(client.get("/initiatives/xss").text)
    assert re.search(r"Reaching monitoring, with posterior predictive probability: by "
                     r"\d{4}-\d\d-\d\d at 50 %", text)  # fmt: skip
    assert "Can the model predict well enough? probability (kind not stated) 40%" in text


def test_the_api_labels_what_it_returns(client: TestClient) -> None:
    rows = {r["slug"]: r for r in client.get("/api/v1/initiatives").json()}
    assert rows["churn"]["uncertainty_kind"] == {
        "model": "posterior probability", "impact": "posterior probability"}  # fmt: skip
    assert rows["xss"]["uncertainty_kind"] == {"model": None, "impact": None}
    paths = [f"/api/v1/initiatives/{slug}{tail}" for slug in rows for tail in ("", "/health")]
    paths.append("/api/v1/initiatives/churn/experiments/retention-offers/analysis")
    for path in paths:
        reply = client.get(path)
        assert reply.status_code == 200, path
        assert unlabelled(reply.json()) == [], path
