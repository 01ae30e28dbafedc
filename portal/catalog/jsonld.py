"""schema.org GovernmentService descriptions of services, with CPSV-AP properties."""

from flask import url_for

from portal.catalog.models import Service
from portal.catalog.services import Availability


def agency_ld(agency) -> dict:
    data = {"@type": "GovernmentOrganization", "name": agency.legal_name or agency.name}
    if agency.website:
        data["url"] = agency.website
    return data


def service_jsonld(service: Service, locale: str, availability: Availability | None = None):
    """The JSON-LD of a service card; with `availability`, narrowed to one comune."""
    text = service.text(locale)
    url = url_for("catalog.service", slug=service.slug, lang=locale, _external=True)
    offerings = [availability.offering] if availability and availability.offered else []
    if not availability:
        offerings = service.offerings
    providers = {o.provider.slug: o.provider for o in offerings}
    desks = [o.desk for o in offerings]
    comuni = [c for desk in desks for c in desk.comuni]
    data = {
        "@context": "https://schema.org",
        "@type": "GovernmentService",
        "@id": url,
        "url": url,
        "inLanguage": locale,
        "identifier": service.slug,
        "name": text.title,
        "description": text.summary,
        "serviceType": service.category.name_in(locale),
        "category": [topic.name_in(locale) for topic in service.topics],
        "keywords": text.keywords,
        "audience": {"@type": "Audience", "audienceType": text.audience_short},
        "areaServed": [
            {"@type": "AdministrativeArea", "name": comune.name, "identifier": comune.slug}
            for comune in comuni
        ],
        "serviceOperator": [agency_ld(agency) for agency in providers.values()],
        "availableChannel": [channel_ld(service, desk, locale) for desk in desks],
        "termsOfService": text.conditions,
        "isAccessibleForFree": service.cost_kind == "free",
        # CPSV-AP properties that schema.org lacks, under their CPSV-AP names.
        "cpsv:status": "active" if service.is_active else "inactive",
        "cpsv:processingTime": f"P{service.processing_days}D" if service.processing_days else None,
        "cpsv:legalMaxProcessingTime": (
            f"P{service.legal_max_days}D" if service.legal_max_days else None
        ),
        "cpsv:requires": text.documents,
        "cpsv:produces": text.outputs,
        "cpsv:hasCost": text.costs,
        "dateModified": service.last_reviewed.isoformat() if service.last_reviewed else None,
    }
    if service.authority:
        data["provider"] = agency_ld(service.authority)
    elif len(providers) == 1:
        data["provider"] = agency_ld(next(iter(providers.values())))
    return {key: value for key, value in data.items() if value not in (None, "", [])}


def channel_ld(service: Service, desk, locale: str) -> dict:
    channel = {
        "@type": "ServiceChannel",
        "name": desk.name,
        "serviceLocation": {
            "@type": "Place",
            "name": desk.name,
            "address": desk.address or desk.city,
        },
    }
    if service.online:
        channel["serviceUrl"] = url_for(
            "catalog.service", slug=service.slug, lang=locale, _external=True
        )
    return channel
