"""The dashboard's pages in-process (FastAPI TestClient over a real workspace): each page for a
viewer and an editor, the forms with and without their CSRF token, escaping, the 404 page, the
login flow and the static files."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from tests.server import pages_data
from tests.server.kit import TestClient

from mlpilot.server.app import create_app
from mlpilot.workspace import Workspace

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, datetime]:
    return pages_data.template(tmp_path_factory)


@pytest.fixture
def client(built: tuple[Path, datetime], tmp_path: Path) -> Iterator[TestClient]:
    home = pages_data.copy_of(built[0], tmp_path / "ws")
    with TestClient(create_app(home), headers=HTML) as test_client:
        yield test_client


def _token(client: TestClient, role: str, initiative: str | None = None) -> str:
    app = client.app
    _, secret = app.state.tokens.create(role, initiative=initiative)  # type: ignore[attr-defined]
    return str(secret)


def _login(client: TestClient, role: str, initiative: str | None = None) -> None:
    reply = client.post("/login", data={"token": _token(client, role, initiative)},
                        follow_redirects=False)  # fmt: skip
    assert reply.status_code == 303


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def _workspace(client: TestClient) -> Workspace:
    return client.app.state.workspace  # type: ignore[attr-defined,no-any-return]


def _specs(html: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="chart-specs">(.*?)</script>', html,
                      re.S)  # fmt: skip
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


# Signing in ---------------------------------------------------------------------------------


def test_a_page_without_a_session_redirects_to_the_login_page(client: TestClient) -> None:
    reply = client.get("/initiatives/churn", follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/login?next=/initiatives/churn"
    page = client.get(reply.headers["location"])
    assert page.status_code == 200
    assert 'name="next" value="/initiatives/churn"' in page.text


def test_login_with_a_good_token_goes_to_next_and_a_bad_one_is_refused(
    client: TestClient,
) -> None:
    bad = client.post("/login", data={"token": "mlp_nope", "next": "/"}, follow_redirects=False)
    assert bad.status_code == 400
    assert "unknown or revoked" in bad.text
    assert "mlpilot_session" not in bad.headers.get("set-cookie", "")
    good = client.post(
        "/login",
        data={"token": _token(client, "viewer"), "next": "/initiatives/quiet"},
        follow_redirects=False,
    )
    assert (good.status_code, good.headers["location"]) == (303, "/initiatives/quiet")
    assert client.get("/initiatives/quiet").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil", ""])
def test_login_never_redirects_off_the_server(client: TestClient, target: str) -> None:
    reply = client.post("/login", data={"token": _token(client, "viewer"), "next": target},
                        follow_redirects=False)  # fmt: skip
    assert reply.headers["location"] == "/"


def test_a_login_posted_from_another_site_is_refused(client: TestClient) -> None:
    reply = client.post(
        "/login",
        data={"token": _token(client, "editor")},
        headers={"origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert reply.status_code == 403
    assert "mlpilot_session" not in reply.headers.get("set-cookie", "")


def test_logout_needs_the_csrf_token_and_ends_the_session(client: TestClient) -> None:
    _login(client, "viewer")
    page = client.get("/")
    assert client.post("/logout", follow_redirects=False).status_code == 403
    out = client.post("/logout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert (out.status_code, out.headers["location"]) == (303, "/login")
    assert client.get("/", follow_redirects=False).status_code == 303


# Reading --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_portfolio_lists_every_initiative_with_its_lights(client: TestClient, role: str) -> None:
    _login(client, role)
    reply = client.get("/")
    assert reply.status_code == 200
    html = reply.text
    for slug in ("churn", "quiet", "xss"):
        assert f'href="/initiatives/{slug}"' in html
    lights = re.findall(r'data-group="(\w+)" data-status="([\w-]+)"', html)
    assert len(lights) == 3 * 4
    statuses = dict(lights[:4])
    report = _workspace(client).initiative("churn").status().to_dict()["monitors"]
    assert statuses == {g: report[g]["status"] for g in ("model", "data", "service", "impact")}


@pytest.mark.parametrize("role", ["viewer", "editor"])
def test_initiative_page_renders_every_section_and_its_charts(
    client: TestClient, role: str
) -> None:
    _login(client, role)
    reply = client.get("/initiatives/churn")
    assert reply.status_code == 200
    html = reply.text
    for section in ("overview", "model", "data", "service", "impact", "alerts", "team",
                    "journal"):  # fmt: skip
        assert f'<section id="{section}" class="tab">' in html
    specs = _specs(html)
    containers = set(re.findall(r'data-chart="([\w-]+)"', html))
    assert containers == set(specs)
    assert {"timeline", "forecast", "drift-latest", "service-latency", "service-errors",
            "impact-effects"} <= containers  # fmt: skip
    assert any(name.startswith("model-") for name in containers)
    assert "Keep the usage-drop rule" in html  # a fallback plan
    assert "Leakage in a date column" in html  # the loop's reason
    forms = re.findall(r'<form method="post" action="/initiatives/churn/(\w+)"', html)
    assert forms == (["phase", "decisions", "learnings"] if role == "editor" else [])


def test_pages_load_nothing_from_another_origin_and_set_a_strict_policy(
    client: TestClient,
) -> None:
    _login(client, "viewer")
    reply = client.get("/initiatives/churn")
    policy = reply.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    sources = re.findall(r'(?:src|href)="([^"]+)"', reply.text)
    assert sources
    assert all(s.startswith(("/", "#")) for s in sources)
    scripts = re.findall(r'<script src="([^"]+)"', reply.text)
    assert scripts == ["/static/vendor/vega.min.js", "/static/vendor/vega-lite.min.js",
                       "/static/vendor/vega-embed.min.js", "/static/dashboard.js"]  # fmt: skip
    for path in [*scripts, "/static/dashboard.css", "/static/vendor/vega.LICENSE"]:
        static = client.get(path)
        assert static.status_code == 200, path
        assert len(static.content) > 500, path


def test_an_unknown_initiative_gets_the_404_page(client: TestClient) -> None:
    _login(client, "editor")
    reply = client.get("/initiatives/nope")
    assert reply.status_code == 404
    assert "text/html" in reply.headers["content-type"]
    assert "There is no initiative &#39;nope&#39; in this workspace." in reply.text
    csrf = _csrf(client.get("/").text)
    posted = client.post("/initiatives/nope/learnings", data={"csrf_token": csrf, "text": "x"})
    assert posted.status_code == 404
    assert "There is no initiative &#39;nope&#39;" in posted.text


def test_a_token_scoped_to_one_initiative_sees_only_it(client: TestClient) -> None:
    _login(client, "editor", initiative="quiet")
    portfolio = client.get("/").text
    assert 'href="/initiatives/quiet"' in portfolio
    assert 'href="/initiatives/churn"' not in portfolio
    assert client.get("/initiatives/churn").status_code == 403
    page = client.get("/initiatives/quiet")
    assert page.status_code == 200
    forged = client.post(
        "/initiatives/churn/learnings", data={"csrf_token": _csrf(page.text), "text": "sneaky"}
    )
    assert forged.status_code == 403
    assert all(i.text != "sneaky" for i in _workspace(client).initiative("churn").learnings())


# Escaping -------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/initiatives/xss"])
def test_user_strings_are_escaped_in_the_html_and_in_the_chart_specs(
    client: TestClient, path: str
) -> None:
    _login(client, "editor")
    html = client.get(path).text
    for raw in (pages_data.XSS, pages_data.XSS_CLOSE, pages_data.XSS_ATTR):
        if path == "/" and raw != pages_data.XSS:
            continue  # the portfolio shows only the name
        assert raw not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "<img" not in html
    assert html.count("<script") == (0 if path == "/" else 5)  # the JSON block + 4 files
    if path != "/":
        assert "&lt;/script&gt;&lt;script&gt;alert(&#34;y&#34;)&lt;/script&gt;" in html
        sources = json.dumps(_specs(html))  # parses: the closing tag did not end the block
        assert json.loads(sources)["uncertainty"]["data"]["values"][0]["source"] == (
            pages_data.XSS_CLOSE)  # fmt: skip


# Forms ----------------------------------------------------------------------------------------


def test_editor_moves_the_phase_and_is_sent_back_with_a_flash(client: TestClient) -> None:
    _login(client, "editor")
    page = client.get("/initiatives/churn").text
    reply = client.post("/initiatives/churn/phase", follow_redirects=False, data={
        "csrf_token": _csrf(page), "phase": "modeling", "reason": "Recall is too low",
        "cause": "model"})  # fmt: skip
    assert reply.status_code == 303
    assert reply.headers["location"] == "/initiatives/churn#overview"
    after = client.get(reply.headers["location"]).text
    assert "Looped back from evaluation to modeling." in after
    assert 'id="current-phase">modeling<' in after
    assert "Recall is too low" in after
    last = _workspace(client).initiative("churn").history()[-1]
    assert (last.to_phase.value, last.reason) == ("modeling", "Recall is too low")
    assert last.who is not None
    assert last.who.startswith("editor")
    again = client.get("/initiatives/churn").text
    assert "Looped back" not in again  # a flash shows once


def test_a_validation_error_is_shown_next_to_the_form_and_keeps_the_input(
    client: TestClient,
) -> None:
    _login(client, "editor")
    churn = _workspace(client).initiative("churn")
    before = churn.history()
    page = client.get("/initiatives/churn").text
    reply = client.post("/initiatives/churn/phase", data={
        "csrf_token": _csrf(page), "phase": "modeling", "who": pages_data.XSS})  # fmt: skip
    assert reply.status_code == 422
    assert re.search(r'class="error" role="alert">[^<]*needs a reason', reply.text)
    assert churn.history() == before
    assert pages_data.XSS not in reply.text
    assert 'value="&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"' in reply.text


def test_editor_adds_a_learning_and_records_a_decision(client: TestClient) -> None:
    _login(client, "editor")
    csrf = _csrf(client.get("/initiatives/churn").text)
    learned = client.post("/initiatives/churn/learnings", follow_redirects=False, data={
        "csrf_token": csrf, "text": "Week-one calls keep customers", "tags": "calls",
        "source": "interviews"})  # fmt: skip
    assert (learned.status_code, learned.headers["location"]) == (
        303, "/initiatives/churn#journal")  # fmt: skip
    decided = client.post("/initiatives/churn/decisions", data={
        "csrf_token": csrf, "verdict": "pivot", "why": "Calls beat offers",
        "evidence": "interviews"})  # fmt: skip
    assert decided.status_code == 200  # followed the redirect
    assert "Decision recorded: pivot (status now active)." in decided.text
    churn = _workspace(client).initiative("churn")
    assert churn.learnings()[-1].text == "Week-one calls keep customers"
    assert churn.decisions()[-1].rationale == "Calls beat offers"
    journal = decided.text.split('<section id="journal"')[1]
    assert "Week-one calls keep customers" in journal
    assert "Calls beat offers" in journal


def test_a_form_without_its_csrf_token_is_refused(client: TestClient) -> None:
    _login(client, "editor")
    churn = _workspace(client).initiative("churn")
    before = (churn.history(), churn.learnings())
    for path, data in [("phase", {"phase": "deployment"}), ("learnings", {"text": "x"})]:
        missing = client.post(f"/initiatives/churn/{path}", data=data)
        wrong = client.post(f"/initiatives/churn/{path}", data={**data, "csrf_token": "0" * 64})
        assert (missing.status_code, wrong.status_code) == (403, 403)
    assert (churn.history(), churn.learnings()) == before


def test_a_viewer_sees_no_form_and_a_forged_post_is_refused(client: TestClient) -> None:
    _login(client, "viewer")
    page = client.get("/initiatives/churn").text
    assert '<form method="post" action="/initiatives' not in page
    churn = _workspace(client).initiative("churn")
    before = churn.decisions()
    forged = client.post("/initiatives/churn/decisions", data={
        "csrf_token": _csrf(page), "verdict": "stop", "why": "forged"})  # fmt: skip
    assert forged.status_code == 403
    assert churn.decisions() == before


def test_a_bearer_editor_can_post_a_form_without_a_csrf_token(client: TestClient) -> None:
    token = _token(client, "editor")
    reply = client.post(
        "/initiatives/churn/learnings",
        data={"text": "From a script"},
        headers={"authorization": f"Bearer {token}"},
        follow_redirects=False,
    )
    assert reply.status_code == 303
    assert _workspace(client).initiative("churn").learnings()[-1].text == "From a script"
