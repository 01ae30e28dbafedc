"""Loads the demo territory and catalog from the YAML files in catalog/demo (idempotent)."""

import datetime as dt
import hashlib
import re
from pathlib import Path

import yaml
from sqlalchemy import select

from portal.catalog.models import (
    Agency,
    Ambito,
    Area,
    AreaTranslation,
    Category,
    CategoryTranslation,
    Comune,
    Desk,
    LifeEvent,
    LifeEventTranslation,
    OpeningHours,
    Queue,
    Service,
    ServiceOffering,
    ServiceTranslation,
)
from portal.catalog.models.service import CHANNELS, COST_KINDS, SECTION_FIELDS, TEXT_FIELDS
from portal.extensions import db

REQUIRED_TEXT = ("title", "summary", "audience_short", "keywords", *SECTION_FIELDS)
COMPLETE_LOCALES = ("it", "en")
# What a translation into any other locale must have at least (translations/{locale}/services/).
ESSENTIAL_TEXT = ("title", "summary", "audience", "how_to")

# The SPID/CIE level a service asks at login, as demo files name it.
LOGIN_LEVELS = {f"SpidL{n}": f"https://www.spid.gov.it/SpidL{n}" for n in (1, 2, 3)}


class DemoDataError(ValueError):
    """A demo file is inconsistent; the message names the file and the field."""


def slugify(name: str) -> str:
    """Comune slugs of the contract: lowercase, spaces and apostrophes turned into '-'."""
    return re.sub(r"[\s'\u2019]+", "-", name.strip().lower())


def italian_digest(text_fields: dict) -> str:
    """Fingerprint of a service's Italian text; translations record the one they follow."""
    joined = "\x1f".join(str(text_fields.get(name) or "") for name in TEXT_FIELDS)
    return hashlib.sha256(joined.encode()).hexdigest()


def read_yaml(path: Path):
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def load(data_dir) -> dict:
    """Create or update everything in `data_dir`; returns counts of what is now loaded."""
    data_dir = Path(data_dir)
    territory = read_yaml(data_dir / "territory.yaml")
    paths = sorted((data_dir / "services").glob("*.yaml"))
    service_docs = [read_yaml(path) for path in paths]
    known = {
        "area": {a["slug"] for a in territory["areas"]},
        "category": {c["slug"] for c in territory["categories"]},
        "life_event": {e["slug"] for e in territory["life_events"]},
        "desk": {d["slug"] for d in territory["desks"]},
        "agency": {a["slug"] for a in territory["agencies"]},
    }
    for path, doc in zip(paths, service_docs, strict=True):
        validate_service(doc, path.stem, known)
    merge_translations(data_dir / "translations", territory, service_docs)

    load_territory(territory)
    lookups = {
        model: {row.slug: row for row in db.session.execute(select(model)).scalars()}
        for model in (Area, Category, LifeEvent, Desk, Agency)
    }
    for doc in service_docs:
        upsert_service(doc, lookups)
    db.session.commit()
    return {
        "comuni": db.session.query(Comune).count(),
        "desks": db.session.query(Desk).count(),
        "queues": db.session.query(Queue).count(),
        "services": db.session.query(Service).count(),
    }


def validate_service(doc: dict, stem: str, known: dict) -> None:
    """Refuse a service file that is incomplete or names unknown slugs."""

    def fail(message):
        raise DemoDataError(f"services/{stem}.yaml: {message}")

    if not isinstance(doc, dict) or doc.get("slug") != stem:
        fail("slug must equal the file name")
    checks = [
        ("area", [doc.get("area")], known["area"]),
        ("category", [doc.get("category")], known["category"]),
        ("topics", doc.get("topics") or [], known["category"]),
        ("life_events", doc.get("life_events") or [], known["life_event"]),
        ("offered_by", doc.get("offered_by") or [], known["desk"]),
        ("channels", doc.get("channels") or [], set(CHANNELS)),
        ("cost", [doc.get("cost")], set(COST_KINDS)),
        ("provider", list((doc.get("provider") or {}).values()), known["agency"]),
    ]
    for name, values, allowed in checks:
        unknown = [v for v in values if v not in allowed]
        if unknown:
            fail(f"{name} has unknown values {unknown}")
    if not doc.get("offered_by"):
        fail("offered_by names no desk")
    if doc.get("status") not in ("active", "inactive"):
        fail("status must be active or inactive")
    if doc.get("login_level", "SpidL2") not in LOGIN_LEVELS:
        fail(f"login_level must be one of {sorted(LOGIN_LEVELS)}")
    for locale in COMPLETE_LOCALES:
        text = (doc.get("text") or {}).get(locale) or {}
        missing = [name for name in REQUIRED_TEXT if not text.get(name)]
        if doc.get("status") == "inactive" and not text.get("status_reason"):
            missing.append("status_reason")
        if missing:
            fail(f"text.{locale} lacks {missing}")


def merge_translations(folder: Path, territory: dict, service_docs: list[dict]) -> None:
    """Fold the per-locale files of `translations/{locale}/` into the territory and services.

    Each locale has a `territory.yaml` (names of areas, categories and life events) and one
    `services/{slug}.yaml` per translated service, whose `follows` records the fingerprint of the
    Italian text it was translated from (so that an editor sees when it is outdated)."""
    if not folder.is_dir():
        return
    services = {doc["slug"]: doc for doc in service_docs}
    for locale_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        locale = locale_dir.name
        if locale in COMPLETE_LOCALES:
            raise DemoDataError(f"translations/{locale}: {locale} text lives in the service files")
        names_file = locale_dir / "territory.yaml"
        names = read_yaml(names_file) if names_file.exists() else {}
        merge_territory_names(territory, names or {}, locale)
        for path in sorted((locale_dir / "services").glob("*.yaml")):
            where = f"translations/{locale}/services/{path.name}"
            doc = services.get(path.stem)
            if doc is None:
                raise DemoDataError(f"{where}: no service {path.stem}")
            text = read_yaml(path) or {}
            unknown = set(text) - set(TEXT_FIELDS) - {"follows"}
            missing = [name for name in ESSENTIAL_TEXT if not text.get(name)]
            if unknown or missing or not isinstance(text.get("follows"), str):
                raise DemoDataError(
                    f"{where}: needs `follows` and {list(ESSENTIAL_TEXT)}"
                    + (f"; lacks {missing}" if missing else "")
                    + (f"; unknown keys {sorted(unknown)}" if unknown else "")
                )
            doc["text"][locale] = text


def merge_territory_names(territory: dict, names: dict, locale: str) -> None:
    """Areas take a name; categories and life events a name and a description."""
    for slug, name in (names.get("areas") or {}).items():
        area = next((a for a in territory["areas"] if a["slug"] == slug), None)
        if area is None or not isinstance(name, str):
            raise DemoDataError(f"translations/{locale}/territory.yaml: area {slug}")
        area["name"][locale] = name
    for key in ("categories", "life_events"):
        for slug, values in (names.get(key) or {}).items():
            item = next((i for i in territory[key] if i["slug"] == slug), None)
            if item is None:
                raise DemoDataError(f"translations/{locale}/territory.yaml: {key} {slug}")
            item[locale] = values


def by_slug(model, slug: str):
    """The row with this slug, or a new one added to the session."""
    row = db.session.execute(select(model).filter_by(slug=slug)).scalar_one_or_none()
    if row is None:
        row = model(slug=slug)
        db.session.add(row)
    return row


def set_translations(owner, row_class, owner_attr: str, texts: dict) -> None:
    """Make `owner.translations` hold exactly `texts` ({locale: {field: value}})."""
    existing = {row.locale: row for row in owner.translations}
    for locale, values in texts.items():
        row = existing.get(locale)
        if row is None:
            row = row_class(locale=locale, **{owner_attr: owner})
            owner.translations.append(row)
        for name, value in values.items():
            setattr(row, name, value)
    for locale, row in existing.items():
        if locale not in texts:
            owner.translations.remove(row)


def load_territory(territory: dict) -> None:
    """Ambiti, agencies, desks with hours, comuni, areas, queues, categories, life events."""
    ambiti = {}
    for item in territory["ambiti"]:
        ambito = ambiti[item["slug"]] = by_slug(Ambito, item["slug"])
        ambito.name = item["name"]
    agencies = {}
    for item in territory["agencies"]:
        agency = agencies[item["slug"]] = by_slug(Agency, item["slug"])
        agency.name = item["name"]
        agency.legal_name = item.get("legal_name", "")
        agency.kind = item["kind"]
        for name in ("address", "website", "email", "phone"):
            setattr(agency, name, item.get(name, ""))
        agency.contacts_are_demo = bool(item.get("contacts_are_demo", False))
    desks = {}
    for item in territory["desks"]:
        desk = desks[item["slug"]] = by_slug(Desk, item["slug"])
        desk.name = item["name"]
        desk.agency = agencies[item["agency"]]
        desk.ambito = ambiti[item["ambito"]]
        for name in ("address", "city", "email", "phone"):
            setattr(desk, name, item.get(name, ""))
        desk.contacts_are_demo = bool(item.get("contacts_are_demo", False))
        desk.hours_are_demo = bool(item.get("hours_are_demo", False))
        desk.hours = [
            OpeningHours(
                weekday=slot["weekday"],
                opens=dt.time.fromisoformat(slot["opens"]),
                closes=dt.time.fromisoformat(slot["closes"]),
                by_appointment=bool(slot.get("by_appointment", False)),
            )
            for slot in item["hours"]
        ]
    for desk_slug, group in territory["comuni"].items():
        for name, population in group["names"].items():
            comune = by_slug(Comune, slugify(name))
            comune.name = name
            comune.province = group["province"]
            comune.population = population
            comune.ambito = ambiti[group["ambito"]]
            comune.desk = desks[desk_slug]
    for position, item in enumerate(territory["areas"]):
        area = by_slug(Area, item["slug"])
        area.position = position
        texts = {locale: {"name": name} for locale, name in item["name"].items()}
        set_translations(area, AreaTranslation, "area", texts)
        for desk in desks.values():
            queue = by_slug(Queue, f"{desk.slug}-{area.slug}")
            queue.desk, queue.area = desk, area
    for model, row_class, attr, key in (
        (Category, CategoryTranslation, "category", "categories"),
        (LifeEvent, LifeEventTranslation, "life_event", "life_events"),
    ):
        for position, item in enumerate(territory[key]):
            row = by_slug(model, item["slug"])
            row.icon, row.position = item["icon"], position
            texts = {loc: item[loc] for loc in item if loc not in ("slug", "icon")}
            for locale, values in texts.items():
                if set(values) != {"name", "description"}:
                    raise DemoDataError(
                        f"territory.yaml: {key} {item['slug']}.{locale} "
                        "needs exactly name and description"
                    )
            set_translations(row, row_class, attr, texts)
    db.session.flush()


def upsert_service(doc: dict, lookups: dict) -> Service:
    """Create or update one service from its demo file; `lookups` maps model -> {slug: row}."""
    service = by_slug(Service, doc["slug"])
    categories, life_events = lookups[Category], lookups[LifeEvent]
    desks, agencies = lookups[Desk], lookups[Agency]
    service.area = lookups[Area][doc["area"]]
    service.category = categories[doc["category"]]
    topics = [doc["category"], *[t for t in doc.get("topics", []) if t != doc["category"]]]
    service.topics = [categories[slug] for slug in topics]
    service.life_events = [life_events[slug] for slug in doc.get("life_events", [])]
    service.online = bool(doc["online"])
    service.status = doc["status"]
    service.login_level = LOGIN_LEVELS[doc.get("login_level", "SpidL2")]
    service.published = True
    service.channels = list(doc.get("channels", []))
    service.cost_kind = doc["cost"]
    service.processing_days = doc.get("processing_days")
    service.legal_max_days = doc.get("legal_max_days")
    service.popularity = int(doc.get("popularity", 0))
    service.last_reviewed = doc.get("last_reviewed")
    providers = doc.get("provider") or {}
    service.authority = agencies.get(providers["default"]) if "default" in providers else None
    wanted = doc["offered_by"]
    service.offerings = [o for o in service.offerings if o.desk.slug in wanted]
    for desk_slug in wanted:
        offering = next((o for o in service.offerings if o.desk.slug == desk_slug), None)
        if offering is None:
            offering = ServiceOffering(desk=desks[desk_slug])
            service.offerings.append(offering)
        provider_slug = providers.get(desk_slug) or providers.get("default")
        offering.provider_agency = agencies[provider_slug] if provider_slug else None

    digest = italian_digest(doc["text"]["it"])
    texts = {}
    for locale, values in doc["text"].items():
        row = {name: values.get(name) or "" for name in TEXT_FIELDS}
        row["keywords"] = ", ".join(str(word) for word in values.get("keywords") or [])
        row["source_digest"] = values.get("follows") or digest
        texts[locale] = row
    set_translations(service, ServiceTranslation, "service", texts)
    return service
