"""land_area: water and land-use areas (the offline basemap)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:40:00
"""

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_KINDS = (
    "water",
    "river",
    "sea",
    "wetland",
    "urban",
    "residential",
    "industrial",
    "farmland",
    "port",
    "park",
    "other",
)


def upgrade() -> None:
    """Create ``land_area`` with its GiST index."""
    kinds = ", ".join(f"'{k}'" for k in _KINDS)
    op.create_geospatial_table(
        "land_area",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("dataset", sa.Text(), nullable=False),
        sa.Column("source", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.CheckConstraint(f"kind IN ({kinds})", name=op.f("ck_land_area_kind")),
        sa.CheckConstraint("ST_IsValid(geom)", name=op.f("ck_land_area_geom_valid")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_land_area")),
    )
    op.create_geospatial_index(
        "idx_land_area_geom",
        "land_area",
        ["geom"],
        unique=False,
        postgresql_using="gist",
        postgresql_ops={},
    )
    op.create_index(op.f("ix_land_area_dataset"), "land_area", ["dataset"], unique=False)


def downgrade() -> None:
    """Drop ``land_area``."""
    op.drop_index(op.f("ix_land_area_dataset"), table_name="land_area")
    op.drop_geospatial_index(
        "idx_land_area_geom",
        table_name="land_area",
        postgresql_using="gist",
        column_name="geom",
    )
    op.drop_geospatial_table("land_area")
