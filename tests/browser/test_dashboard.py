"""The dashboard in a real Chromium against a real ``mlpilot serve`` on the demo workspace:
portfolio, initiative, every chart drawn, the forms, a viewer's read-only page — and not one
request leaving the machine."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import Server, Visit

pytestmark = pytest.mark.browser


def _sign_in(visit: Visit, server: Server, role: str, target: str = "/") -> None:
    page = visit.page
    page.goto(f"{server.url}{target}")
    assert page.url.startswith(f"{server.url}/login")  # no session yet: the login page
    page.fill("#token", server.tokens[role])
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{server.url}{target}")


def _only_local(visit: Visit, server: Server, *, refused: int = 0) -> None:
    """No request left the machine, and no script failed (``refused``: the 403s a test
    provoked on purpose, which the browser logs as failed resources)."""
    outside = [u for u in visit.requested if not u.startswith(f"{server.url}/")]
    assert not outside, f"requests left the machine: {outside}"
    assert visit.requested  # the recorder saw the page's own requests
    forbidden = [e for e in visit.errors if "403" in e]
    assert len(forbidden) == refused, visit.errors
    assert [e for e in visit.errors if "403" not in e] == []


def _charts_drawn(page: Any, panel: str) -> list[str]:
    """Open the tab ``panel`` and wait until each of its charts is drawn; return their ids
    after checking every one has marks."""
    page.click(f"nav.tabs a[href='#{panel}']")
    boxes = page.locator(f"#{panel} [data-chart]")
    ids = [boxes.nth(i).get_attribute("data-chart") for i in range(boxes.count())]
    for chart in ids:
        box = page.locator(f"#{panel} [data-chart='{chart}']")
        box.locator("svg").first.wait_for(state="visible")
        page.wait_for_function(
            "id => document.querySelector(`[data-chart='${id}']`).dataset.rendered", arg=chart
        )
        assert box.get_attribute("data-rendered") == "true", chart
        marks = box.locator("svg .role-mark > *").count()
        assert marks > 0, f"chart {chart} has no marks"
    return [str(i) for i in ids]


def test_portfolio_and_every_chart_of_an_initiative(visit: Visit, server: Server) -> None:
    page = visit.page
    _sign_in(visit, server, "viewer")
    rows = page.locator("#portfolio tbody tr")
    assert rows.count() == 4
    assert page.locator("#portfolio tr[data-slug='churn'] .light").count() == 4
    statuses = page.locator("#portfolio tr[data-slug='churn'] .light").evaluate_all(
        "lights => lights.map(l => l.dataset.status)"
    )
    assert set(statuses) <= {"ok", "warning", "failing", "no-data"}
    page.click("#portfolio tr[data-slug='churn'] a")
    page.wait_for_url(f"{server.url}/initiatives/churn")
    assert page.locator("h1").inner_text() == "Churn risk for retention offers"
    drawn = []
    for panel in ("overview", "model", "data", "service", "impact"):
        drawn += _charts_drawn(page, panel)
    assert {"timeline", "uncertainty", "drift-latest", "drift-history", "service-latency",
            "service-errors", "impact-effects"} <= set(drawn)  # fmt: skip
    assert sum(chart.startswith("model-") for chart in drawn) == 3  # the three model criteria
    page.goto(f"{server.url}/initiatives/fraud-alerts")  # in flight: a delivery forecast
    assert "forecast" in _charts_drawn(page, "overview")
    text = page.locator("#forecast-text").inner_text()
    assert re.search(r"posterior predictive probability: .*at 50 %.*at 85 %.*at 95 %", text)
    _only_local(visit, server)


def test_editor_moves_the_phase_and_adds_a_learning(visit: Visit, server: Server) -> None:
    page = visit.page
    _sign_in(visit, server, "editor", "/initiatives/churn")
    assert page.locator("#current-phase").inner_text() == "monitoring"
    bars_before = len(_timeline_bars(page))
    rows_before = page.locator("#timeline tbody tr").count()
    page.select_option("#phase-select", "deployment")
    assert page.locator("#phase-reason").evaluate("input => input.required")  # a loop
    page.fill("#phase-reason", "p99 latency doubled after the cache change")
    page.select_option("#phase-cause", "service")
    page.click("#phase-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.locator(".flash").inner_text() == "Looped back from monitoring to deployment."
    assert page.locator("#current-phase").inner_text() == "deployment"
    assert page.locator("#timeline tbody tr").count() == rows_before + 1
    newest = page.locator("#timeline tbody tr").first
    assert "monitoring → deployment" in newest.inner_text()
    assert "p99 latency doubled" in newest.inner_text()
    assert newest.get_attribute("class") == "loop"
    assert len(_timeline_bars(page)) == bars_before + 1  # the chart shows the new stay

    page.select_option("#phase-select", "monitoring")  # forward again: no reason needed
    page.click("#phase-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.locator("#current-phase").inner_text() == "monitoring"

    page.click("nav.tabs a[href='#journal']")
    text = "Week-one calls <script>window.pwned = 1</script> keep customers"
    page.fill("#learning-text", text)
    page.fill("#learning-tags", "calls, retention")
    page.click("#learning-form button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.locator(".flash").inner_text().startswith("Learning recorded")
    assert page.url.endswith("#journal")
    assert page.locator("#journal").is_visible()
    assert text in page.locator("#learnings li").first.inner_text()
    assert page.evaluate("typeof window.pwned") == "undefined"  # shown, never run
    _only_local(visit, server)


def _timeline_bars(page: Any) -> list[Any]:
    chart = page.locator("[data-chart='timeline']")
    page.wait_for_function("document.querySelector(\"[data-chart='timeline']\").dataset.rendered")
    return list(chart.locator("svg .role-mark path").all())


def test_a_viewer_cannot_change_anything(visit: Visit, server: Server) -> None:
    page = visit.page
    _sign_in(visit, server, "viewer", "/initiatives/churn")
    assert page.locator("form[action^='/initiatives']").count() == 0
    for tab in ("overview", "journal"):
        page.click(f"nav.tabs a[href='#{tab}']")
        assert page.locator("button[type=submit]").filter(has_text="Record").count() == 0
    phase = page.locator("#current-phase").inner_text()
    learnings = page.locator("#learnings li").count()
    csrf = page.locator("input[name=csrf_token]").first.input_value()  # the sign-out form's
    statuses = page.evaluate(
        """async csrf => {
            const post = (path, fields) => fetch(path, {method: 'POST', redirect: 'manual',
                body: new URLSearchParams({csrf_token: csrf, ...fields})});
            const moved = await post('/initiatives/churn/phase',
                                     {phase: 'modeling', reason: 'forged'});
            const learned = await post('/initiatives/churn/learnings', {text: 'forged'});
            return [moved.status, learned.status];
        }""",
        csrf,
    )
    assert statuses == [403, 403]
    page.reload()
    assert page.locator("#current-phase").inner_text() == phase
    assert page.locator("#learnings li").count() == learnings
    _only_local(visit, server, refused=2)
