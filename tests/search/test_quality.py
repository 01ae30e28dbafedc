"""Search quality on the judged queries: the thresholds are set from measured figures."""

from portal.search.evaluation import evaluate, load_judgements

# Measured with `flask --app portal search evaluate` (see README); a drop below fails.
MIN_MRR_OVERALL = 0.90
MIN_NDCG_OVERALL = 0.85
MIN_MRR_PER_LANGUAGE = 0.75


def test_judged_queries_meet_the_quality_thresholds(app):
    report = evaluate(load_judgements())
    assert report.overall.count >= 60
    assert report.overall.mrr >= MIN_MRR_OVERALL, report.misses
    assert report.overall.ndcg >= MIN_NDCG_OVERALL
    weak = [row for row in report.rows if row.mrr < MIN_MRR_PER_LANGUAGE]
    assert not weak, weak


def test_the_judged_set_covers_foreign_languages_and_comune_filters():
    judgements = load_judgements()
    groups = {j.group for j in judgements}
    assert {"it", "en", "fr", "ar", "ur", "zh"} <= groups
    assert sum(1 for j in judgements if j.comune) >= 5
