"""The report as its funder reads it, on the mini fixture with a funder and a results
framework: the funder on the cover and in the colophon, *In sintesi* first after the contents,
the indicators with their target, actual value, difference and reason; and, past the annex's
page budget, the notes of each stop as volumes beside the report."""

import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from kb.report import write_report
from kb.report.volumes import workers as volume_workers

from test_indicators import funded  # noqa: F401  (the fixture)
from test_report_readback import contains, words
from processes import children, still_running


def pdf_text(path) -> list[str]:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout
    # a word hyphenated at a line's end read whole again
    return [" ".join(page.replace("\u2010\n", "").split()) for page in out.split("\f")]


@pytest.fixture(scope="module")
def funded_report(funded, tmp_path_factory):  # noqa: F811
    data, built = funded
    out = tmp_path_factory.mktemp("funded-report") / "rapporto.pdf"
    return write_report(built.db_path, out, data_dir=data), built


def test_the_funder_on_the_cover_and_in_the_colophon(funded_report):
    result, _ = funded_report
    pages = pdf_text(result.pdf_path)
    # (the cover's labels are in capitals by the stylesheet)
    assert "con il sostegno di regione emilia-romagna bando per l’innovazione sociale 2015" \
        in pages[0].casefold()
    colophon = next(p for p in pages if "Colophon" in p and "Composto in" in p)
    assert ("Realizzato con il sostegno di Regione Emilia-Romagna, nell’ambito di Bando per "
            "l’innovazione sociale 2015 (codice 80062590379).") in colophon
    assert "con il sostegno della Regione Emilia-Romagna" in " ".join(pages)


def test_in_sintesi_then_the_results_framework(funded_report):
    result, _ = funded_report
    pages = pdf_text(result.pdf_path)
    toc = pages[1]
    titles = re.findall(r"(?:^|\s)(\d) ([A-Z][^.\d]+?)\s*\.{3,}", toc)
    assert [("1", "In sintesi"), ("2", "Obiettivi e risultati"),
            ("3", "Il progetto e il metodo")] == titles[:3]
    assert pages[2].startswith("Co?Tour · Rapporto finale 1 In sintesi")
    framework = next(p for p in pages if p.startswith("Co?Tour · Rapporto finale 2 Obiettivi"))
    # target, actual, difference and outcome of a row, as printed (read in its layout)
    table = subprocess.run(["pdftotext", "-layout", "-enc", "UTF-8", str(result.pdf_path), "-"],
                           capture_output=True, text=True, check=True).stdout
    assert re.search(r"\n *Tappe svolte +3 +2 +–1 non raggiunto\n", table)
    assert re.search(r"\n *Coppie sedute insieme +1 +1 +0 raggiunto\n", table)
    assert re.search(r"\n *Soddisfatti +80% +87% +\+7 punti raggiunto\n", table)
    assert "Tappe svolte. La terza tappa è stata rinviata." in framework
    assert ("Il programma si era dato 2 obiettivi, misurati da 15 indicatori: 12 hanno "
            "raggiunto o superato il valore atteso, 3 sono rimasti sotto.") in framework


def test_past_the_page_budget_each_stop_is_a_volume(funded, tmp_path):  # noqa: F811
    data, built = funded
    out = tmp_path / "rapporto.pdf"
    whole = write_report(built.db_path, tmp_path / "intero.pdf", data_dir=data)
    result = write_report(built.db_path, out, data_dir=data, annex_budget=0.5)
    assert [tmp_path / "rapporto-parma-2015.pdf", tmp_path / "rapporto-bologna-2015.pdf"] == \
        result.volumes
    assert [] == result.warnings
    report = " ".join(pdf_text(out))
    # the report lists the volumes and links to them, and no longer prints the findings
    assert "A.1 Parma 9 dicembre 2015 1 3 A.2 Bologna 10 dicembre 2015 1 3" in report
    links = {str(a.get_object()["/A"].get("/F", a.get_object()["/A"].get("/URI", "")))
             for page in PdfReader(out).pages for a in page.get("/Annots") or []
             if "/A" in a.get_object()}
    assert {"rapporto-parma-2015.pdf", "rapporto-bologna-2015.pdf"} <= {
        link.rsplit("/", 1)[-1] for link in links}
    assert "apre la sua sede alle associazioni del quartiere" not in report
    assert result.pages < whole.pages
    # each volume holds its stop's notes, whole, and names the report it belongs to
    parma = " ".join(pdf_text(tmp_path / "rapporto-parma-2015.pdf"))
    assert "Allegato A.1 Le note della tappa: Parma" in parma
    assert "apre la sua sede alle associazioni del quartiere" in parma
    assert "rapporto.pdf" in parma
    assert "Mancano spazi a costi accessibili" not in parma  # Bologna's
    bologna = " ".join(pdf_text(tmp_path / "rapporto-bologna-2015.pdf"))
    assert "Mancano spazi a costi accessibili" in bologna
    # every finding of a volume prints its own words and, after them, its code; a volume is a
    # register on paper: no link (each would be an annotation, and layout time)
    conn = sqlite3.connect(built.public_path)
    names = dict(conn.execute("select id, name from organisations"))
    for volume in result.volumes:
        event = volume.stem.removeprefix("rapporto-")
        printed = words("\n".join(pdf_text(volume)))
        findings = conn.execute("select id, text from findings where event_id = ? order by id",
                                (event,)).fetchall()
        assert findings, event
        for finding_id, text in findings:
            assert contains(printed, words(text, names)), (event, finding_id)
            assert finding_id in printed, (event, finding_id)
        assert not any(page.get("/Annots") for page in PdfReader(volume).pages), event
        assert result.volume_results[result.volumes.index(volume)].pages == \
            len(PdfReader(volume).pages)
    conn.close()


def test_a_killed_report_leaves_no_worker_behind(funded, tmp_path):  # noqa: F811
    # Killed while its volumes are being laid out, the report takes its workers with it (they
    # would otherwise wait on their queue for ever), and leaves no volume behind.
    import signal
    import sys
    import time

    data, built = funded
    script = ("import sys; from kb.report import write_report; "
              "write_report(sys.argv[1], sys.argv[2], data_dir=sys.argv[3], annex_budget=0.5)")
    report = subprocess.Popen([sys.executable, "-c", script, str(built.db_path),
                               str(tmp_path / "rapporto.pdf"), str(data)])
    expected = min(2, volume_workers())  # the funded corpus has two volumes
    workers: set[int] = set()
    deadline = time.monotonic() + 120
    while len(workers) < expected and time.monotonic() < deadline and report.poll() is None:
        workers = {c for c in children(report.pid)
                   if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()}
        time.sleep(0.05)
    assert len(workers) == expected, "the volumes' workers never started"
    time.sleep(4)  # each lays out its volume, then waits for the next (the body is being laid out)
    assert report.poll() is None
    report.send_signal(signal.SIGKILL)
    report.wait()
    assert [] == still_running(workers)
    assert not list(tmp_path.glob("rapporto*.pdf"))
