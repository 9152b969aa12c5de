"""Login, logout, who am I, own password, and API tokens for scripts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response

from ...store import audit
from ...store.audit import Actor
from ...store.errors import InvalidRecord
from ...store.users import (
    authenticate,
    check_password,
    create_session,
    create_token,
    end_all_sessions,
    end_session,
    get_user,
    list_tokens,
    normalise_username,
    purge_expired_sessions,
    revoke_all_tokens,
    revoke_token,
)
from ..deps import AnyUser, DbSession, Principal, RowId, settings_of, store_of
from ..security import client_ip, cookie_name, csrf_for_session, is_secure, session_token
from .schemas import LoginIn, NewTokenOut, PasswordChange, TokenIn, TokenOut, WhoAmI, is_role, token_out

router = APIRouter(prefix="/auth", tags=["auth"])


def _whoami(request: Request, who: Principal, csrf_token: str | None = None) -> WhoAmI:
    role = who.role
    if not is_role(role):  # the store accepts only ROLES; a row edited by hand must not pass as a role
        raise ValueError(f"unknown role {role!r} for user {who.user_id}")
    return WhoAmI(user_id=who.user_id, username=who.username, display_name=who.display_name, role=role,
                  patient_id=who.patient_id, via=who.via,
                  csrf_token=csrf_token or request.scope.get("state", {}).get("csrf_token"))


@router.post("/login", response_model=WhoAmI, responses={401: {}, 429: {}})
def login(body: LoginIn, request: Request, response: Response) -> WhoAmI:
    """Check username and password; on success set the session cookie (HttpOnly, SameSite)."""
    store, settings = store_of(request), settings_of(request)
    throttle = request.app.state.login_throttle
    ip = client_ip(request)
    username = normalise_username(body.username)[:80]
    key = f"{username}\0{ip}"
    anonymous = Actor(user_id=None, username=username, role="anonymous", ip=ip, via="session")
    wait = throttle.begin(key)  # checks and counts this try in one step, before the slow hash
    if wait:
        with store.transaction() as session:
            audit.record(session, anonymous, "auth.login", outcome="throttled")
        raise HTTPException(429, "too many failed logins; wait and try again", headers={"Retry-After": str(wait)})
    user = None
    try:
        with store.transaction() as session:
            user = authenticate(session, request.app.state.hasher, body.username, body.password)
            if user is None:
                audit.record(session, anonymous, "auth.login", outcome="failed")
    finally:
        throttle.end(key, succeeded=user is not None)
    if user is None:
        raise HTTPException(401, "wrong username or password")
    with store.transaction() as session:
        purge_expired_sessions(session)
        token = create_session(session, user, ip, settings.session_max_age_seconds)
        who = Principal(user_id=user.id, username=user.username, role=user.role, patient_id=user.patient_id,
                        display_name=user.display_name, via="session", ip=ip)
        audit.record(session, who.actor, "auth.login")
    response.set_cookie(cookie_name(settings, settings.session_cookie, request.scope), token,
                        max_age=settings.session_max_age_seconds, httponly=True,
                        secure=is_secure(settings, request.scope), samesite=settings.cookie_samesite, path="/")
    return _whoami(request, who, csrf_for_session(settings.secret_key, token))


@router.post("/logout", status_code=204)
def logout(request: Request, who: AnyUser, db: DbSession) -> Response:
    settings = settings_of(request)
    cookie = session_token(request)
    if cookie:
        end_session(db, cookie)
    audit.record(db, who.actor, "auth.logout")
    response = Response(status_code=204)
    response.delete_cookie(cookie_name(settings, settings.session_cookie, request.scope), path="/",
                           secure=is_secure(settings, request.scope))
    return response


@router.get("/whoami", response_model=WhoAmI)
def whoami(request: Request, who: AnyUser) -> WhoAmI:
    return _whoami(request, who)


@router.post("/password", status_code=204)
def change_password(body: PasswordChange, request: Request, who: AnyUser, db: DbSession) -> Response:
    """Change your own password (needs the current one); ends your sessions and revokes your API tokens."""
    hasher = request.app.state.hasher
    user = get_user(db, who.user_id)
    if authenticate(db, hasher, user.username, body.current_password) is None:
        raise HTTPException(403, "the current password is wrong")
    problems = check_password(body.new_password, settings_of(request).password_min_length)
    if problems:
        raise InvalidRecord([("new_password", problems[0][1])])
    user.password_hash = hasher.hash(body.new_password)
    end_all_sessions(db, user.id)
    revoke_all_tokens(db, user.id)
    audit.record(db, who.actor, "auth.password_change", object_type="user", object_id=user.id)
    return Response(status_code=204)


@router.get("/tokens", response_model=list[TokenOut])
def tokens(who: AnyUser, db: DbSession) -> list[TokenOut]:
    return [token_out(row) for row in list_tokens(db, who.user_id)]


@router.post("/tokens", response_model=NewTokenOut, status_code=201)
def new_token(body: TokenIn, request: Request, who: AnyUser, db: DbSession) -> NewTokenOut:
    """A bearer token for scripts, with your role. It is shown only in this response."""
    days = body.days or settings_of(request).api_token_days
    created = create_token(db, who.actor, get_user(db, who.user_id), body.name, days)
    return NewTokenOut(**token_out(created.row).model_dump(), token=created.token)


@router.delete("/tokens/{token_id}", status_code=204, responses={404: {}})
def delete_token(token_id: RowId, who: AnyUser, db: DbSession) -> Response:
    revoke_token(db, who.actor, who.user_id, token_id)
    return Response(status_code=204)
