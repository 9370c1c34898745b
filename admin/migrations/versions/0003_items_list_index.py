"""index for the content list (count and newest first among items not retired)

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_items_retired_updated", "items", ["retired", "updated_at"])


def downgrade() -> None:
    op.drop_index("ix_items_retired_updated", table_name="items")
