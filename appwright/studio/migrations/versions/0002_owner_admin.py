"""the owner's admin account becomes a reserved identity: end every studio session, mark old apps

Security fix (issue 13). Before this revision 'Sign in as admin' promoted the account in the app
that had the owner's studio email, which anyone could have signed up with first, and studio
cookies could be planted by preview pages on the same host name. So:
- every studio session issued before now ends (a planted or stolen one among them);
- apps made before now get `legacy_admin`: the studio takes the admin role from the account with
  the owner's email in their live data, at start and after each restore (studio/app.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(sa.text("DELETE FROM studio_sessions"))
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legacy_admin', sa.Boolean(), nullable=False, server_default=sa.true()))
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.alter_column('legacy_admin', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('apps', schema=None) as batch_op:
        batch_op.drop_column('legacy_admin')
