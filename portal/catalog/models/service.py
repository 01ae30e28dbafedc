"""Services of the catalog (CPSV-AP public services) and their text per locale."""

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalog.models.taxonomy import Area, Category, LifeEvent
from portal.catalog.models.territory import Agency, Desk
from portal.catalog.models.translated import FALLBACK_LOCALE, TranslationRow, fallback_chain
from portal.extensions import db

# The card's sections in the order of the Designers Italia model for service pages.
SECTION_FIELDS = (
    "audience",  # A chi è rivolto
    "how_to",  # Come fare
    "documents",  # Cosa serve
    "outputs",  # Cosa si ottiene
    "times",  # Tempi e scadenze
    "costs",  # Quanto costa
    "access",  # Accedi al servizio
    "conditions",  # Condizioni di servizio
)
TEXT_FIELDS = ("title", "summary", "audience_short", "keywords", *SECTION_FIELDS, "status_reason")

CHANNELS = ("online", "desk", "phone", "email", "home-visit")
COST_KINDS = ("free", "income-based", "fixed")

service_topic = Table(
    "service_topic",
    db.metadata,
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Column("category_id", ForeignKey("category.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
)

service_life_event = Table(
    "service_life_event",
    db.metadata,
    Column("service_id", ForeignKey("service.id", ondelete="CASCADE"), primary_key=True),
    Column("life_event_id", ForeignKey("life_event.id", ondelete="CASCADE"), primary_key=True),
)


class Service(db.Model):
    """A public service of the catalog, with its CPSV-AP properties."""

    __tablename__ = "service"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id"))
    # Competent authority when one agency answers for every comune; else the desk's agency.
    authority_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True)
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    # The SPID/CIE level (acr) a person must log in with to request this service online.
    login_level: Mapped[str] = mapped_column(
        String(100),
        default="https://www.spid.gov.it/SpidL2",
        server_default="https://www.spid.gov.it/SpidL2",
    )
    status: Mapped[str] = mapped_column(String(20), default="active")
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    cost_kind: Mapped[str] = mapped_column(String(20), default="free")
    processing_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    legal_max_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    popularity: Mapped[int] = mapped_column(Integer, default=0)
    last_reviewed: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    area: Mapped[Area] = relationship(lazy="joined")
    category: Mapped[Category] = relationship(lazy="joined")
    authority: Mapped[Agency | None] = relationship()
    topics: Mapped[list[Category]] = relationship(
        secondary=service_topic, order_by=service_topic.c.position
    )
    life_events: Mapped[list[LifeEvent]] = relationship(secondary=service_life_event)
    offerings: Mapped[list["ServiceOffering"]] = relationship(
        back_populates="service", cascade="all, delete-orphan", lazy="selectin"
    )
    translations: Mapped[list["ServiceTranslation"]] = relationship(
        back_populates="service", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    def offering_for(self, desk: Desk) -> "ServiceOffering | None":
        return next((o for o in self.offerings if o.desk_id == desk.id), None)

    def text(self, locale: str) -> "ServiceText":
        """The service's text for a reader of `locale`, each field falling back to Italian."""
        rows = {row.locale: row for row in self.translations}
        values, fallen_back = {}, set()
        for name in TEXT_FIELDS:
            for code in fallback_chain(locale):
                value = getattr(rows[code], name, "") if code in rows else ""
                if value:
                    values[name] = value
                    if code != locale:
                        fallen_back.add(name)
                    break
            else:
                values[name] = ""
        return ServiceText(
            locale=locale,
            translated=locale != FALLBACK_LOCALE and locale in rows,
            fallback_fields=frozenset(fallen_back),
            **values,
        )


@dataclass(frozen=True)
class ServiceText:
    """What a reader sees of a service in one locale; `fallback_fields` are shown in Italian."""

    locale: str
    translated: bool
    fallback_fields: frozenset = field(default_factory=frozenset)
    title: str = ""
    summary: str = ""
    audience_short: str = ""
    keywords: str = ""
    audience: str = ""
    how_to: str = ""
    documents: str = ""
    outputs: str = ""
    times: str = ""
    costs: str = ""
    access: str = ""
    conditions: str = ""
    status_reason: str = ""

    def lang_of(self, name: str) -> str:
        """The language a field is actually written in (for the `lang` attribute)."""
        return FALLBACK_LOCALE if name in self.fallback_fields else self.locale


class ServiceTranslation(TranslationRow, db.Model):
    """A service's text in one locale; empty fields fall back to the Italian row."""

    __tablename__ = "service_translation"
    __table_args__ = (UniqueConstraint("service_id", "locale"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    audience_short: Mapped[str] = mapped_column(String(300), default="")
    keywords: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[str] = mapped_column(Text, default="")
    how_to: Mapped[str] = mapped_column(Text, default="")
    documents: Mapped[str] = mapped_column(Text, default="")
    outputs: Mapped[str] = mapped_column(Text, default="")
    times: Mapped[str] = mapped_column(Text, default="")
    costs: Mapped[str] = mapped_column(Text, default="")
    access: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    status_reason: Mapped[str] = mapped_column(Text, default="")
    # Digest of the Italian text this translation was made from: tells when it is outdated.
    source_digest: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
    service: Mapped[Service] = relationship(back_populates="translations")


class ServiceOffering(db.Model):
    """A desk offers the service to the comuni it serves; `provider` delivers it there."""

    __tablename__ = "service_offering"
    __table_args__ = (UniqueConstraint("service_id", "desk_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True)

    service: Mapped[Service] = relationship(back_populates="offerings")
    desk: Mapped[Desk] = relationship(lazy="joined")
    provider_agency: Mapped[Agency | None] = relationship(lazy="joined")

    @property
    def provider(self) -> Agency:
        return self.provider_agency or self.desk.agency


class ServiceFeedback(db.Model):
    """One anonymous answer to "was this page clear?" (1-5) on a service card."""

    __tablename__ = "service_feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("service.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(10))
    rating: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
