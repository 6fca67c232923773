"""The OpenAPI document declares the problem-details responses the API gives (found by
schema fuzzing, tests/fuzz: it declared FastAPI's ``HTTPValidationError`` as
``application/json`` for 422 and no other error status at all)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deconfliction.api import Settings
from deconfliction.interop import create_hub_app


@pytest.fixture(scope="module")
def openapi(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d: Path = tmp_path_factory.mktemp("openapi")
    return create_hub_app(Settings(data_dir=d, progress=False)).openapi()


def _operations(openapi: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, item in openapi["paths"].items() for m, op in item.items()]


@pytest.mark.regression
def test_every_error_response_is_a_problem(openapi: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in openapi["components"]["schemas"]
    assert openapi["components"]["schemas"]["Problem"]["required"] == [
        "type", "title", "status", "detail"
    ]  # fmt: skip
    errors = 0
    for method, path, op in _operations(openapi):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                errors += 1
                assert list(response["content"]) == ["application/problem+json"], (method, path)
                schema = response["content"]["application/problem+json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/Problem"}
    assert errors > 100


@pytest.mark.regression
@pytest.mark.parametrize(
    ("method", "path", "statuses"),
    [
        ("get", "/v1/me", {"401", "403", "429"}),
        ("get", "/healthz", set()),
        ("post", "/v1/activities", {"400", "401", "403", "409", "413", "415", "422", "429"}),
        ("put", "/v1/activities/{activity_id}",
         {"400", "401", "403", "404", "409", "413", "415", "422", "428", "429"}),
        ("get", "/v1/sites/{site_id}", {"401", "403", "404", "422", "429"}),
    ],
)  # fmt: skip
def test_statuses_follow_what_the_operation_takes(
    openapi: dict[str, Any], method: str, path: str, statuses: set[str]
) -> None:
    declared = set(openapi["paths"][path][method]["responses"])
    assert {s for s in declared if s >= "400"} == statuses


@pytest.mark.regression
@pytest.mark.parametrize(
    ("path", "media_type"),
    [
        ("/v1/activities/{activity_id}/kml", "application/vnd.google-earth.kml+xml"),
        ("/v1/activities/{activity_id}/kmz", "application/vnd.google-earth.kmz"),
        ("/v1/sites/{site_id}/kml", "application/vnd.google-earth.kml+xml"),
        ("/v1/sites/{site_id}/kmz", "application/vnd.google-earth.kmz"),
    ],
)
def test_downloads_declare_their_media_type(
    openapi: dict[str, Any], path: str, media_type: str
) -> None:
    assert list(openapi["paths"][path]["get"]["responses"]["200"]["content"]) == [media_type]
