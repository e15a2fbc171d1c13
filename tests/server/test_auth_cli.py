"""``mlpilot token create|list|revoke``: shown once, stored hashed, refused after revocation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlpilot.cli.app import main
from mlpilot.store.tokens import TokenStore
from mlpilot.workspace import Workspace


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_token_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "ws")
    with Workspace.open(home) as ws:
        ws.create_initiative("churn", name="Churn", problem="p", prediction_use="u",
                             task="binary", shape="batch", baseline="rule")  # fmt: skip

    code, out, _ = _run(capsys, "--home", home, "token", "create", "--role", "viewer")
    assert code == 0
    secret = out.strip().splitlines()[-1]
    assert "token 1 (viewer, every initiative) — shown once" in out
    code, out, _ = _run(capsys, "--home", home, "token", "create", "--role", "ingest",
                        "--initiative", "churn", "--name", "churn-api", "--json")  # fmt: skip
    assert code == 0
    created = json.loads(out)
    assert created["token"].startswith("mlp_")
    assert (created["id"], created["role"], created["initiative"]) == (2, "ingest", "churn")

    code, out, _ = _run(capsys, "--home", home, "token", "list", "--json")
    listed = json.loads(out)
    assert [t["name"] for t in listed] == ["viewer token", "churn-api"]
    assert secret not in out
    assert created["token"] not in out

    code, out, _ = _run(capsys, "--home", home, "token", "revoke", "1")
    assert code == 0
    assert "token 1 (viewer token) revoked" in out
    with Workspace.open(home, create=False) as ws:
        assert TokenStore(ws.store).verify(secret) is None
        assert TokenStore(ws.store).verify(created["token"]) is not None
    code, out, _ = _run(capsys, "--home", home, "token", "list")
    assert "revoked" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create", "--role", "root"), "unknown role 'root'"),
        (("create", "--role", "viewer", "--initiative", "nope"), "no initiative 'nope'"),
        (("revoke", "9"), "no token 9"),
    ],
)
def test_token_command_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], message: str
) -> None:
    home = str(tmp_path / "ws")
    Workspace.open(home).close()
    code, out, err = _run(capsys, "--home", home, "token", *args)
    assert out == ""
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1
    with Workspace.open(home, create=False) as ws:
        assert TokenStore(ws.store).list() == []
