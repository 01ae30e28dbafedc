"""Search benchmark: a synthetic catalog of N services across many comuni, indexed by Whoosh
and, on the same corpus, by SQLite FTS5; prints build time, size, query latencies and the
latency of one incremental update. Figures, not assertions: run it with `make bench`."""

import random
import re
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import yaml

from portal.catalog.demo_data import read_yaml
from portal.catalog.models.service import SECTION_FIELDS
from portal.search import services as search_service
from portal.search.analysis import fold
from portal.search.evaluation import DEFAULT_JUDGEMENTS
from portal.search.index import SearchIndex, locale_fields

SENTENCE = re.compile(r"(?<=[.;:!?])\s+|\n+")
LOCALES = ("it", "en")
DISTRICT_WORDS = ("Nord", "Sud", "Est", "Ovest", "Centro", "Valle", "Piana", "Colline")


@dataclass
class Corpus:
    documents: list[dict]
    comuni: list[str]


def _sentences(text: str) -> list[str]:
    return [s.strip(" -*0123456789.") for s in SENTENCE.split(text) if len(s.strip()) > 30]


def _pools(demo_dir: Path) -> dict:
    """Sentences and titles of the real demo cards, per locale and area."""
    pools = {}
    for path in sorted((demo_dir / "services").glob("*.yaml")):
        doc = read_yaml(path)
        for locale in LOCALES:
            text = doc["text"][locale]
            pool = pools.setdefault(
                (locale, doc["area"]), {"titles": [], "sentences": [], "keywords": []}
            )
            pool["titles"].append(text["title"])
            pool["keywords"].extend(str(k) for k in text["keywords"])
            for name in ("summary", *SECTION_FIELDS):
                pool["sentences"].extend(_sentences(text[name]))
    return pools


def synthetic_corpus(demo_dir: Path, services: int, comuni: int, seed: int = 7) -> Corpus:
    """Services written from the demo cards' sentences, each offered by 1-4 of comuni/15 desks."""
    rng = random.Random(seed)
    pools = _pools(demo_dir)
    areas = sorted({area for _locale, area in pools})
    comune_slugs = [f"comune-{i:04d}" for i in range(comuni)]
    desks = [comune_slugs[i : i + 15] for i in range(0, comuni, 15)]
    documents = []
    for number in range(services):
        area = rng.choice(areas)
        served = sorted({c for _ in range(rng.randint(1, 4)) for c in rng.choice(desks)})
        doc = {
            "slug": f"servizio-{number:06d}",
            "category": area,
            "topics": area,
            "area": area,
            "comuni": ",".join(served),
            "life_events": "",
            "popularity": rng.randint(0, 100),
        }
        place = f"{rng.choice(DISTRICT_WORDS)} {number % 997}"
        for locale in LOCALES:
            pool = pools[(locale, area)]
            body = " ".join(rng.sample(pool["sentences"], 6))
            summary = " ".join(rng.sample(pool["sentences"], 2))
            keywords = ", ".join(rng.sample(pool["keywords"], 5))
            title = f"{rng.choice(pool['titles'])} - {place}"
            doc.update(locale_fields(locale, title, keywords, summary, body))
        documents.append(doc)
    return Corpus(documents=documents, comuni=comune_slugs)


def _misspell(rng: random.Random, text: str) -> str:
    words = text.split()
    long_words = [i for i, w in enumerate(words) if len(w) > 5]
    if not long_words:
        return text
    i = rng.choice(long_words)
    j = rng.randrange(1, len(words[i]) - 1)
    words[i] = words[i][:j] + words[i][j + 1 :]
    return " ".join(words)


def query_mix(corpus: Corpus, count: int, seed: int = 11) -> list[tuple[str, str, str | None]]:
    """(kind, text, comune): plain and filtered queries from the judged set, and misspellings."""
    rng = random.Random(seed)
    judged = yaml.safe_load(Path(DEFAULT_JUDGEMENTS).read_text(encoding="utf-8"))
    texts = [(item["q"], item["lang"]) for item in judged]
    mix = []
    for i in range(count):
        text, lang = texts[i % len(texts)]
        kind = ("plain", "filtered", "fuzzy")[i % 3]
        if kind == "filtered":
            mix.append((kind, lang, text, rng.choice(corpus.comuni)))
        elif kind == "fuzzy":
            mix.append((kind, lang, _misspell(rng, text), None))
        else:
            mix.append((kind, lang, text, None))
    return mix


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def directory_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def bench_whoosh(app, corpus: Corpus, queries, workdir: Path, echo) -> dict:
    index = SearchIndex(str(workdir / "whoosh"), LOCALES)
    app.extensions["search_index"] = index
    started = time.perf_counter()
    index.rebuild_from_documents(iter(corpus.documents))
    build = time.perf_counter() - started
    echo(f"whoosh: indexed {len(corpus.documents)} services in {build:.1f} s")
    latencies: dict[str, list[float]] = {"plain": [], "filtered": [], "fuzzy": []}
    cache = app.extensions["search_cache"]
    for kind, lang, text, comune in queries:
        cache.clear()  # measure the engine, not the result cache
        started = time.perf_counter()
        search_service.search(text, lang, comune=comune)
        latencies[kind].append((time.perf_counter() - started) * 1000)
    cached = []
    for _kind, lang, text, comune in queries:  # a query asked again is served from the cache
        search_service.search(text, lang, comune=comune)
        started = time.perf_counter()
        search_service.search(text, lang, comune=comune)
        cached.append((time.perf_counter() - started) * 1000)
    document = dict(corpus.documents[0])
    document["head_it"] += " parolachiaveunica"
    started = time.perf_counter()
    index.update([document], [])
    cache.clear()
    found = search_service.search("parolachiaveunica", "it")
    update = (time.perf_counter() - started) * 1000
    assert found.hits and found.hits[0].slug == document["slug"]
    return {
        "build_s": build,
        "size_mb": directory_size(workdir / "whoosh") / 2**20,
        "latencies": latencies,
        "cached": cached,
        "update_ms": update,
    }


def bench_fts5(corpus: Corpus, queries, workdir: Path, echo) -> dict:
    path = workdir / "fts5.sqlite3"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE VIRTUAL TABLE fts USING fts5(slug UNINDEXED, head, text, "
        "tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute("CREATE TABLE service_comune (slug TEXT, comune TEXT)")
    started = time.perf_counter()
    with db:
        for doc in corpus.documents:
            db.execute(
                "INSERT INTO fts VALUES (?, ?, ?)",
                (
                    doc["slug"],
                    " ".join(doc[f"head_{loc}"] for loc in LOCALES),
                    " ".join(doc[f"text_{loc}"] for loc in LOCALES),
                ),
            )
            db.executemany(
                "INSERT INTO service_comune VALUES (?, ?)",
                [(doc["slug"], c) for c in doc["comuni"].split(",")],
            )
        db.execute("CREATE INDEX ix_service_comune ON service_comune (comune, slug)")
    build = time.perf_counter() - started
    echo(f"fts5: indexed {len(corpus.documents)} services in {build:.1f} s")
    latencies: dict[str, list[float]] = {"plain": [], "filtered": [], "fuzzy": []}
    for kind, _lang, text, comune in queries:
        terms = [f'"{t}"' for t in fold(text).split() if len(t) > 2][:12]
        if not terms:
            continue
        match = " OR ".join(terms)
        started = time.perf_counter()
        if comune:
            db.execute(
                "SELECT f.slug FROM fts f JOIN service_comune c ON c.slug = f.slug "
                "WHERE fts MATCH ? AND c.comune = ? ORDER BY bm25(fts, 0, 5, 1) "
                "LIMIT 10",
                (match, comune),
            ).fetchall()
        else:
            db.execute(
                "SELECT slug FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, 0, 5, 1) LIMIT 10",
                (match,),
            ).fetchall()
        latencies[kind].append((time.perf_counter() - started) * 1000)
    db.close()
    return {
        "build_s": build,
        "size_mb": path.stat().st_size / 2**20,
        "latencies": latencies,
        "update_ms": None,
    }


def run(app, demo_dir: Path, services: int, comuni: int, queries: int, echo) -> None:
    """Build both engines on one corpus and print the figures side by side."""
    corpus = synthetic_corpus(demo_dir, services, comuni)
    mix = query_mix(corpus, queries)
    with tempfile.TemporaryDirectory(prefix="pua-bench-") as tmp:
        whoosh = bench_whoosh(app, corpus, mix, Path(tmp), echo)
        fts5 = bench_fts5(corpus, mix, Path(tmp), echo)
    echo("")
    echo(f"{services} services, {comuni} comuni, {queries} queries (no result cache)")
    echo(f"{'':28}{'whoosh':>12}{'sqlite fts5':>14}")
    echo(f"{'index build (s)':28}{whoosh['build_s']:>12.1f}{fts5['build_s']:>14.1f}")
    echo(f"{'index size (MB)':28}{whoosh['size_mb']:>12.1f}{fts5['size_mb']:>14.1f}")
    for kind in ("plain", "filtered", "fuzzy"):
        for share, label in ((0.5, "p50"), (0.95, "p95")):
            w = percentile(whoosh["latencies"][kind], share)
            f = percentile(fts5["latencies"][kind], share) if fts5["latencies"][kind] else 0.0
            note = " (no typo tolerance)" if kind == "fuzzy" else ""
            echo(f"{f'{kind} query {label} (ms)':28}{w:>12.1f}{f:>14.1f}{note}")
    echo(
        f"{'mean over all queries (ms)':28}"
        f"{statistics.mean(chain.from_iterable(whoosh['latencies'].values())):>12.1f}"
        f"{statistics.mean(chain.from_iterable(fts5['latencies'].values())):>14.1f}"
    )
    cached = whoosh["cached"]
    echo(f"{'repeated query p95, cached (ms)':28}{percentile(cached, 0.95):>12.2f}{'n/a':>14}")
    echo(f"{'one edit searchable (ms)':28}{whoosh['update_ms']:>12.1f}{'n/a':>14}")
