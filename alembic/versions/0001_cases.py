"""cases, materials, files, status changes, outbox

Revision ID: 0001
Revises: 
Create Date: 2026-11-22 21:08:54.093309
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_no', sa.String(length=20), nullable=False),
    sa.Column('draft_key', sa.String(length=64), nullable=True),
    sa.Column('matter_id', sa.String(length=64), nullable=False),
    sa.Column('variant_id', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.String(length=128), nullable=False),
    sa.Column('applicant_name', sa.String(length=64), nullable=False),
    sa.Column('applicant_id_number', sa.String(length=18), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('village', sa.String(length=64), nullable=False),
    sa.Column('agent_name', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('accepted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=True),
    sa.Column('due_assumed', sa.Boolean(), nullable=False),
    sa.Column('promised_days', sa.Integer(), nullable=True),
    sa.Column('paused_since', sa.Date(), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('receipt_no'),
    sa.UniqueConstraint('draft_key')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_matter_id'), ['matter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_user_id'), ['user_id'], unique=False)

    op.create_table('stored_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('location', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stored_files_sha256'), ['sha256'], unique=False)

    op.create_table('case_materials',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_materials_case_id'), ['case_id'], unique=False)

    op.create_table('case_status_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('missing', sa.JSON(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('case_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_status_changes_case_id'), ['case_id'], unique=False)

    op.create_table('domain_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_domain_events_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_domain_events_delivered_at'), ['delivered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_domain_events_kind'), ['kind'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('domain_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_domain_events_kind'))
        batch_op.drop_index(batch_op.f('ix_domain_events_delivered_at'))
        batch_op.drop_index(batch_op.f('ix_domain_events_case_id'))

    op.drop_table('domain_events')
    with op.batch_alter_table('case_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_status_changes_case_id'))

    op.drop_table('case_status_changes')
    with op.batch_alter_table('case_materials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_materials_case_id'))

    op.drop_table('case_materials')
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stored_files_sha256'))

    op.drop_table('stored_files')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_user_id'))
        batch_op.drop_index(batch_op.f('ix_cases_status'))
        batch_op.drop_index(batch_op.f('ix_cases_phone'))
        batch_op.drop_index(batch_op.f('ix_cases_matter_id'))
        batch_op.drop_index(batch_op.f('ix_cases_due_date'))

    op.drop_table('cases')
