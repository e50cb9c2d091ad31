"""agents: village agents (代办员) registered in the console, bound to WeChat by a one-time
code; the cases they file point to them, with how the applicant agreed

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'agents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('villages', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.String(length=128), nullable=True),
        sa.Column('bound_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('code_expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', name='uq_agents_user_id'),
        sa.UniqueConstraint('code_hash', name='uq_agents_code_hash'),
    )
    # Plain ADD COLUMN, not a batch copy: SQLite's copy would lose the expression index on
    # the phone's last four digits; SQLite (make run) goes without the foreign key.
    op.add_column('cases', sa.Column('agent_id', sa.Integer(), nullable=True))
    op.add_column('cases', sa.Column('consent', sa.String(length=16), nullable=True))
    op.create_index('ix_cases_agent_id', 'cases', ['agent_id'], unique=False)
    if op.get_bind().dialect.name != 'sqlite':
        op.create_foreign_key('fk_cases_agent_id', 'cases', 'agents', ['agent_id'], ['id'])


def downgrade() -> None:
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint('fk_cases_agent_id', 'cases', type_='foreignkey')
    op.drop_index('ix_cases_agent_id', table_name='cases')
    op.drop_column('cases', 'consent')
    op.drop_column('cases', 'agent_id')
    op.drop_table('agents')
