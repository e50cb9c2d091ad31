"""Dialogue stage: the flows by name, each bound to the services its steps use — the one
place a new flow is added besides its own module and tests."""

from __future__ import annotations

from bot.dialogue.services import Intake
from bot.flows import BoundFlow
from bot.flows import apply as apply_flow
from bot.flows import booking as booking_flow
from bot.flows import booking_changes as booking_changes_flow
from bot.flows import home_visit as home_visit_flow
from bot.flows import supplement as supplement_flow
from bot.flows.booking import Appointments

RunningFlow = BoundFlow[Intake] | BoundFlow[Appointments]


def bound_flows(intake: Intake | None, appointments: Appointments | None
                ) -> dict[str, RunningFlow]:
    """The flows this dialogue can run: with case storage, applying and 补正; with
    appointments, booking, changing a booking and home visits."""
    flows: dict[str, RunningFlow] = {}
    if intake is not None:
        flows[apply_flow.FLOW_NAME] = BoundFlow(apply_flow, intake)
        flows[supplement_flow.FLOW_NAME] = BoundFlow(supplement_flow, intake)
    if appointments is not None:
        flows[booking_flow.FLOW_NAME] = BoundFlow(booking_flow, appointments)
        flows[booking_changes_flow.FLOW_NAME] = BoundFlow(booking_changes_flow, appointments)
        flows[home_visit_flow.FLOW_NAME] = BoundFlow(home_visit_flow, appointments)
    return flows
