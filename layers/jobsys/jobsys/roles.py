"""Who may do what on the back-office API: each token carries a role, and each route declares the
role it needs. A role may do all that the roles before it may."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"  # every GET: the page, output, statistics
    OPERATOR = "operator"  # a viewer who may also start, cancel and retry
    ADMIN = "admin"  # an operator who may also clean up and pause or resume queues

    def allows(self, needed: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)
