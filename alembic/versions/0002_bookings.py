"""service slots and bookings

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 21:48:45.089546
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('service_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('window', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name='slot_capacity'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('window', 'starts_at')
    )
    with op.batch_alter_table('service_slots', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_slots_starts_at'), ['starts_at'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_no', sa.String(length=20), nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('matter_id', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['slot_id'], ['service_slots.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('booking_no'),
    sa.UniqueConstraint('idempotency_key')
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_user_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_slot_id'))

    op.drop_table('bookings')
    with op.batch_alter_table('service_slots', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_slots_starts_at'))

    op.drop_table('service_slots')
