"""teach the bot: questions to review, training examples, matter revisions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 17:00:00.000000
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'review_questions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('normalized', sa.String(length=500), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_seen', sa.DateTime(timezone=True), nullable=False),
        sa.Column('taught', sa.Boolean(), server_default='false', nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('normalized'),
    )
    op.create_index('ix_review_questions_last_seen', 'review_questions', ['last_seen'])
    op.create_table(
        'training_examples',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('question_id', sa.Integer(), nullable=True),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('intent', sa.String(length=32), nullable=False),
        sa.Column('matter_id', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('proposed_by', sa.String(length=64), nullable=False),
        sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=True),
        sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['question_id'], ['review_questions.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_training_examples_question_id', 'training_examples', ['question_id'])
    op.create_index('ix_training_examples_status', 'training_examples', ['status'])
    op.create_table(
        'matter_revisions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('matter_id', sa.String(length=64), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('restored_from', sa.Integer(), nullable=True),
        sa.Column('follows', sa.Integer(), nullable=False, server_default='0'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('matter_id', 'follows'),
    )
    op.create_index('ix_matter_revisions_matter_id', 'matter_revisions', ['matter_id'])


def downgrade() -> None:
    op.drop_table('matter_revisions')
    op.drop_table('training_examples')
    op.drop_table('review_questions')
