"""media and transfers: files keep WeChat's media id, handoff messages carry a photo or a
voice (and notes between clerks), a handoff keeps what the villager wrote (searched),
windows keep saved replies, bookings are searched by name and phone

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 17:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.create_index('ix_bookings_name', 'bookings', ['name'],
                    postgresql_ops={'name': 'varchar_pattern_ops'})
    op.create_index('ix_bookings_phone', 'bookings', ['phone'])
    op.create_index('ix_bookings_phone_last4', 'bookings',
                    [sa.text('right(phone, 4)' if postgres else 'substr(phone, -4)')])
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('media_id', sa.String(length=128), nullable=True))
        batch_op.create_index('ix_stored_files_media_id', ['media_id'])
    with op.batch_alter_table('handoff_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False,
                                      server_default='text'))
        batch_op.add_column(sa.Column('file_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_handoff_messages_file', 'stored_files',
                                    ['file_id'], ['id'])
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('said', sa.Text(), nullable=False, server_default=''))
    op.create_table(
        'saved_replies',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('window', sa.String(length=64), nullable=False),
        sa.Column('title', sa.String(length=40), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_saved_replies_window', 'saved_replies', ['window'])


def downgrade() -> None:
    for name in ('ix_bookings_phone_last4', 'ix_bookings_phone', 'ix_bookings_name'):
        op.drop_index(name, table_name='bookings')
    op.drop_index('ix_saved_replies_window', table_name='saved_replies')
    op.drop_table('saved_replies')
    with op.batch_alter_table('handoffs', schema=None) as batch_op:
        batch_op.drop_column('said')
    with op.batch_alter_table('handoff_messages', schema=None) as batch_op:
        batch_op.drop_constraint('fk_handoff_messages_file', type_='foreignkey')
        batch_op.drop_column('file_id')
        batch_op.drop_column('kind')
    with op.batch_alter_table('stored_files', schema=None) as batch_op:
        batch_op.drop_index('ix_stored_files_media_id')
        batch_op.drop_column('media_id')
