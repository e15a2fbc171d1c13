"""The service tab says what each SLO number is: the error budget an objective stands for, the
burn rates with their windows, and the alert rules (scaled ones named)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from tests.server import pages_data
from tests.server.kit import TestClient

from mlpilot.server.app import create_app


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    return pages_data.template(tmp_path_factory)


@pytest.fixture
def client(built: tuple[Path, datetime], tmp_path: Path) -> Iterator[TestClient]:
    home = pages_data.copy_of(built[0], tmp_path / "ws")
    with TestClient(create_app(home), headers={"accept": "text/html"}) as test_client:
        yield test_client


def test_the_service_tab_labels_every_slo_number(client: TestClient) -> None:
    _, secret = client.app.state.tokens.create("viewer")  # type: ignore[attr-defined]
    client.post("/login", data={"token": secret}, follow_redirects=False)
    html = client.get("/initiatives/churn").text
    found = re.search(r'<section id="service" class="tab">(.*?)</section>', html, re.S)
    assert found is not None
    section = " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())
    assert "burn rate now (1h / 6h / 3d)" in section
    assert "error budget: 1 % of requests may take longer than 300 ms over 30d" in section
    assert "error budget: 1 % of requests may fail over 30d" in section
    assert re.search(r"\d+\.\d× / \d+\.\d× / \d+\.\d×", section)
    assert "Burn rate: the bad share over the trailing window ÷ the error budget" in section
    assert "page above 14.4× over 1h and 5m; page above 6× over 6h and 30m; ticket above 1× " \
           "over 3d and 6h" in section  # fmt: skip
