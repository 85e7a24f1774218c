"""``LeanRoute`` answers every request as FastAPI's own handler of the same endpoint does, and refuses at
build time the parameters it does not solve."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Header, Request, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel

from service.api import create_app, routes
from service.api.lean_route import LeanRoute
from service.settings import Settings


def _with_fastapi_handler(app: FastAPI) -> FastAPI:
    """``app`` with the routes of ``service.api.routes`` included again, the classify route as a plain
    ``APIRoute`` of the same endpoint (FastAPI's own handler)."""
    plain = APIRouter()
    for route in routes.router.routes:
        if isinstance(route, LeanRoute):
            plain.add_api_route(
                route.path, route.endpoint, methods=list(route.methods), response_model=route.response_model,
                responses=route.responses, tags=list(route.tags),
            )  # fmt: skip
        else:
            plain.routes.append(route)
    included = [r for r in app.router.routes if getattr(r, "original_router", None) is routes.router]
    assert len(included) == 1, "service.api.routes is included once"
    app.router.routes.remove(included[0])
    app.include_router(plain)
    return app


@asynccontextmanager
async def twins(bundle: Path) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    apps = [create_app(Settings(model_dir=bundle, engine_lanes=1)) for _ in range(2)]
    apps[1] = _with_fastapi_handler(apps[1])
    async with apps[0].router.lifespan_context(apps[0]), apps[1].router.lifespan_context(apps[1]):
        clients = [
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") for app in apps
        ]
        async with clients[0], clients[1]:
            yield clients[0], clients[1]


def _item(text: Any = "uber trip", **extra: Any) -> dict[str, Any]:
    return {"id": "t0", "text": text, **extra}


JSON = {"content-type": "application/json"}
CASES: list[tuple[str, bytes, dict[str, str]]] = [
    ("ok", json.dumps({"transactions": [_item()], "top_k": 2}).encode(), {}),
    ("ok with headers", json.dumps({"transactions": [_item(direction="debit")]}).encode(),
     {"X-Client-Id": "acme", "X-Request-Timeout-Ms": "5000", "X-Request-Priority": "bulk"}),
    ("timeout not a number", json.dumps({"transactions": [_item()]}).encode(),
     {"X-Request-Timeout-Ms": "soon"}),
    ("timeout zero", json.dumps({"transactions": [_item()]}).encode(), {"X-Request-Timeout-Ms": "0"}),
    ("timeout inf", json.dumps({"transactions": [_item()]}).encode(), {"X-Request-Timeout-Ms": "inf"}),
    ("timeout empty", json.dumps({"transactions": [_item()]}).encode(), {"X-Request-Timeout-Ms": ""}),
    ("client id too long", json.dumps({"transactions": [_item()]}).encode(), {"X-Client-Id": "c" * 200}),
    ("priority unknown", json.dumps({"transactions": [_item()]}).encode(), {"X-Request-Priority": "urgent"}),
    ("broken json", b'{"transactions": [', {}),
    ("empty body", b"", {}),
    ("not utf-8", b'{"transactions": [{"id": "t0", "text": "\xff\xfe"}]}', {}),
    ("nested too deeply", b"[" * 100_000 + b"]" * 100_000, {}),
    ("not an object", b"[1, 2]", {}),
    ("no transactions", b"{}", {}),
    ("extra field", json.dumps({"transactions": [_item()], "colour": "blue"}).encode(), {}),
    ("top_k true", json.dumps({"transactions": [_item()], "top_k": True}).encode(), {}),
    ("top_k over the labels", json.dumps({"transactions": [_item()], "top_k": 99}).encode(), {}),
    ("text blank", json.dumps({"transactions": [_item("   ")]}).encode(), {}),
    ("text not a string", json.dumps({"transactions": [_item(12)]}).encode(), {}),
    ("direction unknown", json.dumps({"transactions": [_item(direction="sideways")]}).encode(), {}),
    ("ids repeat", json.dumps({"transactions": [_item(), _item()]}).encode(), {}),
    ("bad header and bad body", b"{}", {"X-Request-Timeout-Ms": "soon", "X-Request-Priority": "urgent"}),
]  # fmt: skip


@pytest.mark.parametrize(("case", "content", "headers"), CASES, ids=[case for case, _, _ in CASES])
async def test_the_lean_handler_answers_as_fastapis_own(
    tiny_bundle: Path, case: str, content: bytes, headers: dict[str, str]
) -> None:
    async with twins(tiny_bundle) as (lean, fastapi):
        answers = [
            await client.post(
                "/v1/classify", content=content, headers={**JSON, **headers, "X-Request-Id": "r1"}
            )
            for client in (lean, fastapi)
        ]
    ours, theirs = answers
    assert ours.status_code == theirs.status_code, (case, ours.text, theirs.text)
    assert ours.json() == theirs.json(), case
    for name in ("content-type", "retry-after", "x-request-id"):
        assert ours.headers.get(name) == theirs.headers.get(name), (case, name)


async def _endpoint_with_query(request: Request, limit: int = 3) -> Response:
    return Response(b"")


def _sync_dependency(request: Request) -> int:
    return 1


def test_parameters_it_does_not_solve_are_refused_when_the_route_is_built() -> None:
    router = APIRouter()
    with pytest.raises(TypeError, match=r"LeanRoute /x: unsupported: query"):
        router.add_api_route("/x", _endpoint_with_query, methods=["POST"], route_class_override=LeanRoute)

    async def with_sync_dependency(value: Annotated[int, Depends(_sync_dependency)]) -> Response:
        return Response(b"")

    with pytest.raises(TypeError, match="dependency value is not an async function"):
        router.add_api_route("/y", with_sync_dependency, methods=["POST"], route_class_override=LeanRoute)


class _Item(BaseModel):
    name: str


async def _with_required_header(
    x_tenant: Annotated[str, Header()], body: _Item | None = None, x_note: Annotated[str, Header()] = "none"
) -> Response:
    return Response(
        json.dumps({"tenant": x_tenant, "body": None if body is None else body.name, "note": x_note})
    )


@pytest.mark.parametrize(
    ("content", "headers"),
    [
        (b'{"name": "a"}', {}),  # a required header missing
        (b"", {"X-Tenant": "t"}),  # an optional body left out: its default
        (b'{"name": "a"}', {"X-Tenant": "t", "X-Note": "n"}),
        (b'{"name": 3}', {"X-Tenant": "t"}),
    ],
)
async def test_required_headers_and_optional_bodies_are_solved_as_fastapi_solves_them(
    content: bytes, headers: dict[str, str]
) -> None:
    answers = []
    for route_class in (LeanRoute, APIRoute):
        app = FastAPI()
        app.router.add_api_route(
            "/z", _with_required_header, methods=["POST"], route_class_override=route_class
        )
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://z") as client:
            answers.append(await client.post("/z", content=content, headers={**JSON, **headers}))
    ours, theirs = answers
    assert ours.status_code == theirs.status_code, (ours.text, theirs.text)
    assert ours.json() == theirs.json()
