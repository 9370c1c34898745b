"""The admin FastAPI application: ``create_app(settings)``.

The context (database, media store, signing key, publisher) is built when the
app is created, so the schema is migrated before the first request; the MQTT
bridge starts with the server (lifespan) and is optional.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError

from admin.context import AdminContext
from admin.crud.items import ItemInvalid, StaleEdit
from admin.crud.users import UserError
from admin.review import ReviewError
from admin.settings import AdminSettings

log = logging.getLogger(__name__)
WEB_DIR = Path(__file__).with_name("web")


def build_context(settings: AdminSettings) -> AdminContext:
    from admin.db import make_engine, make_sessionmaker, migrate
    from admin.publish import Publisher
    from content.signing import ManifestSigner
    from content.store import MediaStore

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.db_url)
    migrate(engine)
    store = MediaStore(settings.media_dir)
    signer = ManifestSigner.load_or_create(settings.signing_key_file)
    public_file = settings.public_key_file
    if not public_file.exists():
        public_file.parent.mkdir(parents=True, exist_ok=True)
        public_file.write_text(signer.public_key_b64 + "\n", encoding="utf-8")
    ctx = AdminContext(settings=settings, engine=engine, sessions=make_sessionmaker(engine), store=store,
                       signer=signer)
    from admin.ratelimit import Backoff, PinGuard, SlidingWindow

    ctx.extras["login_addresses"] = SlidingWindow(limit=settings.login_ip_failures_per_window,
                                                  window_s=settings.login_ip_window_s)
    ctx.extras["pin_guard"] = PinGuard.from_settings(settings)
    # Names that are no account back off like real ones (no account enumeration).
    ctx.extras["unknown_logins"] = Backoff(free=settings.login_free_failures, cap_s=settings.login_max_delay_s)
    ctx.extras["publisher"] = Publisher(site_id=settings.site_id, public_url=settings.admin_url, store=store,
                                        signer=signer, state_file=settings.publish_state_file)
    from admin.seed import ensure_defaults

    with ctx.sessions() as session:
        ensure_defaults(session, settings=settings)
        session.commit()
    return ctx


def create_app(settings: AdminSettings | None = None, *, ctx: AdminContext | None = None) -> FastAPI:
    from admin.settings import get_settings

    settings = settings or (ctx.settings if ctx else get_settings())
    ctx = ctx or build_context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        if settings.mqtt_enabled and ctx.bus is None:
            from admin.bus import FleetBus

            ctx.bus = FleetBus(ctx)
            ctx.extras["publisher"].attach(ctx.bus.client)
            await ctx.bus.start()
        try:
            yield
        finally:
            if ctx.bus is not None:
                await ctx.bus.stop()
                ctx.bus = None

    # FastAPI's own /docs and /redoc load their scripts from a CDN: replaced by local files.
    app = FastAPI(title="党建展厅管理后台 API", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="内容编辑、分级审核、排期发布、紧急通知、设备与三会一课管理。写操作均需登录。")
    app.state.ctx = ctx
    _install_error_handlers(app)
    from admin.apidocs import install_api_docs

    install_api_docs(app)
    from admin.middleware import (
        BodyLimitMiddleware,
        LoginAddressLimitMiddleware,
        SameOriginMiddleware,
        SecurityHeadersMiddleware,
    )
    from admin.retry import RetryLockedMiddleware

    # Added last is outermost: the body limit must sit outside the retry
    # middleware (which buffers the body), the headers outside everything so
    # even a 413 or 429 carries them.
    app.add_middleware(RetryLockedMiddleware)
    app.add_middleware(LoginAddressLimitMiddleware, window=ctx.extras["login_addresses"])
    app.add_middleware(SameOriginMiddleware)
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_bytes)
    app.add_middleware(SecurityHeadersMiddleware)

    from admin.media import media_router
    from admin.routes import all_routers
    from admin.web.pages import router as web_router

    app.include_router(media_router(ctx.store))
    for router in all_routers():
        app.include_router(router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ReviewError)
    async def review_error(_: Request, exc: ReviewError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)

    @app.exception_handler(ItemInvalid)
    async def item_invalid(_: Request, exc: ItemInvalid) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "errors": exc.errors}, status_code=422)

    @app.exception_handler(UserError)
    async def user_error(_: Request, exc: UserError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=422)

    @app.exception_handler(StaleEdit)
    async def stale_edit(_: Request, exc: StaleEdit) -> JSONResponse:
        newest = exc.newest
        return JSONResponse({"detail": str(exc), "newest": {"number": newest.number, "sha256": newest.sha256,
                                                            "status": newest.status, "data": newest.data}},
                            status_code=409)

    @app.exception_handler(OperationalError)
    async def db_busy(_: Request, exc: OperationalError) -> JSONResponse:
        # SQLite waited its busy timeout and the database is still locked: ask the
        # client to retry instead of failing with a bare 500. Nothing was written.
        log.warning("database error: %s", exc)
        headers = {"Retry-After": "1"}
        if "locked" in str(exc) or "busy" in str(exc):
            headers["X-DB-Locked"] = "1"  # RetryLockedMiddleware runs the request again
        return JSONResponse({"detail": "数据库繁忙，请稍后重试"}, status_code=503, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))} for e in exc.errors()]
        return JSONResponse({"detail": "请求参数不正确", "errors": errors}, status_code=422)
