"""Ibridazioni possibili on the sample: no organiser paired or a bridge, the top pairs on
different findings, and the network figure naming the table's bridges without overlap."""

import base64
import sqlite3
from xml.etree import ElementTree

from kb.report import report_data
from kb.report.charts import network_figures

from conftest import SAMPLE

FONT = "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"


def label_boxes(svg: str) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Each ``<g class="label">`` of the figure: its text and the box its lines take, measured
    with the font itself (Noto Sans' advance widths read by fontTools, not the figure's own
    table of them) from each line's position, size and anchor."""
    from fontTools.ttLib import TTFont

    font = TTFont(FONT)
    cmap, advance, em = font.getBestCmap(), font["hmtx"], font["head"].unitsPerEm
    ns = "{http://www.w3.org/2000/svg}"
    out = []
    for group in ElementTree.fromstring(svg).iter(f"{ns}g"):
        if group.get("class") != "label":
            continue
        lines, boxes = [], []
        for text in group.iter(f"{ns}text"):
            size, x, y = float(text.get("font-size")), float(text.get("x")), float(text.get("y"))
            width = size * sum(advance[cmap[ord(ch)]][0] for ch in text.text) / em
            left = x if text.get("text-anchor", "start") == "start" else x - width
            # Noto Sans' ascender and descender: 1.069 em above the baseline, 0.293 below
            boxes.append((left, y - 1.069 * size, left + width, y + 0.293 * size))
            lines.append(text.text)
        out.append((" ".join(lines), (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                      max(b[2] for b in boxes), max(b[3] for b in boxes))))
    return out


def test_network_names_the_tables_bridges_without_overlap(sample_build):
    kb_path, public_path = sample_build
    data, _ = report_data(kb_path, SAMPLE)
    bridges = data["ibridazioni"]["bridges"]
    assert 10 == len(bridges)
    svg = base64.b64decode(network_figures(
        public_path, [b["organisation_id"] for b in bridges])[0].split(",", 1)[1]).decode()
    boxes = label_boxes(svg)
    # the names drawn are the table's (a long one on two lines), and only they
    assert sorted(b["name"] for b in bridges) == sorted(text for text, _ in boxes)
    width, height = (float(v) for v in ElementTree.fromstring(svg).get("viewBox").split()[2:])
    for i, (a, (ax0, ay0, ax1, ay1)) in enumerate(boxes):
        assert 0 <= ax0 and ax1 <= width and 0 <= ay0 and ay1 <= height, a
        for b, (bx0, by0, bx1, by1) in boxes[i + 1:]:
            assert ax1 <= bx0 or bx1 <= ax0 or ay1 <= by0 or by1 <= ay0, (a, b)


def test_no_organiser_is_paired_or_a_bridge(sample_build):
    _, public_path = sample_build
    conn = sqlite3.connect(public_path)
    assert [("confcooperative-emilia-romagna",), ("irecoop-emilia-romagna",), ("kilowatt",)] \
        == conn.execute("select id from organisations where programme_role = 'organizzatore' "
                        "order by id").fetchall()
    assert [] == conn.execute(
        "select p.id from hybrid_pairs p join organisations e on e.id = p.emerging_id "
        "join organisations t on t.id = p.traditional_id "
        "where e.programme_role is not null or t.programme_role is not null").fetchall()
    assert [] == conn.execute(
        "select n.organisation_id from organisation_network n join organisations o "
        "on o.id = n.organisation_id where o.programme_role is not null "
        "and (n.is_bridge or n.betweenness is not null)").fetchall()


def test_top_pairs_rest_on_different_practices(sample_build):
    # The first four answered pairs each cite a practice of their own (before the rule, three
    # of the six rested on the Consorzio Sociale Tricolore's fund); those that repeat one come
    # after, their ranking score below their score.
    _, public_path = sample_build
    conn = sqlite3.connect(public_path)
    rows = conn.execute(
        "select p.id, p.score, p.rank_score, e.finding_id from hybrid_pairs p "
        "join hybrid_evidence e on e.pair_id = p.id and e.role = 'pratica' "
        "where p.realised = 0 order by p.rank").fetchall()
    seen = set()
    for pair, score, rank_score, practice in rows:
        assert (practice in seen) == (rank_score < score), pair
        seen.add(practice)
    assert 4 == len({practice for *_, practice in rows[:4]})
