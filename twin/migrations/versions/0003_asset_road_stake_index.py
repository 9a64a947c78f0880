"""asset: one (road_code, stake_m) index for road + stake range lookups

Replaces the single-column road_code index: limits by road and stake range read only
the structures in the range instead of every structure of the road.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 14:50:00
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_asset_road_code_stake", "asset", ["road_code", "stake_m"])
    op.drop_index("ix_asset_road_code", table_name="asset")


def downgrade() -> None:
    op.create_index("ix_asset_road_code", "asset", ["road_code"])
    op.drop_index("ix_asset_road_code_stake", table_name="asset")
