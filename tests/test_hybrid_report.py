"""Ibridazioni possibili as the report tells it, on fixtures worked out by hand: each quote
prints the finding's own words, introduced by the organisation's real role in it."""

import pytest

from kb.pipeline import build
from kb.report import report_data

from conftest import MINI

HYBRID_FIXTURE = MINI.parent / "hybrid"


@pytest.fixture(scope="module")
def hand_worked_report(tmp_path_factory):
    result = build(HYBRID_FIXTURE, tmp_path_factory.mktemp("hand-report") / "cotour.db")
    data, _ = report_data(result.db_path, HYBRID_FIXTURE)
    return data["ibridazioni"]


def test_quotes_print_the_findings_words(hand_worked_report):
    # (The regression of issue 22: the role's label, «Il problema», printed instead.)
    first = hand_worked_report["answered"][0]
    assert ("Alfa", "Rossa") == (first["emerging_name"], first["traditional_name"])
    [answer] = first["answers"]
    assert ("Alfa cerca case in affitto per giovani", "Rossa offre case in affitto ai giovani") \
        == (answer["question"]["words"], answer["answer"]["words"])
