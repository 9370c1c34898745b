"""Web pages. Reading is server-rendered; actions go through the JSON API from
``static/app.js`` with the session's CSRF token, so the UI and the API share
every rule (roles, review, audit) instead of duplicating them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from admin.crud import audit
from admin.crud import users as crud_users
from admin import security
from admin.deps import SESSION_COOKIE, CtxDep, OptionalUser, SessionDep, cookie_session

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))


def render(request: Request, name: str, user: Any, **context: Any) -> HTMLResponse:
    token = getattr(request.state, "auth", None)
    return templates.TemplateResponse(request, name, {"user": user, "csrf": getattr(token, "csrf", ""), **context})


def _login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, user: OptionalUser, next: str = "/") -> Response:
    if user is not None:
        return RedirectResponse("/", status_code=303)
    return render(request, "login.html", None, next=_safe_next(next), error=None)


def _safe_next(value: str) -> str:
    # Only same-site paths: never redirect a fresh login to another host.
    return value if value.startswith("/") and not value.startswith("//") else "/"


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, session: SessionDep, ctx: CtxDep, name: str = Form(...), password: str = Form(...),
          next: str = Form("/")) -> Response:
    s = ctx.settings
    try:
        user = crud_users.authenticate(session, name=name, password=password, free_failures=s.login_free_failures,
                                       max_delay_s=s.login_max_delay_s,
                                       unknown_names=ctx.extras.get("unknown_logins"))
    except crud_users.LoginRefused as exc:
        audit.record(session, user=name[:64], action="login_failed", detail="web")
        session.commit()
        response = render(request, "login.html", None, next=_safe_next(next), error=str(exc))
        response.status_code = 429 if exc.retry_after_s else 401
        return response
    # Session fixation: whatever session id came with the login request (a
    # planted one, or the user's own older one) dies here; only the new one lives.
    if request.cookies.get(SESSION_COOKIE):
        crud_users.revoke_token(session, secret=request.cookies[SESSION_COOKIE])
    secret, _ = crud_users.issue_token(session, user=user, kind="session", max_age_s=s.session_max_age_s)
    audit.record(session, user=user, action="login", detail="web")
    session.commit()
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(SESSION_COOKIE, secret, max_age=s.session_max_age_s, httponly=True, samesite="strict",
                        secure=s.cookie_secure or request.url.scheme == "https")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep, csrf_token: str = Form("")) -> Response:
    found = cookie_session(request, session)
    if found is not None and security.same(csrf_token, found[1].csrf):
        crud_users.revoke_token(session, secret=request.cookies[SESSION_COOKIE])
        audit.record(session, user=found[0], action="logout", detail="web")
        session.commit()
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


from admin.web import views  # noqa: E402,F401  (registers the remaining pages on the router)
from admin.web import face_pages  # noqa: E402,F401
