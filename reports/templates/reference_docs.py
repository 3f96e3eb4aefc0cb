"""Write reference.docx and reference.odt, the styles of the report's editable editions.

pandoc takes the styles, the page and its footer from a "reference document"
(``kb.editions`` passes these two). They are committed beside the templates; after changing a
style here, run again from the repository's root:

    .venv/bin/python reports/templates/reference_docs.py

It starts from pandoc's own reference documents (``pandoc --print-default-data-file``), so
every style pandoc uses exists, and gives them the report's look (``report.css``): Noto Serif
for the text, Noto Sans for headings, captions and tables, the same colours, an A4 page with
the same margins, the running title in the header and "pagina N di M" in the footer.
"""

from __future__ import annotations

import io
import subprocess
import zipfile
from pathlib import Path

import docx
from docx.enum.style import WD_STYLE_TYPE
from docx.oxml.ns import qn
from docx.shared import Mm
from lxml import etree

HERE = Path(__file__).resolve().parent
SERIF, SANS = "Noto Serif", "Noto Sans"
INK, MUTED, RULE, PALE, ACCENT, ACCENT_DARK = ("1F2A30", "5F6F78", "C9D3D8", "EEF3F4", "1F6F78",
                                              "154F56")
RUNNING_TITLE = "Co?Tour · Rapporto finale"
PAGE = {"width": 210, "height": 297, "top": 24, "right": 20, "bottom": 22, "left": 24}  # mm
HEADER_AREA = 12  # mm: header (footer) and its gap to the text, from the page's edge inwards
# A stamp for the zip entries, so that running this again changes nothing but what changed.
ZIP_DATE = (2016, 3, 31, 0, 0, 0)

# Our styles, by pandoc's names in Word and in OpenDocument: font, size (pt), bold, italic,
# colour, background, space before and after (pt), left indent (mm), alignment, a page break
# before, kept with the next; char: a character style.
STYLES = [
    # docx name, odt name, properties
    ("Normal", "Standard", dict(color=INK, after=0)),  # its font: the documents' default
    ("Body Text", "Text_20_body", dict(before=0, after=6)),
    ("First Paragraph", "First_20_paragraph", dict(before=0, after=6)),
    ("Compact", None, dict(before=1, after=1)),
    ("Title", "Title", dict(font=SANS, size=28, bold=True, color=ACCENT_DARK, before=72,
                            after=12, align="left")),
    ("Subtitle", "Subtitle", dict(font=SANS, size=14, color=ACCENT, before=0, after=36,
                                  align="left")),
    ("Author", "Author", dict(font=SANS, size=11, before=0, after=2, align="left")),
    ("Date", "Date", dict(font=SANS, size=10, color=MUTED, before=18, after=36, align="left")),
    ("Heading 1", "Heading_20_1", dict(font=SANS, size=22, bold=True, italic=False,
                                       color=ACCENT_DARK, before=0, after=14, page_break=True)),
    ("Heading 2", "Heading_20_2", dict(font=SANS, size=13, bold=True, italic=False,
                                       color=ACCENT_DARK, before=16, after=5)),
    ("Heading 3", "Heading_20_3", dict(font=SANS, size=10.5, bold=True, italic=False,
                                       color=ACCENT_DARK, before=12, after=4)),
    ("Heading 4", "Heading_20_4", dict(font=SANS, size=10, bold=True, italic=False, color=INK,
                                       before=10, after=3)),
    ("Caption", "Caption", dict(font=SANS, size=8.5, italic=False, color=MUTED, before=3,
                                after=10)),
    ("Image Caption", None, dict(font=SANS, size=8.5, italic=False, color=MUTED)),
    ("Table Caption", "TableCaption", dict(font=SANS, size=8.5, bold=True, color=INK, before=10,
                                           after=3, keep_next=True)),
    ("Definition Term", "Definition_20_Term", dict(font=SANS, size=8.5, bold=True, color=MUTED,
                                                   before=4, after=0, keep_next=True)),
    ("Definition", "Definition_20_Definition", dict(before=0, after=3)),
    (None, "Table_20_Contents", dict(font=SANS, size=8)),
    (None, "Table_20_Heading", dict(font=SANS, size=8, bold=True)),
    ("Hyperlink", "Definition", dict(char=True, color=ACCENT_DARK)),  # pandoc's ODT links
    (None, "Footer", dict(font=SANS, size=7.5, color=MUTED, align="right")),
    (None, "Header", dict(font=SANS, size=7.5, color=MUTED, align="right")),
    # Our own, named by the templates' data-custom-style (no spaces: ODF style names are NCNames)
    ("Figure", "Figure", dict(before=6, after=0, keep_next=True)),
    ("FindingMeta", "FindingMeta", dict(font=SANS, size=8, color=MUTED, before=1, after=6)),
    ("ContentsPart", "ContentsPart", dict(font=SANS, size=10, bold=True, color=ACCENT_DARK,
                                          before=8, after=2)),
    ("Contents1", "Contents1", dict(font=SANS, size=10, before=2, after=2)),
    ("Contents2", "Contents2", dict(font=SANS, size=10, before=2, after=2, indent=8)),
    # a theme's tag in a finding (a chip in the PDF): kb/editions.lua gives it this style
    ("Tag", "Tag", dict(char=True, font=SANS, size=8, color=ACCENT_DARK, background=PALE)),
]


def pandoc_default(name: str) -> bytes:
    return subprocess.run(["pandoc", "--print-default-data-file", name], check=True,
                          capture_output=True).stdout


# --------------------------------------------------------------------------- Word


def _w(tag: str, **attrs: str):
    element = etree.Element(qn(tag))
    for key, value in attrs.items():
        element.set(qn(f"w:{key}"), value)
    return element


def _replace(parent, tag: str, new) -> None:
    for old in parent.findall(qn(tag)):
        parent.remove(old)
    parent.append(new)


def _docx_style(style, p: dict) -> None:
    element = style.element
    ppr = None if p.get("char") else element.get_or_add_pPr()
    rpr = element.get_or_add_rPr()
    if "font" in p:
        _replace(rpr, "w:rFonts", _w("w:rFonts", ascii=p["font"], hAnsi=p["font"],
                                     eastAsia=p["font"], cs=p["font"]))
    if "size" in p:
        half_points = str(round(p["size"] * 2))
        _replace(rpr, "w:sz", _w("w:sz", val=half_points))
        _replace(rpr, "w:szCs", _w("w:szCs", val=half_points))
    for key, tag in (("bold", "w:b"), ("italic", "w:i")):
        if key in p:
            _replace(rpr, tag, _w(tag, val="1" if p[key] else "0"))
    if "color" in p:
        _replace(rpr, "w:color", _w("w:color", val=p["color"]))
    if "background" in p:
        _replace(rpr, "w:shd", _w("w:shd", val="clear", color="auto", fill=p["background"]))
    _sort(rpr, ["rStyle", "rFonts", "b", "bCs", "i", "iCs", "color", "sz", "szCs", "u", "shd",
                "lang"])
    if ppr is None:
        return
    if "before" in p or "after" in p:
        spacing = ppr.find(qn("w:spacing"))
        spacing = spacing if spacing is not None else _w("w:spacing")
        for key, attr in (("before", "before"), ("after", "after")):
            if key in p:
                spacing.set(qn(f"w:{attr}"), str(round(p[key] * 20)))
        _replace(ppr, "w:spacing", spacing)
    if "align" in p:
        _replace(ppr, "w:jc", _w("w:jc", val=p["align"]))
    if "indent" in p:
        _replace(ppr, "w:ind", _w("w:ind", left=str(round(p["indent"] / 25.4 * 1440))))
    if p.get("page_break"):
        _replace(ppr, "w:pageBreakBefore", _w("w:pageBreakBefore"))
    if p.get("keep_next"):
        _replace(ppr, "w:keepNext", _w("w:keepNext"))
    # Word wants the children of pPr and rPr in the schema's order.
    _sort(ppr, ["pStyle", "keepNext", "keepLines", "pageBreakBefore", "numPr", "pBdr", "shd",
                "tabs", "spacing", "ind", "jc", "outlineLvl"])


def _sort(parent, order: list[str]) -> None:
    rank = {qn(f"w:{name}"): i for i, name in enumerate(order)}
    children = sorted(parent, key=lambda child: rank.get(child.tag, len(order)))
    for child in children:
        parent.append(child)


def _field(paragraph, instruction: str) -> None:
    run = paragraph.add_run()
    run._r.append(_w("w:fldChar", fldCharType="begin"))
    instr = etree.SubElement(run._r, qn("w:instrText"))
    instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    instr.text = f" {instruction} "
    run._r.append(_w("w:fldChar", fldCharType="separate"))
    etree.SubElement(run._r, qn("w:t")).text = "1"
    run._r.append(_w("w:fldChar", fldCharType="end"))


def reference_docx() -> bytes:
    doc = docx.Document(io.BytesIO(pandoc_default("reference.docx")))
    # The text's font is the documents' default rather than Normal's, so that a table style
    # (which yields to paragraph styles in Word) sets its cells in Noto Sans.
    defaults = doc.styles.element.find(f"{qn('w:docDefaults')}/{qn('w:rPrDefault')}/{qn('w:rPr')}")
    _replace(defaults, "w:rFonts", _w("w:rFonts", ascii=SERIF, hAnsi=SERIF, eastAsia=SERIF,
                                      cs=SERIF))
    _replace(defaults, "w:sz", _w("w:sz", val="20"))
    _replace(defaults, "w:szCs", _w("w:szCs", val="20"))
    _sort(defaults, ["rFonts", "sz", "szCs", "lang"])
    names = {style.name: style for style in doc.styles}
    for name, _odt, props in STYLES:
        if name and name not in names:  # our own styles, used by the templates' custom-style
            kind = WD_STYLE_TYPE.CHARACTER if props.get("char") else WD_STYLE_TYPE.PARAGRAPH
            names[name] = doc.styles.add_style(name, kind)
            if not props.get("char"):
                names[name].base_style = names["Normal"]
        if name:
            _docx_style(names[name], props)
    # Tables: sans text, a rule under the header row (pandoc marks it to repeat on every page).
    table = names["Table"].element
    rpr = table.find(qn("w:rPr"))
    if rpr is None:
        rpr = etree.SubElement(table, qn("w:rPr"))
        table.insert(table.index(table.find(qn("w:tblPr"))), rpr)
    _replace(rpr, "w:rFonts", _w("w:rFonts", ascii=SANS, hAnsi=SANS, eastAsia=SANS, cs=SANS))
    _replace(rpr, "w:sz", _w("w:sz", val="16"))
    borders = _w("w:tblBorders")
    for side in ("top", "bottom"):
        borders.append(_w(f"w:{side}", val="single", sz="6", space="0", color=RULE))
    borders.append(_w("w:insideH", val="single", sz="2", space="0", color=RULE))
    tblpr = table.find(qn("w:tblPr"))
    _replace(tblpr, "w:tblBorders", borders)
    tblpr.insert(1, tblpr.find(qn("w:tblBorders")))
    for side in ("left", "right"):  # narrow cell margins: the synthesis has a column per event
        tblpr.find(f"{qn('w:tblCellMar')}/{qn(f'w:{side}')}").set(qn("w:w"), "57")
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(PAGE["width"]), Mm(PAGE["height"])
    section.top_margin, section.bottom_margin = Mm(PAGE["top"]), Mm(PAGE["bottom"])
    section.left_margin, section.right_margin = Mm(PAGE["left"]), Mm(PAGE["right"])
    section.header_distance = section.footer_distance = Mm(HEADER_AREA)
    for style_name in ("Header", "Footer"):
        if style_name not in names:
            names[style_name] = doc.styles.add_style(style_name, WD_STYLE_TYPE.PARAGRAPH)
            names[style_name].base_style = names["Normal"]
        _docx_style(names[style_name], dict(font=SANS, size=7.5, color=MUTED, align="right",
                                            before=0, after=0))
    section.different_first_page_header_footer = True  # the title page has neither
    header = section.header.paragraphs[0]
    header.text = RUNNING_TITLE
    header.style = names["Header"]
    footer = section.footer.paragraphs[0]
    footer.style = names["Footer"]
    footer.add_run("pagina ")
    _field(footer, "PAGE")
    footer.add_run(" di ")
    _field(footer, "NUMPAGES")
    out = io.BytesIO()
    doc.save(out)
    return _restamp(out.getvalue())


# --------------------------------------------------------------------------- OpenDocument

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "svg": "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
}


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def _child(parent, name: str):
    found = parent.find(name, NS)
    return found if found is not None else etree.SubElement(parent, _q(name))


def _odt_style(styles, name: str, p: dict) -> None:
    style = styles.find(f"style:style[@style:name='{name}']", NS)
    if style is None:
        style = etree.SubElement(styles, _q("style:style"))
        style.set(_q("style:name"), name)
        style.set(_q("style:family"), "text" if p.get("char") else "paragraph")
        if not p.get("char"):
            style.set(_q("style:parent-style-name"), "Standard")
    text_family = style.get(_q("style:family")) == "text"
    para = None if text_family else _child(style, "style:paragraph-properties")
    text = _child(style, "style:text-properties")
    if "font" in p:
        for attr in ("style:font-name", "style:font-name-asian", "style:font-name-complex"):
            text.set(_q(attr), p["font"])
    if "size" in p:
        for attr in ("fo:font-size", "style:font-size-asian", "style:font-size-complex"):
            text.set(_q(attr), f"{p['size']}pt")
    for key, attr, on in (("bold", "font-weight", "bold"), ("italic", "font-style", "italic")):
        if key in p:
            for full in (f"fo:{attr}", f"style:{attr}-asian", f"style:{attr}-complex"):
                text.set(_q(full), on if p[key] else "normal")
    if "color" in p:
        text.set(_q("fo:color"), f"#{p['color'].lower()}")
    if "background" in p:
        text.set(_q("fo:background-color"), f"#{p['background'].lower()}")
    if para is None:
        return
    for key, attr in (("before", "fo:margin-top"), ("after", "fo:margin-bottom")):
        if key in p:
            para.set(_q(attr), f"{p[key]}pt")
    if "align" in p:
        para.set(_q("fo:text-align"), {"left": "start", "right": "end"}.get(p["align"], p["align"]))
    if "indent" in p:
        para.set(_q("fo:margin-left"), f"{p['indent']}mm")
    if p.get("page_break"):
        para.set(_q("fo:break-before"), "page")
    if p.get("keep_next"):
        para.set(_q("fo:keep-with-next"), "always")


def reference_odt() -> bytes:
    source = zipfile.ZipFile(io.BytesIO(pandoc_default("reference.odt")))
    root = etree.fromstring(source.read("styles.xml"))
    faces = root.find("office:font-face-decls", NS)
    for font, generic in ((SERIF, "roman"), (SANS, "swiss")):
        face = etree.SubElement(faces, _q("style:font-face"))
        face.set(_q("style:name"), font)
        face.set(_q("svg:font-family"), f"'{font}'")
        face.set(_q("style:font-family-generic"), generic)
        face.set(_q("style:font-pitch"), "variable")
    styles = root.find("office:styles", NS)
    default = styles.find("style:default-style[@style:family='paragraph']", NS)
    _odt_style_default(default)
    for _docx, name, props in STYLES:
        if name:
            _odt_style(styles, name, props)
    # Table cells: pandoc names them so in the document (kb.editions lets these apply), with a
    # rule under the header row and a hairline between rows, as in Word.
    for name, border in (("TableHeaderRowCell", f"0.75pt solid #{INK.lower()}"),
                         ("TableRowCell", f"0.25pt solid #{RULE.lower()}")):
        cell = etree.SubElement(styles, _q("style:style"))
        cell.set(_q("style:name"), name)
        cell.set(_q("style:family"), "table-cell")
        props = etree.SubElement(cell, _q("style:table-cell-properties"))
        props.set(_q("fo:border"), "none")
        props.set(_q("fo:border-bottom"), border)
        props.set(_q("fo:padding"), "0.4mm")
    layout = root.find(".//style:page-layout/style:page-layout-properties", NS)
    layout.set(_q("fo:page-width"), f"{PAGE['width']}mm")
    layout.set(_q("fo:page-height"), f"{PAGE['height']}mm")
    for side in ("top", "right", "bottom", "left"):  # header and footer sit inside the margins
        inside = HEADER_AREA if side in ("top", "bottom") else 0
        layout.set(_q(f"fo:margin-{side}"), f"{PAGE[side] - inside}mm")
    page_layout = layout.getparent()
    for part in ("header", "footer"):
        part_style = _child(page_layout, f"style:{part}-style")
        props = _child(part_style, "style:header-footer-properties")
        props.set(_q("fo:min-height"), "0mm")
        props.set(_q("fo:margin-bottom" if part == "header" else "fo:margin-top"), "8mm")
    master = root.find(".//style:master-page[@style:name='Standard']", NS)
    for old in list(master):
        master.remove(old)
    # The title page has neither header nor footer: the Title style starts this page style.
    first = etree.Element(_q("style:master-page"))
    first.set(_q("style:name"), "First_20_Page")
    first.set(_q("style:display-name"), "First Page")
    first.set(_q("style:page-layout-name"), master.get(_q("style:page-layout-name")))
    first.set(_q("style:next-style-name"), "Standard")
    master.addprevious(first)
    styles.find("style:style[@style:name='Title']", NS).set(_q("style:master-page-name"),
                                                          "First_20_Page")
    header = etree.SubElement(etree.SubElement(master, _q("style:header")), _q("text:p"))
    header.set(_q("text:style-name"), "Header")
    header.text = RUNNING_TITLE
    footer = etree.SubElement(etree.SubElement(master, _q("style:footer")), _q("text:p"))
    footer.set(_q("text:style-name"), "Footer")
    footer.text = "pagina "
    number = etree.SubElement(footer, _q("text:page-number"))
    number.set(_q("text:select-page"), "current")
    number.text = "1"
    number.tail = " di "
    etree.SubElement(footer, _q("text:page-count")).text = "1"
    styles_xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = styles_xml if info.filename == "styles.xml" else source.read(info)
            method = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(zipfile.ZipInfo(info.filename, ZIP_DATE), data, method)
    return out.getvalue()


def _odt_style_default(default) -> None:
    text = _child(default, "style:text-properties")
    text.set(_q("style:font-name"), SERIF)
    text.set(_q("fo:font-size"), "10pt")
    text.set(_q("fo:language"), "it")
    text.set(_q("fo:country"), "IT")
    text.set(_q("fo:color"), f"#{INK.lower()}")


def _restamp(data: bytes) -> bytes:
    """The same zip with fixed entry dates."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(zipfile.ZipInfo(info.filename, ZIP_DATE), source.read(info),
                            zipfile.ZIP_DEFLATED)
    return out.getvalue()


def main() -> None:
    (HERE / "reference.docx").write_bytes(reference_docx())
    (HERE / "reference.odt").write_bytes(reference_odt())


if __name__ == "__main__":
    main()
