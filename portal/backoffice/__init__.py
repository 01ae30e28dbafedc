"""The back office: PUA staff triage requests, supervisors follow workload and indicators.

Importing the package registers every back-office route on the one blueprint."""

from portal.backoffice import dashboard, rules, views  # noqa: F401  (routes register on import)
from portal.backoffice.blueprint import bp

__all__ = ["bp"]
