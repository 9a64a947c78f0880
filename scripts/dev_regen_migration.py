"""DEV ONLY, before the first release: regenerate migration 0001 from twin/schema.py.

Drops and recreates the embedded ``roadtwin`` and ``roadtwin_test`` databases. Once a
release has shipped, schema changes must be new Alembic revisions instead.
"""

from __future__ import annotations

import psycopg
from alembic import command

from twin import db as dbm
from twin.cluster import Cluster
from twin.settings import Settings

s = Settings()
c = Cluster(s)
c.start()
dbm.dispose_engines()
base = f"host=127.0.0.1 port={c.port()} user={s.pg_superuser} dbname=postgres"
with psycopg.connect(base, autocommit=True) as conn:
    for name in ("roadtwin_regen", "roadtwin_test", "roadtwin_sample_test", s.database_name):
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
c.ensure_database("roadtwin_regen")
for p in dbm.MIGRATIONS_DIR.joinpath("versions").glob("0001_*.py"):
    p.unlink()
command.revision(
    dbm.alembic_config(c.url("roadtwin_regen")),
    message="initial data model",
    autogenerate=True,
    rev_id="0001",
)
with psycopg.connect(base, autocommit=True) as conn:
    conn.execute('DROP DATABASE IF EXISTS "roadtwin_regen" WITH (FORCE)')
c.ensure_database(s.database_name)
dbm.migrate(s)
print("regenerated 0001; databases recreated (reload the sample with `twin load sample`)")
