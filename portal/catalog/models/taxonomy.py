"""How services are classified: queue areas, citizen-facing categories, life events."""

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.catalog.models.translated import Translatable, TranslationRow
from portal.extensions import db


class Area(Translatable, db.Model):
    """A policy area; each PUA has one queue per area (`{pua}-{area}`)."""

    __tablename__ = "area"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    position: Mapped[int] = mapped_column(default=0)
    translations: Mapped[list["AreaTranslation"]] = relationship(
        back_populates="area", cascade="all, delete-orphan", lazy="selectin"
    )


class AreaTranslation(TranslationRow, db.Model):
    __tablename__ = "area_translation"
    __table_args__ = (UniqueConstraint("area_id", "locale"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    area: Mapped[Area] = relationship(back_populates="translations")


class Category(Translatable, db.Model):
    """A topic citizens browse by ("Argomenti"); a service has one primary category and topics."""

    __tablename__ = "category"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    icon: Mapped[str] = mapped_column(String(60), default="it-folder")
    position: Mapped[int] = mapped_column(default=0)
    translations: Mapped[list["CategoryTranslation"]] = relationship(
        back_populates="category", cascade="all, delete-orphan", lazy="selectin"
    )


class CategoryTranslation(TranslationRow, db.Model):
    __tablename__ = "category_translation"
    __table_args__ = (UniqueConstraint("category_id", "locale"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("category.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[Category] = relationship(back_populates="translations")


class LifeEvent(Translatable, db.Model):
    """A moment of life that brings people to the services ("eventi della vita")."""

    __tablename__ = "life_event"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    icon: Mapped[str] = mapped_column(String(60), default="it-calendar")
    position: Mapped[int] = mapped_column(default=0)
    translations: Mapped[list["LifeEventTranslation"]] = relationship(
        back_populates="life_event", cascade="all, delete-orphan", lazy="selectin"
    )


class LifeEventTranslation(TranslationRow, db.Model):
    __tablename__ = "life_event_translation"
    __table_args__ = (UniqueConstraint("life_event_id", "locale"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    life_event_id: Mapped[int] = mapped_column(ForeignKey("life_event.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    life_event: Mapped[LifeEvent] = relationship(back_populates="translations")
