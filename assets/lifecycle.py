"""Asset lifecycle: the states every asset passes through and the legal moves between them.

A pure state machine. :data:`KINDS` and :data:`STATES` are the one definition of asset
kinds and lifecycle states: the database's check constraints (``twin.schema``) and the
register loader use these. Structures
that carry traffic can be *restricted* (posted limits); equipment (signs, cameras, RSUs ...)
cannot, it is either working, being maintained or out of service (*closed*).
"""

from __future__ import annotations

from dataclasses import dataclass

from assets.errors import GradingError

STATES: tuple[str, ...] = (
    "planned",
    "under_construction",
    "in_service",
    "under_maintenance",
    "restricted",
    "closed",
    "decommissioned",
)

#: Kinds whose traffic can be restricted (posted weight/height limits, lane closures).
TRAFFIC_KINDS: tuple[str, ...] = ("bridge", "tunnel", "underpass", "culvert", "pavement_section")
#: Roadside equipment and furniture.
EQUIPMENT_KINDS: tuple[str, ...] = (
    "gantry",
    "sign",
    "guardrail",
    "lighting",
    "multi_function_pole",
    "rsu",
    "camera",
    "weather_station",
    "height_restrictor",
)
KINDS: tuple[str, ...] = TRAFFIC_KINDS + EQUIPMENT_KINDS

#: state -> states reachable in one move (for traffic-carrying structures).
TRANSITIONS: dict[str, frozenset[str]] = {
    "planned": frozenset({"under_construction", "decommissioned"}),
    "under_construction": frozenset({"in_service", "planned", "decommissioned"}),
    "in_service": frozenset({"under_maintenance", "restricted", "closed", "decommissioned"}),
    "under_maintenance": frozenset({"in_service", "restricted", "closed"}),
    "restricted": frozenset({"in_service", "under_maintenance", "closed"}),
    "closed": frozenset({"in_service", "under_maintenance", "restricted", "decommissioned"}),
    "decommissioned": frozenset(),
}

#: States a traffic structure is passable in (restricted: only within its posted limits).
PASSABLE: frozenset[str] = frozenset({"in_service", "under_maintenance", "restricted"})


@dataclass(frozen=True)
class Transition:
    """A legal move of one asset."""

    kind: str
    before: str
    after: str


def states_for(kind: str) -> tuple[str, ...]:
    """The lifecycle states an asset of ``kind`` can be in."""
    if kind not in KINDS:
        raise GradingError("kind", kind, f"one of {', '.join(KINDS)}")
    if kind in TRAFFIC_KINDS:
        return STATES
    return tuple(s for s in STATES if s != "restricted")


def allowed_next(kind: str, state: str) -> tuple[str, ...]:
    """States an asset of ``kind`` in ``state`` may move to, in :data:`STATES` order."""
    own = states_for(kind)
    if state not in own:
        raise GradingError("lifecycle_state", state, f"one of {', '.join(own)} for a {kind}")
    nxt = TRANSITIONS[state]
    return tuple(s for s in own if s in nxt)


def transition(kind: str, before: str, after: str) -> Transition:
    """Check the move ``before -> after`` for an asset of ``kind``.

    Raises
    ------
    GradingError
        With field ``lifecycle_state`` when the move is not allowed (the message lists the
        legal targets).
    """
    if after not in STATES:
        raise GradingError("lifecycle_state", after, f"one of {', '.join(STATES)}")
    legal = allowed_next(kind, before)
    if after not in legal:
        targets = ", ".join(legal) or "none (terminal state)"
        raise GradingError(
            "lifecycle_state", after, f"a move from {before!r} for a {kind}: {targets}"
        )
    return Transition(kind, before, after)


def initial_state(kind: str, state: str | None = None) -> str:
    """The state a newly registered asset starts in (``in_service`` by default)."""
    own = states_for(kind)
    s = state or "in_service"
    if s not in own:
        raise GradingError("lifecycle_state", s, f"one of {', '.join(own)} for a {kind}")
    return s


#: Work-order status -> statuses reachable in one move (open -> assigned -> in_progress ->
#: closed; cancel from any non-final status; reassignment keeps ``assigned``).
WORK_ORDER_STATUSES: tuple[str, ...] = ("open", "assigned", "in_progress", "closed", "cancelled")
WORK_ORDER_TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"assigned", "cancelled"}),
    "assigned": frozenset({"assigned", "in_progress", "open", "cancelled"}),
    "in_progress": frozenset({"closed", "cancelled"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}


def work_order_transition(before: str, after: str) -> None:
    """Check a work order's status move ``before -> after``; raise when it is illegal."""
    if after not in WORK_ORDER_STATUSES:
        raise GradingError("status", after, f"one of {', '.join(WORK_ORDER_STATUSES)}")
    legal = WORK_ORDER_TRANSITIONS[before]
    if after not in legal:
        targets = ", ".join(s for s in WORK_ORDER_STATUSES if s in legal) or "none (final)"
        raise GradingError("status", after, f"a move from {before!r}: {targets}")
