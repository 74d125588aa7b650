"""Imports every domain's tables so Alembic and tests see one metadata."""

from jogo_dispatch.abuse import models as _abuse  # noqa: F401
from jogo_dispatch.accounts import models as _accounts  # noqa: F401
from jogo_dispatch.agencies import models as _agencies  # noqa: F401
from jogo_dispatch.alerts import models as _alerts  # noqa: F401
from jogo_dispatch.dispatch import models as _dispatch  # noqa: F401
from jogo_dispatch.forwards import models as _forwards  # noqa: F401
from jogo_dispatch.open311 import models as _open311  # noqa: F401
from jogo_dispatch.plans import models as _plans  # noqa: F401
from jogo_dispatch.platform import audit as _audit  # noqa: F401
from jogo_dispatch.platform import idempotency as _idempotency  # noqa: F401
from jogo_dispatch.platform import ratelimit as _ratelimit  # noqa: F401
from jogo_dispatch.platform.db import Base
from jogo_dispatch.reports import models as _reports  # noqa: F401
from jogo_dispatch.rewards import models as _rewards  # noqa: F401
from jogo_dispatch.tracking import models as _tracking  # noqa: F401

metadata = Base.metadata
