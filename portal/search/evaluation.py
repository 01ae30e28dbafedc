"""Search quality on judged queries: MRR and nDCG@5, overall and per query language."""

import math
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

from portal.config import PROJECT_ROOT
from portal.search import services as search_service

DEFAULT_JUDGEMENTS = PROJECT_ROOT / "tests" / "search" / "judged_queries.yaml"
CUTOFF = 5


@dataclass(frozen=True)
class Judgement:
    q: str
    lang: str
    group: str
    comune: str | None
    relevant: tuple[str, ...]


@dataclass(frozen=True)
class Outcome:
    query: Judgement
    rank: int | None
    top: list[str]
    reciprocal_rank: float
    ndcg: float


@dataclass(frozen=True)
class Row:
    group: str
    count: int
    mrr: float
    ndcg: float


@dataclass(frozen=True)
class Report:
    rows: list[Row]
    overall: Row
    outcomes: list[Outcome]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.rank != 1]


def load_judgements(path=None) -> list[Judgement]:
    data = yaml.safe_load(Path(path or DEFAULT_JUDGEMENTS).read_text(encoding="utf-8"))
    return [
        Judgement(
            q=str(item["q"]),
            lang=item["lang"],
            group=item.get("query_lang") or item["lang"],
            comune=item.get("comune"),
            relevant=tuple(item["relevant"]),
        )
        for item in data
    ]


def gain(judgement: Judgement, slug: str) -> int:
    """Graded relevance: the first listed service counts most."""
    if slug not in judgement.relevant:
        return 0
    return max(1, 3 - judgement.relevant.index(slug))


def ndcg_at(judgement: Judgement, ranked: list[str], cutoff: int = CUTOFF) -> float:
    dcg = sum(gain(judgement, slug) / math.log2(i + 2) for i, slug in enumerate(ranked[:cutoff]))
    ideal = sorted((gain(judgement, s) for s in judgement.relevant), reverse=True)[:cutoff]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def judge(judgement: Judgement) -> Outcome:
    found = search_service.search(judgement.q, judgement.lang, comune=judgement.comune)
    ranked = [hit.slug for hit in found.hits]
    first = judgement.relevant[0]
    rank = ranked.index(first) + 1 if first in ranked else None
    return Outcome(
        query=judgement,
        rank=rank,
        top=ranked,
        reciprocal_rank=1.0 / rank if rank else 0.0,
        ndcg=ndcg_at(judgement, ranked),
    )


def _row(group: str, outcomes: list[Outcome]) -> Row:
    count = len(outcomes)
    return Row(
        group=group,
        count=count,
        mrr=sum(o.reciprocal_rank for o in outcomes) / count if count else 0.0,
        ndcg=sum(o.ndcg for o in outcomes) / count if count else 0.0,
    )


def evaluate(judgements: list[Judgement]) -> Report:
    """Run every judged query; MRR counts the rank of the service that must come first."""
    outcomes = [judge(j) for j in judgements]
    groups = defaultdict(list)
    for outcome in outcomes:
        groups[outcome.query.group].append(outcome)
    rows = [_row(group, items) for group, items in sorted(groups.items())]
    return Report(rows=rows, overall=_row("all", outcomes), outcomes=outcomes)
