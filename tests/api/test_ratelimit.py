"""Per-party rate limits: 429 with Retry-After for the party over its rate, not for others."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from deconfliction.api import Settings, create_app
from deconfliction.api._ratelimit import RateLimiter
from deconfliction.errors import TooManyRequests


def test_bucket_refills_at_the_rate() -> None:
    t = [0.0]
    rl = RateLimiter(rate_per_s=10, burst=1, clock=lambda: t[0])
    from uuid import uuid4

    p, q = uuid4(), uuid4()
    rl.take(p)
    rl.take(q)  # another party has its own bucket
    t[0] = 0.05
    with pytest.raises(TooManyRequests) as e:
        rl.take(p)
    assert 0 < e.value.retry_after_s <= 0.05 + 1e-9
    t[0] = 0.1
    rl.take(p)


def test_api_answers_429_with_retry_after(tmp_path: Path) -> None:
    app = create_app(
        Settings(data_dir=tmp_path, progress=False, rate_limit_per_s=1, rate_limit_burst=2)
    )
    with TestClient(app) as c:
        boot = app.state.hotline.bootstrap()
        assert boot is not None
        auth = {"Authorization": f"Bearer {boot[1]}"}
        codes = [c.get("/v1/parties", headers=auth).status_code for _ in range(3)]
        assert codes == [200, 200, 429]
        r = c.get("/v1/parties", headers=auth)
        assert r.status_code == 429
        assert r.headers["Retry-After"] == "1"
        assert r.headers["content-type"] == "application/problem+json"
        assert (
            c.get("/healthz").status_code == 200
        )  # no token: its address's bucket, not the party's
