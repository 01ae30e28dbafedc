"""The back-office benchmark's data: a million synthetic requests made by PostgreSQL itself
(INSERT ... SELECT over generate_series, applicants by COPY), spread over the 20 queues of the
demo territory like a real PUA's history: most concluded, about 8% open."""

import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from sqlalchemy import select
from stdnum.it import codicefiscale

from portal.auth.models import StaffRole, User, utcnow
from portal.extensions import db
from portal.requests.services import CONSENT_VERSION, SLA_DAYS

SUPERVISOR = "CLMSRA66R61L826M"  # Sara Colombo, supervisor of viadana (5 queues)
ADMIN = "NRELNE77C55F205V"  # Elena Neri, administrator (all 20 queues)
DEPTH = 10_000
OPEN_SHARE = 0.08
SEED = 0.4242
# Where the requests go: the share of each area (the desks weigh by how many comuni they serve).
AREA_WEIGHTS = {
    "anziani": 0.35,
    "generale": 0.20,
    "disabilita": 0.15,
    "minori-famiglia": 0.15,
    "inclusione": 0.15,
}
PICKS = 10_000  # resolution of the weighted choice of (queue, comune, service)
TARGETS_MS = {"inbox": 50.0, "inbox_deep": 50.0, "request": 50.0, "dashboard": 300.0}
THROUGHPUT_TARGET = 0.5


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


GIVEN = _words(
    "Maria Giuseppe Anna Giovanni Rosa Antonio Angela Luigi Lucia Francesco Giovanna "
    "Mario Teresa Pietro Carla Paolo Elena Marco Franca Luca Sofia Andrea Giulia Matteo "
    "Chiara Alessandro Francesca Davide Laura Stefano Silvia Roberto Paola Simone Martina "
    "Giorgio"
)
FAMILY = _words(
    "Rossi Ferrari Russo Bianchi Romano Gallo Costa Fontana Conti Esposito Ricci Bruno "
    "Colombo Rizzo Moretti Marino Greco Barbieri Lombardi Giordano Cassani Mantovani "
    "Ferri Bertoni Guerra Zanetti Bellini Malaguti Cavalli Gatti Pagani Sartori Benedini "
    "Vezzoni"
)
STREETS = ("Via Roma", "Via Garibaldi", "Via Mazzini", "Piazza Matteotti", "Via Cavour")
PLACES = ("L826", "F804", "B110", "G489", "D959", "I632", "E897", "L020", "C118", "F205")
MONTHS = "ABCDEHLMPRST"


class BenchError(RuntimeError):
    """The benchmark cannot run (wrong database) or a page did not answer 200."""


@dataclass
class Fill:
    rows: int = 0
    users: int = 0
    seconds: dict = field(default_factory=dict)


# -- the data ---------------------------------------------------------------------------------


def require_scratch_postgresql() -> str:
    url = db.engine.url
    if db.engine.dialect.name != "postgresql":
        raise BenchError(
            "The back-office benchmark needs PostgreSQL (the database here is "
            f"{db.engine.dialect.name}): set DATABASE_URL=postgresql://postgres@127.0.0.1:5432/"
            "bench_backoffice, a scratch database (`make bench-backoffice` creates it)."
        )
    if not (url.database or "").startswith("bench"):
        raise BenchError(
            f"The benchmark adds up to millions of rows to {url.database!r}: point DATABASE_URL "
            "at a scratch database whose name starts with 'bench' (`make bench-backoffice` "
            "creates bench_backoffice)."
        )
    return url.database


def fiscal_code(rng: random.Random, number: int) -> str:
    """A well-formed fiscal code (right check character), unique for each ``number``."""
    letters = ""
    for _ in range(6):
        number, digit = divmod(number, 26)
        letters += chr(ord("A") + digit)
    day = rng.randint(1, 28) + (40 if rng.random() < 0.52 else 0)
    body = (
        f"{letters[::-1]}{rng.randint(0, 99):02d}{rng.choice(MONTHS)}{day:02d}{rng.choice(PLACES)}"
    )
    return body + codicefiscale.calc_check_digit(body)


def ensure_staff_users(staff_file: str) -> dict[str, User]:
    """A user row for every demo staff member (they are normally made at their first login)."""
    names = {}
    if Path(staff_file).is_file():
        for entry in (yaml.safe_load(Path(staff_file).read_text()) or {}).get("staff") or []:
            names[entry["fiscal_number"]] = entry.get("name", "")
    numbers = set(db.session.scalars(select(StaffRole.fiscal_number)))
    users = {}
    for number in sorted(numbers):
        user = db.session.scalar(select(User).filter_by(fiscal_number=number))
        if user is None:
            given, _, family = names.get(number, "Staff Member").partition(" ")
            user = User(fiscal_number=number, given_name=given, family_name=family)
            db.session.add(user)
        users[number] = user
    db.session.commit()
    return users


def fill_users(cursor, wanted: int, rng: random.Random) -> int:
    """Applicants (citizens) up to ``wanted``, by COPY; returns how many were added."""
    cursor.execute(
        "SELECT count(*) FROM app_user WHERE fiscal_number NOT IN "
        "(SELECT fiscal_number FROM staff_role)"
    )
    have = cursor.fetchone()[0]
    missing = max(0, wanted - have)
    if not missing:
        return 0
    cursor.execute(
        "CREATE TEMP TABLE bench_new_user (fiscal_number text, given_name text, "
        "family_name text, email text) ON COMMIT DROP"
    )
    now = utcnow()
    with cursor.copy(
        "COPY bench_new_user (fiscal_number, given_name, family_name, email) FROM STDIN"
    ) as copy:
        for number in range(have, have + missing):
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
            email = f"{given}.{family}.{number}@example.org".lower()
            # offset: never the code of a real test identity or of the staff
            copy.write_row((fiscal_code(rng, 200_000 + number), given, family, email))
    cursor.execute(
        "INSERT INTO app_user (fiscal_number, given_name, family_name, email, created_at) "
        "SELECT fiscal_number, given_name, family_name, email, %s FROM bench_new_user "
        "ON CONFLICT (fiscal_number) DO NOTHING",
        (now,),
    )
    return cursor.rowcount


def combinations(cursor) -> list[tuple]:
    """Every (queue, comune, online service) the routing would join, with its weight."""
    cursor.execute(
        """
        SELECT q.id, q.desk_id, d.slug, upper(left(d.slug, 3)), a.slug, c.id, c.slug, c.name,
               s.id, f.form_id
        FROM queue q
        JOIN desk d ON d.id = q.desk_id
        JOIN area a ON a.id = q.area_id
        JOIN comune c ON c.desk_id = q.desk_id
        JOIN service s ON s.area_id = q.area_id AND s.online
        JOIN service_offering so ON so.service_id = s.id AND so.desk_id = q.desk_id
        JOIN (SELECT service_id, max(id) AS form_id FROM service_form GROUP BY service_id) f
          ON f.service_id = s.id
        ORDER BY q.id, c.id, s.id
        """
    )
    rows = cursor.fetchall()
    services = {}
    for row in rows:
        services.setdefault((row[0], row[5]), set()).add(row[8])
    weighted = []
    for row in rows:
        # Each comune weighs the same (a desk weighs by its comuni); the area by AREA_WEIGHTS.
        weight = AREA_WEIGHTS.get(row[4], 0.15) / len(services[(row[0], row[5])])
        weighted.append((*row, weight))
    return weighted


def picks(weights: list[float]) -> list[int]:
    """Indices repeated in proportion to ``weights``: a uniform pick is a weighted one."""
    total = sum(weights)
    counts = [w / total * PICKS for w in weights]
    whole = [int(c) for c in counts]
    order = sorted(range(len(weights)), key=lambda i: counts[i] - whole[i], reverse=True)
    for i in order[: PICKS - sum(whole)]:
        whole[i] += 1
    return [i for i, n in enumerate(whole) for _ in range(n)]


SHAPE_SQL = """
CREATE TEMP TABLE bench_shaped ON COMMIT DROP AS
SELECT b.g, c.*, b.person, b.other_person, o.is_open, o.state, t.submitted_at,
       extract(year FROM t.submitted_at)::int AS yr,
       f.has_charge, f.has_assess, f.has_project,
       CASE WHEN o.is_open THEN t.submitted_at + (%(now)s - t.submitted_at) * (0.4 * b.r1)
            ELSE least(t.submitted_at + interval '1 hour' + interval '5 days' * b.r1 * b.r1,
                       %(now)s) END AS t_charge,
       b.r2, b.r3, b.r4, b.r5, b.r6, b.r7, b.r8, b.r9, b.r10, b.r11, b.r12
FROM bench_rows b
JOIN bench_combo c ON c.idx = b.combo
CROSS JOIN LATERAL (
    SELECT b.r_open < %(open_share)s AS is_open,
           CASE WHEN b.r_open < %(open_share)s THEN
               CASE WHEN b.r_state < 0.35 THEN 'submitted'
                    WHEN b.r_state < 0.60 THEN 'in_charge'
                    WHEN b.r_state < 0.78 THEN 'assessment'
                    WHEN b.r_state < 0.95 THEN 'waiting_citizen'
                    ELSE 'rerouted' END
           ELSE
               CASE WHEN b.r_state < 0.50 THEN 'closed'
                    WHEN b.r_state < 0.80 THEN 'project_defined'
                    WHEN b.r_state < 0.90 THEN 'rejected'
                    ELSE 'withdrawn' END
           END AS state
) o
CROSS JOIN LATERAL (
    SELECT date_trunc('second', %(now)s - CASE
        -- open: mostly the last weeks (some past the deadline), a few forgotten for months
        WHEN o.is_open AND b.r_age < 0.95 THEN interval '50 days' * power(b.r_when, 1.6)
        WHEN o.is_open THEN interval '60 days' + interval '300 days' * b.r_when
        -- concluded: any time in the last three years, the most recent three weeks excluded
        ELSE interval '20 days' + interval '1075 days' * b.r_when
    END) AS submitted_at
) t
CROSS JOIN LATERAL (
    SELECT o.state NOT IN ('submitted', 'rerouted')
               AND NOT (o.state = 'withdrawn' AND b.r5 >= 0.4) AS has_charge,
           o.state IN ('assessment', 'project_defined')
               OR (o.state = 'waiting_citizen' AND b.r6 < 0.5)
               OR (o.state = 'closed' AND b.r5 < 0.95)
               OR (o.state = 'rejected' AND b.r5 < 0.6) AS has_assess,
           o.state = 'project_defined'
               OR (o.state = 'closed' AND b.r5 < 0.95 AND b.r6 < 0.7) AS has_project
) f
"""

TIMES_SQL = """
CREATE TEMP TABLE bench_timed ON COMMIT DROP AS
SELECT s.*, a.t_assess, p.t_project,
       CASE WHEN s.is_open AND s.state = 'waiting_citizen'
            THEN CASE WHEN s.has_assess THEN a.t_assess ELSE s.t_charge END
                 + (%(now)s - CASE WHEN s.has_assess THEN a.t_assess ELSE s.t_charge END)
                 * s.r3 END AS t_pause,
       CASE s.state
            WHEN 'closed' THEN least(coalesce(p.t_project, a.t_assess, s.t_charge)
                                     + interval '1 day' + interval '20 days' * s.r4, %(now)s)
            WHEN 'rejected' THEN least(coalesce(a.t_assess, s.t_charge)
                                       + interval '1 day' + interval '10 days' * s.r4, %(now)s)
            WHEN 'withdrawn' THEN least(s.submitted_at + interval '12 days' * s.r4, %(now)s)
       END AS t_close,
       CASE WHEN NOT (s.is_open AND s.state = 'waiting_citizen') AND s.r10 < 0.12
            THEN 1 + floor(s.r10 * 150)::int ELSE 0 END AS paused_days
FROM bench_shaped s
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.is_open THEN s.t_charge + (%(now)s - s.t_charge) * (0.6 * s.r2)
                ELSE least(s.t_charge + interval '1 day' + interval '12 days' * s.r2, %(now)s)
           END AS t_assess
) a
CROSS JOIN LATERAL (
    SELECT least(a.t_assess + interval '2 days' + interval '32 days' * power(s.r3, 1.5),
                 %(now)s) AS t_project
) p
"""

INSERT_SQL = """
INSERT INTO request (
    reference, idempotency_key, service_id, service_form_id, applicant_id, for_self,
    beneficiary_given_name, beneficiary_family_name, beneficiary_fiscal_code,
    beneficiary_birth_date, relationship_to_applicant, comune_id, contact_email, contact_phone,
    answers, lang, state, queue_id, routing_rule, consent_version, consent_at, submitted_at,
    deadline, closed_at, assigned_to_id, paused_since, paused_days, state_before_pause,
    in_charge_at, assessed_at, uvm_date, uvm_team, project_defined_at, case_manager,
    project_agreed, outcome, version, satisfaction, satisfaction_comment)
SELECT
    'PUA-' || s.code || '-' || s.yr || '-' || lpad((coalesce(rc.last, 0) + s.number)::text, 6, '0'),
    md5((%(base)s + s.g)::text),
    s.service_id, s.form_id, p.id, s.for_self,
    CASE WHEN s.for_self THEN p.given_name ELSE o.given_name END,
    CASE WHEN s.for_self THEN p.family_name ELSE o.family_name END,
    CASE WHEN s.for_self THEN p.fiscal_number ELSE o.fiscal_number END,
    CASE WHEN NOT s.for_self THEN date '1925-01-01' + (s.r12 * 36000)::int END,
    CASE WHEN NOT s.for_self
         THEN (ARRAY['child', 'parent', 'spouse', 'sibling', 'other_relative', 'guardian',
                     'neighbour', 'professional', 'other'])[1 + floor(s.r11 * 9)::int] END,
    s.comune_id,
    lower(p.given_name || '.' || p.family_name || '@example.org'),
    CASE WHEN s.r9 < 0.6 THEN '+39 3' || lpad((floor(s.r9 * 1e9))::bigint::text, 9, '0') END,
    json_build_object(
        'for_whom', CASE WHEN s.for_self THEN 'self' ELSE 'other' END,
        'residence_comune', s.comune_slug,
        'residence_address', json_build_object(
            'street', (ARRAY%(streets)s)[1 + floor(s.r8 * 5)::int] || ' ' || (1 + s.g %% 90),
            'postcode', '46' || lpad((s.comune_id * 7 %% 1000)::text, 3, '0'),
            'municipality', s.comune_name),
        'contact_email', lower(p.given_name || '.' || p.family_name || '@example.org')),
    CASE WHEN s.r12 < 0.9 THEN 'it' ELSE 'en' END,
    s.state, s.queue_id,
    'default: the PUA serving ' || s.comune_slug || ' (' || s.desk_slug || '), area '
        || s.area_slug,
    %(consent)s, s.submitted_at, s.submitted_at,
    s.submitted_at::date + %(sla)s + s.paused_days,
    s.t_close,
    CASE WHEN s.has_charge THEN ds.ids[1 + floor(s.r9 * cardinality(ds.ids))::int] END,
    s.t_pause, s.paused_days,
    CASE WHEN s.t_pause IS NOT NULL
         THEN CASE WHEN s.has_assess THEN 'assessment' ELSE 'in_charge' END END,
    CASE WHEN s.has_charge THEN s.t_charge END,
    CASE WHEN s.has_assess THEN s.t_assess END,
    CASE WHEN s.has_assess THEN (s.t_assess + interval '3 days' * s.r7)::date END,
    CASE WHEN s.has_assess THEN 'UVM ' || s.desk_slug END,
    CASE WHEN s.has_project THEN s.t_project END,
    CASE WHEN s.has_project THEN (ARRAY%(family)s)[1 + floor(s.r11 * %(families)s)::int] END,
    CASE WHEN s.has_project THEN s.r8 < 0.92 END,
    CASE s.state WHEN 'closed' THEN 'Intervento concluso.'
                 WHEN 'rejected' THEN 'Requisiti non soddisfatti.' END,
    1 + s.has_charge::int + s.has_assess::int + s.has_project::int
      + (s.t_close IS NOT NULL)::int + (s.t_pause IS NOT NULL)::int,
    CASE WHEN s.state IN ('closed', 'project_defined') AND s.r7 < 0.35
         THEN 1 + least(4, floor(power(s.r6, 0.5) * 5))::int END,
    NULL
FROM (
    SELECT t.*, t.r10 >= 0.3 AS for_self,
           row_number() OVER (PARTITION BY t.desk_id, t.yr ORDER BY t.submitted_at, t.g) AS number
    FROM bench_timed t
) s
LEFT JOIN reference_counter rc ON rc.desk_id = s.desk_id AND rc.year = s.yr
LEFT JOIN bench_desk_staff ds ON ds.desk_id = s.desk_id
JOIN bench_people p ON p.n = s.person
JOIN bench_people o ON o.n = s.other_person
ORDER BY s.submitted_at, s.g
"""


def fill(requests: int, users: int, echo) -> Fill:
    """Add ``requests`` synthetic requests (and applicants up to ``users``); VACUUM ANALYZE."""
    result = Fill()
    rng = random.Random(7)
    now = utcnow().replace(microsecond=0)
    raw = db.engine.raw_connection()
    try:
        cursor = raw.driver_connection.cursor()
        cursor.execute("SET LOCAL work_mem = '256MB'")
        # A million rows would queue a million inbox-version bumps for the commit: bump once.
        cursor.execute("ALTER TABLE request DISABLE TRIGGER request_inbox_version")
        started = time.perf_counter()
        result.users = fill_users(cursor, users, rng)
        result.seconds["applicants"] = time.perf_counter() - started

        step = time.perf_counter()
        combos = combinations(cursor)
        if not combos:
            raise BenchError("No queue, comune and online service: run `flask demo load` first.")
        cursor.execute(
            "CREATE TEMP TABLE bench_combo (idx int PRIMARY KEY, queue_id int, desk_id int, "
            "desk_slug text, code text, area_slug text, comune_id int, comune_slug text, "
            "comune_name text, service_id int, form_id int) ON COMMIT DROP"
        )
        cursor.executemany(
            "INSERT INTO bench_combo VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(i, *row[:10]) for i, row in enumerate(combos)],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_desk_staff ON COMMIT DROP AS "
            "SELECT r.desk_id, array_agg(DISTINCT u.id ORDER BY u.id) AS ids "
            "FROM staff_role r JOIN app_user u ON u.fiscal_number = r.fiscal_number "
            "WHERE r.role IN ('operator', 'supervisor') AND r.desk_id IS NOT NULL "
            "GROUP BY r.desk_id"
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_people ON COMMIT DROP AS "
            "SELECT (row_number() OVER (ORDER BY id) - 1)::int AS n, id, given_name, "
            "family_name, fiscal_number FROM app_user "
            "WHERE fiscal_number NOT IN (SELECT fiscal_number FROM staff_role)"
        )
        cursor.execute("CREATE UNIQUE INDEX ON bench_people (n)")
        cursor.execute("SELECT count(*) FROM bench_people")
        people = cursor.fetchone()[0]
        cursor.execute("SELECT coalesce(max(id), 0) FROM request")
        base = cursor.fetchone()[0]
        cursor.execute("SELECT setseed(%s)", (SEED,))
        cursor.execute(
            "CREATE TEMP TABLE bench_rows ON COMMIT DROP AS "
            "SELECT g, (%(picks)s::int[])[1 + floor(random() * %(npicks)s)::int] AS combo, "
            "floor(random() * %(people)s)::int AS person, "
            "floor(random() * %(people)s)::int AS other_person, "
            "random() AS r_open, random() AS r_state, random() AS r_age, random() AS r_when, "
            + ", ".join(f"random() AS r{i}" for i in range(1, 13))
            + " FROM generate_series(1, %(n)s) AS g",
            {
                "picks": picks([row[-1] for row in combos]),
                "npicks": PICKS,
                "people": people,
                "n": requests,
            },
        )
        params = {"now": now, "open_share": OPEN_SHARE}
        cursor.execute(SHAPE_SQL, params)
        cursor.execute(TIMES_SQL, params)
        result.seconds["shape"] = time.perf_counter() - step

        step = time.perf_counter()
        cursor.execute(
            INSERT_SQL.replace("%(streets)s", _array(STREETS)).replace(
                "%(family)s", _array(FAMILY)
            ),
            {
                "base": base,
                "consent": CONSENT_VERSION,
                "sla": SLA_DAYS,
                "families": len(FAMILY),
            },
        )
        result.rows = cursor.rowcount
        cursor.execute(
            "INSERT INTO reference_counter (desk_id, year, last) "
            "SELECT desk_id, yr, count(*) FROM bench_shaped GROUP BY desk_id, yr "
            "ON CONFLICT (desk_id, year) DO UPDATE "
            "SET last = reference_counter.last + EXCLUDED.last"
        )
        result.seconds["requests"] = time.perf_counter() - step

        step = time.perf_counter()
        cursor.execute(
            "INSERT INTO request_event (request_id, at, actor_id, kind, to_state, public, detail) "
            "SELECT r.id, r.submitted_at, r.applicant_id, 'submitted', 'submitted', true, "
            "json_build_object('queue', q.slug, 'rule', r.routing_rule) "
            "FROM request r JOIN queue q ON q.id = r.queue_id WHERE r.id > %s ORDER BY r.id",
            (base,),
        )
        result.seconds["events"] = time.perf_counter() - step
        cursor.execute("ALTER TABLE request ENABLE TRIGGER request_inbox_version")
        cursor.execute("UPDATE queue SET inbox_version = inbox_version + 1")
        raw.commit()

        step = time.perf_counter()
        raw.driver_connection.autocommit = True
        # The whole database (the small catalog tables too, or the planner guesses their size)
        # and VACUUM as autovacuum soon would: index-only scans need the visibility map.
        cursor.execute("VACUUM (ANALYZE)")
        raw.driver_connection.autocommit = False
        result.seconds["analyze"] = time.perf_counter() - step
        result.seconds["total"] = time.perf_counter() - started
    finally:
        raw.close()
    return result


def _array(values) -> str:
    """A SQL array literal of fixed strings (ours, not user input)."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"
