"""booking details and home visits

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 22:09:39.202805
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('home_visits',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('visit_no', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('person_name', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.String(length=18), nullable=False),
    sa.Column('for_self', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('age', sa.Integer(), nullable=True),
    sa.Column('matter_id', sa.String(length=64), nullable=True),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('village', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('latitude', sa.Double(), nullable=True),
    sa.Column('longitude', sa.Double(), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('preferred', sa.JSON(), nullable=False),
    sa.Column('agent_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=True),
    sa.Column('proposed', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['slot_id'], ['service_slots.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('idempotency_key'),
    sa.UniqueConstraint('visit_no')
    )
    with op.batch_alter_table('home_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_home_visits_agent_id'), ['agent_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_home_visits_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_home_visits_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_home_visits_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('phone', sa.String(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('moved_to', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('updated_at')
        batch_op.drop_column('moved_to')
        batch_op.drop_column('phone')
        batch_op.drop_column('name')

    with op.batch_alter_table('home_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_home_visits_user_id'))
        batch_op.drop_index(batch_op.f('ix_home_visits_status'))
        batch_op.drop_index(batch_op.f('ix_home_visits_slot_id'))
        batch_op.drop_index(batch_op.f('ix_home_visits_agent_id'))

    op.drop_table('home_visits')
