"""``LeanRoute``: a FastAPI route that solves its endpoint's parameters in a few lines of its own.

FastAPI's request handler is general: for every request it parses the content type with
``email.message``, looks up the endpoint's source context for error messages, runs telemetry hooks,
and solves the dependency graph through ``solve_dependencies``. For a one-transaction
``POST /v1/classify`` that was about a third of the event loop's time per request (py-spy,
docs/profiling.md), more than the route itself.

This route class keeps everything else FastAPI does: the endpoint's signature, the OpenAPI document
generated from it, the ``request_response`` wrapper and the app's exception handlers. It replaces only
the handler, for the parameters a hot route uses, and validates them with FastAPI's own fields:

- a JSON body declared as one model (``body: Model``), decoded with ``json.loads`` as Starlette's
  ``Request.json`` does and validated by the route's body field: the same errors, ``("body", ...)``;
- header parameters, each validated by its field, with the ``("header", name)`` location;
- the ``Request``;
- dependencies that are ``async def f(request)`` and have no dependencies of their own.

Anything else (query, path or cookie parameters, sub-dependencies, background tasks, an embedded or
form body) is refused when the route is built, so a new parameter cannot be silently ignored.
Validation errors are raised as FastAPI raises them: one ``RequestValidationError`` with the header
errors, then the body's; a body that is not UTF-8 or nests too deeply is FastAPI's 400 with the cause.
``tests/service/test_lean_route.py`` checks that both handlers answer a table of bad requests the
same.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

__all__ = ["LeanRoute"]

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class LeanRoute(APIRoute):
    """An ``APIRoute`` whose handler solves the endpoint's parameters directly (module docstring)."""

    def get_route_handler(self) -> Handler:
        dependant = self.dependant
        _check_supported(dependant, self.path)
        endpoint = dependant.call
        assert endpoint is not None
        body_field = dependant.body_params[0] if dependant.body_params else None
        headers = [(field.name, field.alias, field) for field in dependant.header_params]
        dependencies: list[tuple[str, Callable[[Request], Coroutine[Any, Any, Any]]]] = [
            (sub.name, sub.call) for sub in dependant.dependencies if sub.name and sub.call
        ]
        request_name = dependant.request_param_name

        async def handler(request: Request) -> Response:
            values: dict[str, Any] = {}
            errors: list[Any] = []
            received = request.headers
            for name, alias, field in headers:
                value = received.get(alias)
                if value is None:
                    if field.field_info.is_required():
                        errors.append(_missing(("header", alias)))
                    else:
                        values[name] = copy.deepcopy(field.default)
                    continue
                valid, problems = field.validate(value, values, loc=("header", alias))
                if problems:
                    errors.extend(problems)
                else:
                    values[name] = valid
            if body_field is not None:
                body = await _json_body(request)
                if body is _MISSING:
                    if body_field.field_info.is_required():
                        errors.append(_missing(("body",)))
                    else:
                        values[body_field.name] = copy.deepcopy(body_field.default)
                else:
                    valid, problems = body_field.validate(body, values, loc=("body",))
                    if problems:
                        errors.extend(problems)
                    else:
                        values[body_field.name] = valid
            if errors:
                raise RequestValidationError(errors)
            if request_name is not None:
                values[request_name] = request
            for name, call in dependencies:
                values[name] = await call(request)
            response = await endpoint(**values)
            if not isinstance(response, Response):
                raise TypeError(f"{self.path}: a LeanRoute endpoint must return a Response")
            return response

        return handler


_MISSING = object()


def _missing(loc: tuple[str, ...]) -> dict[str, Any]:
    """FastAPI's error for a required parameter the request does not carry."""
    return {"type": "missing", "loc": loc, "msg": "Field required", "input": None}


async def _json_body(request: Request) -> Any:
    """The body decoded as JSON, as FastAPI decodes it (the body guard has already required a JSON
    content type); ``_MISSING`` for an empty body."""
    raw = await request.body()
    if not raw:
        return _MISSING
    try:
        return json.loads(raw)
    except json.JSONDecodeError as error:
        raise RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
            ]
        ) from error
    except Exception as error:  # not UTF-8, nested too deeply: FastAPI's 400, with the cause kept
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from error


def _check_supported(dependant: Dependant, path: str) -> None:
    """Refuse, when the route is built, any parameter the lean handler does not solve."""
    unsupported = [
        kind
        for kind, params in (
            ("path", dependant.path_params),
            ("query", dependant.query_params),
            ("cookie", dependant.cookie_params),
        )
        if params
    ]
    if len(dependant.body_params) > 1:
        unsupported.append("more than one body parameter")
    for kind, name in (
        ("background tasks", dependant.background_tasks_param_name),
        ("websocket", dependant.websocket_param_name),
        ("http connection", dependant.http_connection_param_name),
        ("response", dependant.response_param_name),
        ("security scopes", dependant.security_scopes_param_name),
    ):
        if name is not None:
            unsupported.append(kind)
    for sub in dependant.dependencies:
        if not sub.name or sub.call is None or not inspect.iscoroutinefunction(sub.call):
            unsupported.append(f"dependency {sub.name} is not an async function")
        elif list(inspect.signature(sub.call).parameters) != ["request"] or sub.dependencies:
            unsupported.append(f"dependency {sub.name} must take only the request")
    if dependant.call is None or not inspect.iscoroutinefunction(dependant.call):
        unsupported.append("the endpoint is not an async function")
    if unsupported:
        raise TypeError(f"LeanRoute {path}: unsupported: {', '.join(unsupported)}")
