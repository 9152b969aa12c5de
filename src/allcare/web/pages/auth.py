"""Login and logout pages.

The form posts here; the check itself is the API's login (password, throttling,
audit and the session cookie), called as a function so there is one login
implementation. CSRF is checked for every POST by the app-wide dependency.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from ...store import audit
from ...store.users import end_session
from ..api.auth import login as api_login
from ..api.schemas import LoginIn
from ..deps import CurrentPrincipal, current_principal, get_settings, get_store
from ..security import cookie_name, is_secure, session_token
from .common import HOME_BY_ROLE, PageRoute, home_for, render, safe_next

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _signed_in(request: Request):
    """The logged-in user, or None (pages that anyone may open: the start and login pages)."""
    try:
        return current_principal(request)
    except HTTPException:
        return None


@router.get("/")
def root(request: Request) -> Response:
    who = _signed_in(request)
    return RedirectResponse(home_for(who) if who else "/login", status_code=303)


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    who = _signed_in(request)
    if who is not None:
        return RedirectResponse(safe_next(next) or home_for(who), status_code=303)
    return render(request, "login.html", {"next": safe_next(next) or "", "username": "", "error": None})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    target = safe_next(next)
    context = {"next": target or "", "username": username[:200]}
    try:
        body = LoginIn(username=username, password=password)
    except ValidationError:
        return render(request, "login.html", {**context, "error": "Enter your username and password."}, 400)
    cookie_carrier = Response()
    try:
        who = api_login(body, request, cookie_carrier)
    except HTTPException as error:
        if error.status_code == 429:
            message = "Too many failed attempts. Wait a few minutes, then try again."
        else:
            message = "Wrong username or password."
        return render(request, "login.html", {**context, "error": message}, error.status_code)
    if who.role == "patient":
        landing = f"/patients/{who.patient_id}/report" if who.patient_id else "/no-record"
        target = target if target and target.startswith(landing) else landing
    else:
        target = target or HOME_BY_ROLE.get(who.role, "/patients")
    response = RedirectResponse(target, status_code=303)
    for name, value in cookie_carrier.raw_headers:
        if name.lower() == b"set-cookie":
            response.raw_headers.append((name, value))
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    settings, store = get_settings(request), get_store(request)
    cookie = session_token(request)
    who = _signed_in(request)
    if cookie:
        with store.transaction() as session:
            end_session(session, cookie)
            if who is not None:
                audit.record(session, who.actor, "auth.logout")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(cookie_name(settings, settings.session_cookie, request.scope), path="/",
                           secure=is_secure(settings, request.scope))
    return response


@router.get("/no-record")
def no_record(request: Request, who: CurrentPrincipal) -> Response:
    """A patient login that is not linked to a record (an administrator links it)."""
    return render(request, "error.html", {"status": 404, "title": "No record linked",
                                          "detail": f"The login {who.username} is not linked to a patient record yet. "
                                                    "Please ask your care team."}, 404)

