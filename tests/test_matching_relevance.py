"""Matching judged on a labelled relevance set (tests/data/relevance/, built by tests/relevance.py): over
every demand, nDCG@10 of `matches_for`'s ranking, and no provider told about a product graded irrelevant (0).

    .venv/bin/pytest -q -p no:cacheprovider tests/test_matching_relevance.py -s   # prints the figures
"""

import statistics

import pytest

from demands.matching import matches_for, matches_to_notify
from tests.relevance import K, build, ndcg

pytestmark = [pytest.mark.django_db, pytest.mark.no_example_provider]
NDCG_TARGET = 0.85


@pytest.fixture
def relevance_set(db):
    return build()


def test_matching_ranks_the_labelled_products_and_notifies_none_irrelevant(relevance_set):
    products, demands = relevance_set
    key_of = {p.code: key for key, p in products.items()}
    scores, weak, notified, irrelevant = [], [], [], []
    for labelled, demand in demands:
        ranked = [key_of[m.product.code] for m in matches_for(demand, limit=K)]
        told = [key_of[m.product.code] for m in matches_to_notify(demand)]
        notified += [(labelled.key, key, labelled.grades.get(key, 0)) for key in told]
        if labelled.grades:
            scores.append(ndcg(ranked, labelled.grades))
            if scores[-1] < 0.7:
                weak.append((labelled.key, round(scores[-1], 3), ranked[:5], labelled.grades))
    irrelevant = [pair for pair in notified if pair[2] == 0]
    wanted = sum(1 for labelled, _ in demands for grade in labelled.grades.values() if grade == 2)
    told_wanted = sum(1 for pair in notified if pair[2] == 2)
    mean = statistics.fmean(scores)
    print(
        f"\nrelevance set: {len(products)} products, {len(demands)} demands ({len(scores)} with graded ones)"
        f"\nnDCG@{K}: {mean:.3f}"
        f"\nnotifications: {len(notified)}, of irrelevant (grade 0) products: {len(irrelevant)}"
        f" ({len(irrelevant) / max(len(notified), 1):.1%}); grade-2 pairs notified: {told_wanted} of {wanted}"
    )
    for row in weak:
        print("  nDCG@10 below 0.7:", *row)
    for row in irrelevant:
        print("  irrelevant notification:", *row)
    assert len(products) >= 150 and len(demands) >= 40
    assert mean >= NDCG_TARGET
    assert irrelevant == []
    # Not an empty promise: the relevant products' providers are told.
    assert told_wanted >= wanted / 2
