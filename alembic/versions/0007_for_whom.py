"""for whom: who a booking, a home visit or an application is for, apart from who messaged

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ('cases', 'bookings', 'home_visits'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('relation', sa.String(length=16), nullable=True))
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_name', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('person_name')
    for table in ('cases', 'bookings', 'home_visits'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('relation')
