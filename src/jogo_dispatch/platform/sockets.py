"""The websockets open in this process, by who opened them, so that revoking a credential closes them.

A revocation is a ``CredentialsChanged`` event (relayed to every process when a pub/sub backend is set):
``POST /auth/revoke`` names the user (their access tokens end; device tokens are not access tokens),
revoking a device names the device. Each socket handler takes an event from :meth:`OpenSockets.opened` and
closes with 4401 ``token_revoked`` once it is set, and says ``closed`` when it ends.
"""

from __future__ import annotations

import asyncio

from jogo_dispatch.platform.security import Principal

REVOKED_CLOSE_CODE = 4401
REVOKED_REASON = "token_revoked"


class OpenSockets:
    def __init__(self) -> None:
        self._open: dict[asyncio.Event, Principal] = {}

    def opened(self, principal: Principal) -> asyncio.Event:
        """A socket opened with these credentials: the event is set when they are revoked."""
        revoked = asyncio.Event()
        self._open[revoked] = principal
        return revoked

    def closed(self, revoked: asyncio.Event) -> None:
        self._open.pop(revoked, None)

    def revoked(self, user_id: int | None = None, device_id: int | None = None) -> None:
        """Set the events of the sockets those credentials opened."""
        for event, p in list(self._open.items()):
            by_device = device_id is not None and p.device_id == device_id
            by_user = user_id is not None and p.user_id == user_id and p.device_id is None
            if by_device or by_user:
                event.set()

    def __len__(self) -> int:
        return len(self._open)
