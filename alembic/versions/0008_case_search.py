"""case search: indexes for the console's search by name, ID number, phone (last 4), village,
and the accepted date (issue #15)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:40:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# As bot/storage/tables.py declares them; prefix searches (LIKE '王秀%') need the pattern
# operators on PostgreSQL, and the last four digits are right(phone, 4) there, substr on
# SQLite (no right() there).
PREFIX = 'varchar_pattern_ops'


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    last4 = 'right(phone, 4)' if postgres else 'substr(phone, -4)'
    op.create_index('ix_cases_accepted_at', 'cases', ['accepted_at', 'id'], unique=False)
    op.create_index('ix_cases_applicant_name', 'cases', ['applicant_name'], unique=False,
                    postgresql_ops={'applicant_name': PREFIX})
    op.create_index('ix_cases_applicant_id_number', 'cases', ['applicant_id_number'],
                    unique=False)
    op.create_index('ix_cases_village', 'cases', ['village'], unique=False,
                    postgresql_ops={'village': PREFIX})
    op.create_index('ix_cases_phone_last4', 'cases', [sa.text(last4)], unique=False)


def downgrade() -> None:
    for name in ('ix_cases_phone_last4', 'ix_cases_village', 'ix_cases_applicant_id_number',
                 'ix_cases_applicant_name', 'ix_cases_accepted_at'):
        op.drop_index(name, table_name='cases')
