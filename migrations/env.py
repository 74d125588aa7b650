"""Alembic environment: the URL comes from JOGO_DATABASE_URL (or the -x url=... option)."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from jogo_dispatch.platform.model_registry import metadata
from jogo_dispatch.settings import Settings, to_sqlalchemy_url

config = context.config


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        url = Settings().database_url
    if not url:
        raise SystemExit(
            "set JOGO_DATABASE_URL (or use `jogo-dispatch migrate`, which knows the embedded one)"
        )
    return to_sqlalchemy_url(url)


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=metadata,
        include_object=alembic_helpers.include_object,
        process_revision_directives=alembic_helpers.writer,
        render_item=alembic_helpers.render_item,
        compare_type=True,
        **kwargs,
    )


if context.is_offline_mode():
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
