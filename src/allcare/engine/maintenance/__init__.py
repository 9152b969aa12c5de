"""Maintenance monitoring: body size, dose history, counts against the protocol family's targets."""

from .section import assess_maintenance, maintenance_span

__all__ = ["assess_maintenance", "maintenance_span"]
