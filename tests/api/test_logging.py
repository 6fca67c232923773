"""Logs: JSON lines when asked; the access log has no query string and no token."""

from __future__ import annotations

import json
import logging

import pytest

from deconfliction.api._logging import JsonFormatter


def test_json_lines_carry_extra_fields() -> None:
    rec = logging.makeLogRecord(
        {
            "name": "deconfliction.access",
            "levelno": 20,
            "levelname": "INFO",
            "msg": "GET %s",
            "args": ("/v1/notices",),
            "status": 200,
        }
    )
    line = json.loads(JsonFormatter().format(rec))
    assert line["message"] == "GET /v1/notices"
    assert line["status"] == 200
    assert line["level"] == "info"
    assert line["time"].endswith("Z")


def test_access_log_has_no_query_and_no_token(caplog: pytest.LogCaptureFixture, tmp_path) -> None:
    from fastapi.testclient import TestClient

    from deconfliction.api import Settings, create_app

    app = create_app(Settings(data_dir=tmp_path, progress=False))
    with caplog.at_level(logging.INFO, logger="deconfliction.access"), TestClient(app) as c:
        c.get("/v1/notices?since=3&token=dh_leak", headers={"Authorization": "Bearer dh_secret"})
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "GET /v1/notices 401" in text
    assert "dh_leak" not in text
    assert "dh_secret" not in text


def test_httpx_request_lines_are_kept_out_of_the_log() -> None:
    """httpx logs every request URL at INFO: a webhook's query may hold a receiver's key."""
    from deconfliction.api import configure_logging

    names = ("deconfliction", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx")
    saved = {
        n: (list(lg.handlers), lg.level, lg.propagate, lg.disabled)
        for n in names
        if (lg := logging.getLogger(n))
    }
    try:
        configure_logging("text", logging.DEBUG)
        httpx_log = logging.getLogger("httpx")
        assert not httpx_log.isEnabledFor(logging.INFO)
        assert httpx_log.isEnabledFor(logging.WARNING)
    finally:
        for n, (handlers, level, propagate, disabled) in saved.items():
            lg = logging.getLogger(n)
            lg.handlers[:] = handlers
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled


def test_frames_and_secrets_are_redacted_in_every_format() -> None:
    """The last line of defence: a WebSocket frame dump (uvicorn's websockets at DEBUG) or
    a token, webhook secret, JWT or Bearer credential in any message is masked."""
    from deconfliction.api._logging import RedactingFormatter

    token = "dh_" + "A" * 43
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c3MtYSJ9.c2lnbmF0dXJl"
    for inner in (logging.Formatter("%(message)s"), JsonFormatter()):
        fmt = RedactingFormatter(inner)
        frame = logging.makeLogRecord(
            {"msg": "< TEXT '%s' [59 bytes]", "args": (json.dumps({"token": "plain"}),)}
        )
        out = fmt.format(frame)
        assert "plain" not in out
        assert "[content not logged] [59 bytes]" in out
        other = logging.makeLogRecord(
            {"msg": "got %s, whsec_%s and %s", "args": (token, "b" * 43, f"Bearer {jwt}")}
        )
        out = fmt.format(other)
        assert token not in out
        assert "b" * 43 not in out
        assert jwt not in out
        assert "eyJ" not in out
        assert "dh_[redacted]" in out
