"""Storage: every Redis key and channel the bot uses, named in one place.

The strings are those already in use (two prefixes, from before this module): a deploy keeps
every conversation, lock and counter. What each holds and for how long is said where it is
written; here is only its name. (The WeChat access token's key belongs to
integrations/wechat_api.py, which knows nothing of the bot.)
"""

from __future__ import annotations


def conversation(channel: str, user: str) -> str:
    """JSON ConversationState (bot/dialogue/state.py)."""
    return f"bianmin:conv:{channel}:{user}"


def conversation_lock(channel: str, user: str) -> str:
    return f"bianmin:lock:conv:{channel}:{user}"


def transcript(channel: str, user: str) -> str:
    return f"bianmin:transcript:{channel}:{user}"


HANDOFF_REQUESTS = "bianmin:handoff:requests"  # without a handoff desk: requests for clerks
QUESTIONS_ON = "bm:stats:questions:{day}"  # questions the bot received that day
ANSWERED_ON = "bm:stats:answered:{day}"  # of them, those it answered from the guide
CONSOLE_ALERTS = "bm:console:alerts"  # pub/sub: handoffs and alerts pushed to open consoles
CONSOLE_PUBLISH = "bm:console:publish"  # the last catalogue publication's report
CONSOLE_PUBLISHING = "bm:console:publishing"  # lock: a publication under way (who)


def console_session(id_digest: str) -> str:
    """A clerk's session, by the SHA-256 of its id (never the id itself)."""
    return f"bm:console:session:{id_digest}"


def console_form(nonce: str) -> str:
    """A console form already sent (its one-time nonce): sent again, it does nothing."""
    return f"bm:console:form:{nonce}"


def wechat_duplicate(message_key: str) -> str:
    return f"bianmin:wx:dedup:{message_key}"


def wechat_signature(signature: str) -> str:
    return f"bianmin:wx:sig:{signature}"


def wechat_rate(user: str) -> str:
    return f"bianmin:wx:rate:{user}"


NLU_RATE = "bm:nlu:parse:{caller}"  # questions of a caller in their current minute


def sms_same_text(phone: str, digest: str) -> str:
    return f"bm:sms:same:{phone}:{digest}"


def sms_per_day(provider: str, scope: str, day: str) -> str:
    return f"bm:sms:day:{provider}:{scope}:{day}"


def sms_reply_parts(phone: str, day: str) -> str:
    """SMS parts answered to one phone on one China day (bot/notices/replies.py)."""
    return f"bm:sms:reply:{phone}:{day}"


def sms_reply_capped(phone: str, day: str) -> str:
    """Set once the phone was told today's cap is reached."""
    return f"bm:sms:capped:{phone}:{day}"


def sms_uplink(message_key: str) -> str:
    """An SMS received from a villager, while and after it is handled (retries)."""
    return f"bm:sms:up:{message_key}"


def notice_sent_mark(key: str) -> str:
    return f"bm:notice:cs:{key}"


def agent_consent(draft: str) -> str:
    """hash: the consent code sent to an applicant for one draft (digest, tries), with TTL."""
    return f"bm:agent:consent:{draft}"


def lockout(secret: str, kind: str) -> str:
    """The prefix of one kind of guessable secret's wrong tries (bot/security/lockout.py)."""
    return f"bm:lockout:{secret}:{kind}:"


VOICE_USERS = "bm:voice:users"  # set: users who want answers and notices read aloud (no TTL)
