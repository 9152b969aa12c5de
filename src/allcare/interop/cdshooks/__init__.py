"""CDS Hooks 2.0 ``patient-view`` service for allcare.

``router`` (a FastAPI ``APIRouter``) serves ``GET /cds-services`` and
``POST /cds-services/all-assessment``; :func:`create_app` wraps it alone.
"""

from .cards import assessment_cards
from .models import Card, CdsResponse, Discovery, HookRequest
from .service import PREFETCH, SERVICE_ID, CdsSettings, create_app, discovery, router

__all__ = ["PREFETCH", "SERVICE_ID", "Card", "CdsResponse", "CdsSettings", "Discovery", "HookRequest", "assessment_cards",
           "create_app", "discovery", "router"]
