"""the gateway: callers' keys and the request log

Revision ID: 0001
Revises: 
Create Date: 2026-12-10
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('gateway_keys',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('budget_usd_per_day', sa.Float(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    op.create_table('gateway_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('format_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('caller', sa.String(length=100), nullable=False),
    sa.Column('requested', sa.String(length=200), nullable=False),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('route', sa.Text(), nullable=False),
    sa.Column('attempts', sa.JSON(), nullable=False),
    sa.Column('escalations', sa.Integer(), nullable=False),
    sa.Column('stream', sa.Boolean(), nullable=False),
    sa.Column('prompt_tokens', sa.Integer(), nullable=False),
    sa.Column('completion_tokens', sa.Integer(), nullable=False),
    sa.Column('cost_usd', sa.Float(), nullable=False),
    sa.Column('latency_s', sa.Float(), nullable=False),
    sa.Column('status', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('gateway_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gateway_requests_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_gateway_requests_caller'), ['caller'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('gateway_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gateway_requests_caller'))
        batch_op.drop_index(batch_op.f('ix_gateway_requests_created_at'))
    op.drop_table('gateway_requests')
    op.drop_table('gateway_keys')
