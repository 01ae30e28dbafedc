"""The territory: ambiti, comuni, agencies (enti), PUA desks with their hours, and queues."""

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.extensions import db


class Ambito(db.Model):
    """A social-planning district (Ambito territoriale) grouping comuni under one Piano di Zona."""

    __tablename__ = "ambito"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    comuni: Mapped[list["Comune"]] = relationship(back_populates="ambito")


class Agency(db.Model):
    """A public body (ente) that runs or delivers services: azienda speciale, ASST, ATS, INPS."""

    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_name: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(300), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    # Demo data must say so wherever it is shown: these are not real contacts.
    contacts_are_demo: Mapped[bool] = mapped_column(Boolean, default=False)


class Desk(db.Model):
    """A PUA (Punto Unico di Accesso) desk: one per agency, serving a fixed set of comuni."""

    __tablename__ = "desk"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    ambito_id: Mapped[int] = mapped_column(ForeignKey("ambito.id"))
    address: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(60), default="")
    contacts_are_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    hours_are_demo: Mapped[bool] = mapped_column(Boolean, default=False)

    agency: Mapped[Agency] = relationship(lazy="joined")
    ambito: Mapped[Ambito] = relationship()
    comuni: Mapped[list["Comune"]] = relationship(back_populates="desk", order_by="Comune.name")
    hours: Mapped[list["OpeningHours"]] = relationship(
        back_populates="desk",
        cascade="all, delete-orphan",
        order_by="(OpeningHours.weekday, OpeningHours.opens)",
        lazy="selectin",
    )
    queues: Mapped[list["Queue"]] = relationship(back_populates="desk")

    def hours_on(self, weekday: int) -> list["OpeningHours"]:
        """Opening intervals on a weekday (0 = Monday)."""
        return [slot for slot in self.hours if slot.weekday == weekday]


class OpeningHours(db.Model):
    """One opening interval of a desk on a weekday (0 = Monday)."""

    __tablename__ = "opening_hours"
    id: Mapped[int] = mapped_column(primary_key=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)
    opens: Mapped[dt.time] = mapped_column(Time)
    closes: Mapped[dt.time] = mapped_column(Time)
    by_appointment: Mapped[bool] = mapped_column(Boolean, default=False)
    desk: Mapped[Desk] = relationship(back_populates="hours")


class Comune(db.Model):
    """A municipality; its residents are served by exactly one PUA desk."""

    __tablename__ = "comune"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    province: Mapped[str] = mapped_column(String(2))
    population: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ambito_id: Mapped[int] = mapped_column(ForeignKey("ambito.id"))
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))

    ambito: Mapped[Ambito] = relationship(back_populates="comuni")
    desk: Mapped[Desk] = relationship(back_populates="comuni", lazy="joined")


class Queue(db.Model):
    """A PUA work queue (`{pua}-{area}`) where requests wait for staff."""

    __tablename__ = "queue"
    __table_args__ = (UniqueConstraint("desk_id", "area_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    desk_id: Mapped[int] = mapped_column(ForeignKey("desk.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    # Bumped by the database (migration 0007) whenever one of the queue's requests changes:
    # the back office's cached inbox listings are valid while the versions they saw hold.
    inbox_version: Mapped[int] = mapped_column(BigInteger, server_default="0", default=0)

    desk: Mapped[Desk] = relationship(back_populates="queues")
    area: Mapped["Area"] = relationship()  # noqa: F821  (resolved by name in the registry)
