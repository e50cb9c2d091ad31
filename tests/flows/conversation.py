"""Driving one flow through a table of turns, as the dialogue would (without it)."""

from datetime import UTC, datetime

from bot.catalogue.loader import load_catalogue
from bot.config import ROOT
from bot.flows import FlowContext
from bot.messages import Channel, Incoming, Kind

CATALOGUE = load_catalogue(ROOT / "catalogue")


def said(text):
    return Incoming(Channel.WECHAT, "o_flow", Kind.TEXT, datetime.now(UTC), text=text)


def photo(media_id):
    """A photo the villager sends, by its WeChat media id."""
    return Incoming(Channel.WECHAT, "o_flow", Kind.IMAGE, datetime.now(UTC), media_id=media_id)


async def play(flow, first: str, opening, turns, services):
    """The flow started by the message `first` with the `opening` slots, then each
    (says, shows) turn — says is a text or a message (a photo) — : shows[0] must be in the
    reply before it, the rest in the reply to it. Returns the last state and the slots."""
    started = await flow.start(FlowContext(said(first), opening, CATALOGUE, services))
    slots, state, shown = dict(started.slots), started.next_state, "\n".join(started.replies)
    for says, shows in turns:
        assert shows[0] in shown, (shows[0], shown)
        message = says if isinstance(says, Incoming) else said(says)
        step = await flow.STEPS[state](FlowContext(message, slots, CATALOGUE, services))
        slots.update(step.slots)
        state, shown = step.next_state, "\n".join(step.replies)
        for part in shows[1:]:
            assert part in shown, (part, shown)
    return state, slots
