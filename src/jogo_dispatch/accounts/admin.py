"""Logins and roles as the admin console manages them: the list, role changes between the staff roles,
enabling and disabling a login, password resets. Audited (entity ``user``). Flushes, never commits.

Officers, agency logins and citizens keep their role: an officer's login hangs on its officer record
(``/api/v1/officers/{id}/deactivate`` also revokes the phones), an agency login on its agency. No change
may leave the system without an active admin, and an admin cannot lock themselves out.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from jogo_dispatch.accounts.models import User
from jogo_dispatch.accounts.schemas import STAFF_ROLES, UserAdminOut, UserPatch, UsersPageOut
from jogo_dispatch.errors import Conflict, NotFound
from jogo_dispatch.platform import audit
from jogo_dispatch.platform.security import Passwords
from jogo_dispatch.tracking.models import Officer


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def users_page(
    session: AsyncSession,
    role: str | None,
    q: str | None,
    active: bool | None,
    limit: int,
    offset: int,
) -> UsersPageOut:
    query = select(User, Officer.id, Officer.badge).outerjoin(Officer, Officer.user_id == User.id)
    if role is not None:
        query = query.where(User.role == role)
    if q:
        pattern = _like(q)
        query = query.where(
            or_(
                User.username.ilike(pattern, escape="\\"),
                User.full_name.ilike(pattern, escape="\\"),
                User.phone.ilike(pattern, escape="\\"),
            )
        )
    if active is not None:
        query = query.where(User.is_active.is_(active))
    total = int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = await session.execute(query.order_by(User.role, User.username).limit(limit).offset(offset))
    return UsersPageOut(total=total, items=[view(u, oid, badge) for u, oid, badge in rows])


def view(user: User, officer_id: int | None = None, badge: str | None = None) -> UserAdminOut:
    return UserAdminOut(
        id=user.id,
        username=user.username,
        role=user.role,
        full_name=user.full_name,
        is_active=user.is_active,
        created_at=user.created_at,
        phone=user.phone,
        officer_id=officer_id,
        officer_badge=badge,
    )


async def _user(session: AsyncSession, user_id: int) -> User:
    user = await session.scalar(select(User).where(User.id == user_id).with_for_update())
    if user is None:
        raise NotFound(f"user {user_id} not found", code="user_not_found")
    return user


async def _other_active_admins(session: AsyncSession, user_id: int) -> int:
    # Locked: two admins demoting each other at once must not both succeed.
    ids = await session.scalars(
        select(User.id)
        .where(User.role == "admin", User.is_active.is_(True), User.id != user_id)
        .with_for_update()
    )
    return len(list(ids))


async def update_user(session: AsyncSession, user_id: int, data: UserPatch, actor_id: int) -> User:
    user = await _user(session, user_id)
    wanted = data.model_dump(exclude_unset=True, exclude={"reason"})
    changes = {k: [getattr(user, k), v] for k, v in wanted.items() if v is not None and getattr(user, k) != v}
    if "full_name" in wanted and wanted["full_name"] is None and user.full_name is not None:
        changes["full_name"] = [user.full_name, None]
    if not changes:
        return user
    if ("role" in changes or "is_active" in changes) and user.role not in STAFF_ROLES:
        if user.role == "officer":
            raise Conflict(
                "an officer's login is enabled or disabled with its officer "
                "(POST /api/v1/officers/{id}/deactivate, /activate)",
                code="officer_login",
            )
        if "role" in changes:
            raise Conflict(f"a {user.role} login keeps its role", code="role_locked")
    removes_admin = user.role == "admin" and (
        changes.get("role", [None, "admin"])[1] != "admin"
        or changes.get("is_active", [None, True])[1] is False
    )
    if removes_admin:
        if user.id == actor_id:
            raise Conflict("you cannot demote or disable your own login", code="own_account")
        if await _other_active_admins(session, user.id) == 0:
            raise Conflict("this is the last active admin", code="last_admin")
    for field, (_, after) in changes.items():
        setattr(user, field, after)
    revoked = "role" in changes or changes.get("is_active", [None, True])[1] is False
    if revoked:
        user.token_version += 1  # tokens name the user; a new role or a disabled login starts afresh
    await session.flush()
    audit.record(
        session,
        "user",
        user.id,
        "edited",
        from_state=str(changes["is_active"][0]) if "is_active" in changes else None,
        to_state=str(changes["is_active"][1]) if "is_active" in changes else None,
        actor_id=actor_id,
        reason=data.reason,
        data={"changes": changes, "tokens_revoked": revoked, "username": user.username},
    )
    return user


async def reset_password(
    session: AsyncSession, passwords: Passwords, user_id: int, password: str | None, actor_id: int
) -> tuple[User, str]:
    user = await _user(session, user_id)
    new = password or secrets.token_urlsafe(9)
    user.password_hash = passwords.hash(new)
    user.token_version += 1
    await session.flush()
    audit.record(
        session,
        "user",
        user.id,
        "password_reset",
        actor_id=actor_id,
        data={"generated": password is None, "username": user.username},
    )
    return user, new


def record_created(session: AsyncSession, user: User, actor_id: int) -> None:
    audit.record(
        session,
        "user",
        user.id,
        "created",
        to_state="active",
        actor_id=actor_id,
        data={"username": user.username, "role": user.role},
    )
