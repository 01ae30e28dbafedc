"""Reference numbers under concurrency: unique, never reused, gap-tolerant.

Real transactions on their own connections, committed for real and removed afterwards: the
per-test rollback of the other tests cannot show what two workers do at the same moment."""

import threading

import pytest
from sqlalchemy import create_engine, delete, select
from sqlalchemy.orm import Session

from portal.catalog.models import Desk
from portal.extensions import db
from portal.requests.models import ReferenceCounter
from portal.requests.services import next_reference

WORKERS = 8
EACH = 10


def test_concurrent_submissions_never_share_a_reference(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks across connections are a PostgreSQL matter; SQLite serialises")
    engine = create_engine(app.config["SQLALCHEMY_DATABASE_URI"], pool_size=WORKERS)
    desk_id = db.session.scalar(select(Desk.id).where(Desk.slug == "ostiglia"))
    year = 2999
    references: list[str] = []
    failures: list[BaseException] = []
    start = threading.Barrier(WORKERS)

    def worker(rolls_back: bool):
        try:
            start.wait()
            for number in range(EACH):
                with Session(engine) as session:
                    desk = session.get(Desk, desk_id)
                    reference = next_reference(desk, year, session=session)
                    if rolls_back and number % 3 == 0:
                        session.rollback()  # a submission that failed: its number is a gap
                    else:
                        session.commit()
                        references.append(reference)
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(i % 2 == 0,)) for i in range(WORKERS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not failures, failures
        assert len(references) == len(set(references))
        numbers = sorted(int(r.rsplit("-", 1)[1]) for r in references)
        assert numbers[-1] <= WORKERS * EACH
        assert all(r.startswith(f"PUA-OST-{year}-") for r in references)
    finally:
        with Session(engine) as session:
            session.execute(delete(ReferenceCounter).where(ReferenceCounter.year == year))
            session.commit()
        engine.dispose()
