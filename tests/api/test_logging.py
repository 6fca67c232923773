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
