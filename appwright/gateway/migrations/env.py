"""Alembic's environment for the gateway's database: the URL comes from the Config that
`appwright.gateway.db.migrate` builds (there is no alembic.ini). Its own version table, so the
gateway's tables can share a database with the studio's."""

from alembic import context
from sqlalchemy import create_engine, pool

from appwright.gateway.db import VERSION_TABLE, Base

config = context.config
url = config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        # render_as_batch: SQLite cannot ALTER most things; batch mode copies the table instead.
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                          version_table=VERSION_TABLE)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
