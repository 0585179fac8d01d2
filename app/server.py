"""The HTTP API (FastAPI): memory queries and commands, chat and ingest, the inspector page.

Every memory route has the user in its path (``/users/{user_id}/...``) and passes that id, and
only that id, to the tools layer: the server scopes every operation, whatever the body says.

An API key, when configured, is required on every route under ``/users/`` (memory, chat,
ingest, forget). These are open because they hold no user data: ``/healthz``, the
inspector's page shell ``/inspect/{user_id}`` and its assets ``/inspector/static/*`` (the page
asks for the key before it loads any data), the API description ``/openapi.json`` and its
pages ``/docs`` and ``/redoc`` with their assets ``/docs-static/*`` (served from the
``fastapi-offline`` package, so the docs work with no network). The key is compared in
constant time and never logged.

Only requests whose ``Host`` is allowed are answered (:class:`TrustedHosts`): with no key
the default is loopback names, so a web page that rebinds its own DNS name to 127.0.0.1
cannot drive a local server. Bodies are capped (:data:`MAX_BODY_BYTES`); errors are JSON
``{code, message}``.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from memlane.agent.api import ChatResult, IngestResult, RetryReport
from memlane.app.inspector import STATIC_DIR
from memlane.memory_graph.errors import (
    ConflictError,
    InputError,
    LLMError,
    MemlaneError,
    NotFoundError,
    StoreError,
    UnknownPredicateError,
)
from memlane.memory_graph.ids import PATH_ID_PATTERN
from memlane.memory_graph.limits import (
    MAX_BODY_BYTES,
    MAX_CONTENT_CHARS,
    MAX_INGEST_MESSAGES,
    MAX_K,
    MAX_QUERY_CHARS,
)
from memlane.memory_graph.memory import Memory
from memlane.memory_graph.model import TEXT_PATTERN
from memlane.tools import commands, queries
from memlane.tools.models import (
    Corrected,
    Diff,
    Explanation,
    FactList,
    Forgotten,
    GraphFilter,
    GraphView,
    History,
    Profile,
    Remembered,
    SearchResult,
    Timeline,
)
from memlane.tools.specs import RememberArgs, ValueArgs

if TYPE_CHECKING:
    from memlane.agent.settings import Settings

__all__ = ["LOOPBACK_HOSTS", "MAX_BODY_BYTES", "TrustedHosts", "create_app", "serve"]

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
"""Host names a server with no API key answers by default."""
# Ids in paths (and, for one rule, in bodies): the id pattern without "/" or "#".
USER_ID_PATTERN = FACT_ID_PATTERN = PATH_ID_PATTERN

_STATUS: list[tuple[type[MemlaneError], int]] = [
    (UnknownPredicateError, 422),
    (InputError, 400),
    (NotFoundError, 404),
    (ConflictError, 409),
    (LLMError, 502),
    (StoreError, 503),
]


class ErrorBody(BaseModel):
    """Every error response: a stable code and a message naming the problem."""

    code: str = Field(description="stable error code, e.g. invalid_input, not_found")
    message: str
    where: str | None = Field(default=None, description="the field or place at fault")


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "invalid input"),
        (401, "missing or wrong API key"),
        (404, "no such user record"),
        (409, "conflict"),
        (413, "request too large"),
        (422, "request does not match the schema"),
    )
}


def _error(status: int, code: str, message: str, where: str | None = None) -> JSONResponse:
    return JSONResponse(
        ErrorBody(code=code, message=message, where=where).model_dump(exclude_none=True),
        status_code=status,
    )


# -- request bodies ------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# The schema's pattern is the model's text rule (tabs and newlines, no other control
# characters), so OpenAPI documents it; the tools check it again, with its message. The
# remember and correct bodies are the tools' own argument models (memlane.tools.specs).


class ChatBody(_Body):
    message: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS, pattern=TEXT_PATTERN)
    session_id: str | None = Field(default=None, pattern=USER_ID_PATTERN)


class IngestMessage(_Body):
    role: Literal["user", "assistant", "system"] = "user"
    content: str = Field(min_length=1, max_length=MAX_CONTENT_CHARS, pattern=TEXT_PATTERN)
    at: str | None = Field(default=None, max_length=40, description="when it was said (ISO 8601)")
    id: str | None = Field(default=None, pattern=USER_ID_PATTERN, description="message id")
    speaker: str | None = Field(default=None, max_length=200)


class IngestBody(_Body):
    session_id: str | None = Field(default=None, pattern=USER_ID_PATTERN)
    messages: list[IngestMessage] = Field(min_length=1, max_length=MAX_INGEST_MESSAGES)
    batch_turns: int = Field(default=1, ge=1, le=50, description="user turns per extraction")


# -- the body size limit -----------------------------------------------------------------------
class _TooLarge(Exception):
    pass


class BodyLimit:
    """Reject bodies over ``max_bytes`` with 413, whether announced or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None:
            if not length.isdigit():
                await _error(400, "invalid_input", "bad Content-Length")(scope, receive, send)
                return
            if int(length) > self.max_bytes:
                await self._reject(scope, receive, send)
                return
        seen = 0
        started = overflow = False

        async def limited() -> Message:
            nonlocal seen, overflow
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    overflow = True
                    raise _TooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if overflow:
                # The app's own reply to a body cut short (FastAPI turns the read error into
                # a 400) is replaced by the 413 below.
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(_TooLarge):
            await self.app(scope, limited, guarded_send)
        if overflow and not started:
            await self._reject(scope, receive, send)

    async def _reject(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is over the limit of {self.max_bytes} bytes"
        await _error(413, "too_large", message)(scope, receive, send)


# -- the Host check ----------------------------------------------------------------------------
def _host_name(header: str) -> str:
    """The name of a Host header without its port (``[::1]:8000`` -> ``::1``)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class TrustedHosts:
    """Answer only requests whose ``Host`` names this server (400 ``untrusted_host`` else).

    Args:
        app: the ASGI app.
        allowed: host names (no port); ``"*"`` allows any; ``"*.example.com"`` a domain's
            subdomains.
    """

    def __init__(self, app: ASGIApp, allowed: Sequence[str]) -> None:
        self.app = app
        self.any = "*" in allowed
        self.exact = {h.lower() for h in allowed if not h.startswith("*")}
        self.suffixes = tuple(h[1:].lower() for h in allowed if h.startswith("*."))

    def allows(self, header: str) -> bool:
        """True if a request with this Host header may be answered."""
        if self.any:
            return True
        name = _host_name(header)
        return name in self.exact or (bool(self.suffixes) and name.endswith(self.suffixes))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if not self.allows(host):
                message = f"this server does not answer for host {host!r} (MEMLANE_ALLOWED_HOSTS)"
                await _error(400, "untrusted_host", message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


# -- the app -------------------------------------------------------------------------------
UserId = Annotated[
    str, Path(pattern=USER_ID_PATTERN, description="the user every operation is scoped to")
]
FactId = Annotated[str, Path(pattern=FACT_ID_PATTERN, description="a fact id")]
AsOf = Annotated[
    str | None, Query(max_length=40, description="ISO 8601 date or time; empty means now")
]

_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key")
_bearer = HTTPBearer(auto_error=False, description="the API key as a bearer token")


def _auth(api_key: str | None) -> Callable[..., Awaitable[None]]:
    expected = api_key.encode() if api_key else None

    async def check(
        header: Annotated[str | None, Depends(_key_header)] = None,
        bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    ) -> None:
        if expected is None:
            return
        given = header or (bearer.credentials if bearer else None)
        # compare_digest on bytes: constant time in the key's content.
        if not given or not hmac.compare_digest(given.encode(), expected):
            raise StarletteHTTPException(401, "missing or wrong API key")

    return check


def _memory(request: Request) -> Memory:
    return request.app.state.memory  # type: ignore[no-any-return]


Mem = Annotated[Memory, Depends(_memory)]


async def _settled(request: Request, user_id: UserId) -> None:
    """Before any memory route: the user's queued chat writes, if the agent defers them.

    So a read sees what earlier chat turns said, and a forget is not followed by a queued
    write that brings the user back (bounded by ``settle_writes_s``).
    """
    agent = request.app.state.agent
    if agent is not None:
        await agent.settle(user_id)


def create_app(
    memory: Memory | None = None,
    *,
    settings: Settings | None = None,
    agent: Any | None = None,
    api_key: str | None = None,
    allowed_hosts: Sequence[str] | None = None,
) -> FastAPI:
    """The FastAPI app.

    Args:
        memory: an opened memory to serve; ``None`` opens one from ``settings`` at start-up
            (and closes it at shut-down).
        settings: where to open memory and the chat agent from (when not given directly).
        agent: a ``MemoryAgent`` for ``/chat`` and ``/ingest``; ``None`` builds one from
            ``settings`` at start-up, or leaves chat unavailable (503) without settings.
        api_key: require this key (``X-API-Key`` or ``Authorization: Bearer``); defaults to
            ``settings.api_key``.
        allowed_hosts: the Host names answered (``"*"``: any); defaults to
            ``settings.allowed_hosts``, else :data:`LOOPBACK_HOSTS` without a key and any
            host with one.
    """
    key = api_key if api_key is not None else (settings.api_key if settings else None)
    if allowed_hosts is None and settings is not None:
        allowed_hosts = settings.allowed_hosts
    if allowed_hosts is None:
        allowed_hosts = ["*"] if key else list(LOOPBACK_HOSTS)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if memory is not None:
            yield
            return
        if settings is None:
            raise RuntimeError("create_app needs a memory or settings")
        from memlane.agent.bootstrap import open_memory

        async with open_memory(settings) as opened:
            app.state.memory = opened
            made = None
            if app.state.agent is None:
                from memlane.agent.api import MemoryAgent

                made = app.state.agent = MemoryAgent(settings=settings, memory=opened)
                # Deferred writes acknowledged before a crash are resumed now, not on the
                # first chat.
                await made.start()
            try:
                yield
            finally:
                if made is not None:
                    await made.aclose()

    # Swagger UI and ReDoc from the package's own copies of their assets, not a CDN.
    app = FastAPIOffline(
        static_url="/docs-static",
        title="memlane",
        version="0.1.0",
        description="A temporal knowledge-graph memory layer for chat agents. Every memory "
        "route is scoped to the user in its path.",
        lifespan=lifespan,
        responses=_ERRORS,
    )
    app.state.memory = memory
    app.state.agent = agent
    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)
    app.add_middleware(TrustedHosts, allowed=list(allowed_hosts))  # outermost: runs first
    _handlers(app)
    auth = [Depends(_auth(key))]
    _memory_routes(app, auth)
    _agent_routes(app, auth)
    _inspector_routes(app, auth)
    return app


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(MemlaneError)
    async def memlane_error(request: Request, exc: MemlaneError) -> JSONResponse:
        status = next((s for cls, s in _STATUS if isinstance(exc, cls)), 400)
        if status >= 500:
            log.warning("%s %s: %s", request.method, request.url.path, exc)
        return _error(status, exc.code, exc.message, exc.where)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or None
        return _error(422, "invalid_request", str(first.get("msg", "invalid request")), where)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # A bug, not bad input: logged with its traceback, reported without internals.
        log.exception("%s %s failed", request.method, request.url.path)
        return _error(500, "internal_error", "the server failed; the error has been logged")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {401: "unauthorized", 404: "not_found", 405: "method_not_allowed"}
        response = _error(exc.status_code, codes.get(exc.status_code, "http_error"), exc.detail)
        if exc.status_code == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response


def _memory_routes(app: FastAPI, auth: list[Any]) -> None:
    router = APIRouter(
        prefix="/users/{user_id}", tags=["memory"], dependencies=[*auth, Depends(_settled)]
    )

    @router.get("/profile", response_model=Profile)
    async def get_profile(user_id: UserId, memory: Mem, as_of: AsOf = None) -> Profile:
        """What memlane believes about the user now (or as of a time), grouped by kind."""
        return await queries.profile(memory, user_id, as_of)

    @router.get("/search", response_model=SearchResult)
    async def get_search(
        user_id: UserId,
        memory: Mem,
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
        as_of: AsOf = None,
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    ) -> SearchResult:
        """Facts and messages relevant to a query."""
        return await queries.search(memory, user_id, q, as_of, k)

    @router.get("/facts", response_model=FactList)
    async def get_facts(
        user_id: UserId,
        memory: Mem,
        subject: Annotated[str | None, Query(max_length=300)] = None,
        predicate: Annotated[str | None, Query(max_length=64)] = None,
        as_of: AsOf = None,
        include_ended: Annotated[bool, Query(description="also facts no longer true")] = False,
    ) -> FactList:
        """Facts, optionally of one subject and predicate, now, as of a time, or all."""
        return await queries.facts(memory, user_id, subject, predicate, as_of, include_ended)

    @router.get("/history", response_model=History)
    async def get_history(
        user_id: UserId,
        memory: Mem,
        predicate: Annotated[str, Query(min_length=1, max_length=64)],
        subject: Annotated[str, Query(min_length=1, max_length=300)] = "user",
    ) -> History:
        """Every value a subject's predicate has had, with validity windows."""
        return await queries.history(memory, user_id, subject, predicate)

    @router.get("/facts/{fact_id}/why", response_model=Explanation)
    async def get_why(user_id: UserId, fact_id: FactId, memory: Mem) -> Explanation:
        """Where a fact came from and what it replaced or was replaced by."""
        return await queries.why(memory, user_id, fact_id)

    @router.get("/diff", response_model=Diff)
    async def get_diff(
        user_id: UserId,
        memory: Mem,
        since: Annotated[str, Query(min_length=1, max_length=40)],
        until: AsOf = None,
    ) -> Diff:
        """What became true and what stopped being true between two times."""
        return await queries.diff(memory, user_id, since, until)

    @router.get("/graph", response_model=GraphView)
    async def get_graph(
        user_id: UserId,
        memory: Mem,
        where: Annotated[GraphFilter, Query()],
        as_of: AsOf = None,
    ) -> GraphView:
        """Entities and facts of the user's graph, now or as of a time, filtered (time range
        of when facts started, predicate, entity, words) and cut to a node cap with the most
        relevant facts first; ``total_facts`` and ``truncated`` say what was left out."""
        return await queries.graph(memory, user_id, as_of, where)

    @router.get("/timeline", response_model=Timeline)
    async def get_timeline(
        user_id: UserId, memory: Mem, limit: Annotated[int, Query(ge=1, le=10_000)] = 200
    ) -> Timeline:
        """Changes to the user's graph, newest first."""
        return await queries.timeline(memory, user_id, limit)

    @router.get(
        "/export",
        response_class=StreamingResponse,
        responses={200: {"content": {"application/x-ndjson": {}}, "description": "records"}},
    )
    async def get_export(user_id: UserId, memory: Mem) -> StreamingResponse:
        """Every record of the user as JSON lines (the import format)."""
        result = await queries.export(memory, user_id)
        lines = (line.encode() for line in result.jsonl())
        return StreamingResponse(lines, media_type="application/x-ndjson")

    @router.post("/remember", response_model=Remembered)
    async def post_remember(user_id: UserId, body: RememberArgs, memory: Mem) -> Remembered:
        """Remember a statement the user explicitly asked to keep."""
        return await commands.remember(memory, user_id, body.statement)

    @router.post(
        "/facts/{fact_id}/correct",
        response_model=Corrected,
    )
    async def post_correct(
        user_id: UserId, fact_id: FactId, body: ValueArgs, memory: Mem
    ) -> Corrected:
        """Retract a wrong fact and record the right value, sourced from the correction."""
        return await commands.correct(memory, user_id, fact_id, body.value)

    @router.delete("/facts/{fact_id}", response_model=Forgotten)
    async def delete_fact(user_id: UserId, fact_id: FactId, memory: Mem) -> Forgotten:
        """Delete one fact."""
        return await commands.forget(memory, user_id, fact_id)

    @router.delete("", response_model=Forgotten)
    async def delete_user(user_id: UserId, memory: Mem, request: Request) -> Forgotten:
        """Delete everything memlane holds about the user, chat threads included."""
        forgotten = await commands.forget(memory, user_id, everything=True)
        agent = request.app.state.agent
        if agent is not None and hasattr(agent, "forget_threads"):
            # Threads kept outside the store (MEMLANE_CHECKPOINT_DB, a checkpointer of its
            # own) go too.
            threads = await agent.forget_threads(user_id)
            deleted = forgotten.deleted
            deleted["checkpoints"] = max(deleted.get("checkpoints", 0), threads)
        return forgotten

    app.include_router(router)


def _agent(request: Request) -> Any:
    agent = request.app.state.agent
    if agent is None:
        raise StoreError("chat is not configured on this server")
    return agent


Agent = Annotated[Any, Depends(_agent)]


def _agent_routes(app: FastAPI, auth: list[Any]) -> None:
    router = APIRouter(prefix="/users/{user_id}", tags=["agent"], dependencies=auth)

    @router.post("/chat", response_model=ChatResult)
    async def post_chat(user_id: UserId, body: ChatBody, agent: Agent) -> ChatResult:
        """One chat turn: recall, respond, and write what was learned."""
        result: ChatResult = await agent.achat(user_id, body.message, session_id=body.session_id)
        return result

    @router.post("/ingest", response_model=IngestResult)
    async def post_ingest(user_id: UserId, body: IngestBody, agent: Agent) -> IngestResult:
        """Ingest a past conversation through extraction (one commit per batch of turns)."""
        messages = [
            {**m.model_dump(exclude_none=True), "session_id": body.session_id}
            for m in body.messages
        ]
        result: IngestResult = await agent.ingest(user_id, messages, batch_turns=body.batch_turns)
        return result

    @router.post("/retry-failed", response_model=RetryReport)
    async def post_retry_failed(user_id: UserId, agent: Agent) -> RetryReport:
        """Re-run extraction for the user's turns whose memory write failed (their messages
        are stored); idempotent, each turn's facts all-or-nothing."""
        report: RetryReport = await agent.retry_failed(user_id)
        return report

    app.include_router(router)


def _inspector_routes(app: FastAPI, auth: list[Any]) -> None:
    app.mount("/inspector/static", StaticFiles(directory=STATIC_DIR), name="inspector-static")

    @app.get("/inspect/{user_id}", tags=["inspector"], response_class=FileResponse)
    async def inspect_page(user_id: UserId) -> FileResponse:
        """The inspector page (its data comes from the JSON routes, which need the key)."""
        return FileResponse(STATIC_DIR / "inspect.html", media_type="text/html")

    @app.get("/healthz", tags=["meta"])
    async def healthz() -> dict[str, bool]:
        """Liveness: the process is up."""
        return {"ok": True}


def serve(settings: Settings, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(settings=settings), host=host, port=port, log_level="info")
