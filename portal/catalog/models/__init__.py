"""Catalog models: the territory (ambiti, comuni, agencies, PUA desks, queues) and the services."""

from portal.catalog.models.service import (
    SECTION_FIELDS,
    Service,
    ServiceFeedback,
    ServiceOffering,
    ServiceTranslation,
)
from portal.catalog.models.taxonomy import (
    Area,
    AreaTranslation,
    Category,
    CategoryTranslation,
    LifeEvent,
    LifeEventTranslation,
)
from portal.catalog.models.territory import Agency, Ambito, Comune, Desk, OpeningHours, Queue

__all__ = [
    "SECTION_FIELDS",
    "Agency",
    "Ambito",
    "Area",
    "AreaTranslation",
    "Category",
    "CategoryTranslation",
    "Comune",
    "Desk",
    "LifeEvent",
    "LifeEventTranslation",
    "OpeningHours",
    "Queue",
    "Service",
    "ServiceFeedback",
    "ServiceOffering",
    "ServiceTranslation",
]
