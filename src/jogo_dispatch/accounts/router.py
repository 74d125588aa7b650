from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import OAuth2PasswordRequestForm

from jogo_dispatch.accounts import admin, service
from jogo_dispatch.accounts import repository as repo
from jogo_dispatch.accounts.schemas import (
    MeOut,
    PasswordResetIn,
    PasswordResetOut,
    TokenOut,
    UserAdminOut,
    UserCreate,
    UserOut,
    UserPatch,
    UsersPageOut,
)
from jogo_dispatch.deps import Admin, CurrentUser, RuntimeDep, SessionDep
from jogo_dispatch.errors import InvalidInput, NotFound
from jogo_dispatch.platform.db import Id, after_commit
from jogo_dispatch.platform.events import CredentialsChanged
from jogo_dispatch.platform.idempotency import IdempotentRoute
from jogo_dispatch.platform.ratelimit import guard_login

# Logins that only exist bound to a record, and where they are made.
BOUND_ROLES = {"officer": "POST /api/v1/officers", "agency": "POST /api/v1/agencies/{agency_id}/users"}

router = APIRouter(route_class=IdempotentRoute, prefix="/api/v1", tags=["accounts"])


@router.post("/auth/token", response_model=TokenOut)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
) -> TokenOut:
    """OAuth2 password flow. Officers log in with their badge as username. After ``login_limit_per_user``
    wrong passwords for a username (``login_limit_per_ip`` from one address) within
    ``login_limit_window_s``, 429 ``rate_limited`` with ``Retry-After`` until the window ends."""
    client_ip = request.client.host if request.client else None
    principal = await guard_login(
        rt.limiter,
        rt.settings,
        form.username,
        client_ip,
        lambda: service.login(
            session, rt.passwords, form.username, form.password, rt.settings.phone_regions[0]
        ),
    )
    access, ttl = rt.tokens.issue(principal)
    return TokenOut(access_token=access, expires_in=ttl, role=principal.role)


@router.post("/auth/revoke", status_code=204)
async def revoke(me: CurrentUser, rt: RuntimeDep, session: SessionDep) -> None:
    """Revoke every token issued to the caller so far (log out everywhere)."""
    user = await repo.user_by_id(session, me.user_id)
    if user is None:
        raise NotFound("user not found")
    await service.revoke_tokens(session, user)
    after_commit(session, lambda: rt.bus.publish(CredentialsChanged(user_id=me.user_id)))


@router.get("/me", response_model=MeOut)
async def me(p: CurrentUser, session: SessionDep) -> MeOut:
    user = await repo.user_by_id(session, p.user_id)
    status = await repo.officer_status(session, p.officer_id) if p.officer_id is not None else None
    return MeOut(
        user_id=p.user_id,
        role=p.role,
        officer_id=p.officer_id,
        username=user.username if user else None,
        full_name=user.full_name if user else None,
        duty_status=status,
    )


@router.post("/users", response_model=UserOut, status_code=201)
async def create_user(data: UserCreate, rt: RuntimeDep, session: SessionDep, me: Admin) -> UserOut:
    """A staff login (dispatcher, admin) or a citizen's. An officer's login comes with its officer record
    (``POST /officers``), an agency's with its agency (``POST /agencies/{id}/users``): 400
    ``role_needs_record`` here, so that no login acts as an officer or agency it is not bound to."""
    if data.role in BOUND_ROLES:
        raise InvalidInput(
            f"{data.role} logins are made with their record: {BOUND_ROLES[data.role]}",
            code="role_needs_record",
            details={"role": data.role, "use": BOUND_ROLES[data.role]},
        )
    user = await service.create_user(
        session,
        rt.passwords,
        username=data.username,
        password=data.password,
        role=data.role,
        full_name=data.full_name,
    )
    admin.record_created(session, user, me.user_id)
    return UserOut.model_validate(user, from_attributes=True)


@router.get("/users", response_model=UsersPageOut)
async def list_users(
    session: SessionDep,
    _: Admin,
    role: Literal["citizen", "officer", "dispatcher", "agency", "admin"] | None = None,
    q: Annotated[str | None, Query(max_length=100, description="part of the username, name or phone")] = None,
    active: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> UsersPageOut:
    """Logins by role and username (an officer's with its badge)."""
    return await admin.users_page(session, role, q, active, limit, offset)


@router.patch("/users/{user_id}", response_model=UserAdminOut)
async def patch_user(
    user_id: Id, data: UserPatch, rt: RuntimeDep, session: SessionDep, me: Admin
) -> UserAdminOut:
    """Change a staff login's role (dispatcher, admin), a login's name, or enable / disable it (its tokens
    are revoked). 409 ``role_locked`` (officer, agency, citizen roles), ``officer_login`` (officers are
    disabled with their officer record), ``own_account``, ``last_admin``; audited."""
    before = await repo.user_by_id(session, user_id)
    version = before.token_version if before else None
    user = await admin.update_user(session, user_id, data, me.user_id)
    if user.token_version != version:
        after_commit(session, lambda: rt.bus.publish(CredentialsChanged(user_id=user_id)))
    officer_id = await repo.officer_id_for_user(session, user.id)
    return admin.view(user, officer_id)


@router.post("/users/{user_id}/password", response_model=PasswordResetOut)
async def post_password(
    user_id: Id, data: PasswordResetIn, rt: RuntimeDep, session: SessionDep, me: Admin
) -> PasswordResetOut:
    """A new password (the given one, or generated and shown in this answer only); every token of the
    login is revoked; audited (never the password)."""
    user, password = await admin.reset_password(session, rt.passwords, user_id, data.password, me.user_id)
    after_commit(session, lambda: rt.bus.publish(CredentialsChanged(user_id=user_id)))
    return PasswordResetOut(user_id=user.id, username=user.username, password=password)
