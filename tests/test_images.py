"""Images reach the public outputs without what cameras, phones and editors hide in them: a
facilitator's name in EXIF, XMP, IPTC, PNG text, GIF comments or SVG metadata, and where a photo
was taken (GPS). Every edition of the report is read back for it, the PDF included."""

import base64
import io
import re
import shutil
import struct
import zipfile
from pathlib import Path

import pikepdf
import pytest
from PIL import Image, IptcImagePlugin, PngImagePlugin

from kb.pipeline import build
from kb.report import write_report
from kb.report.images import ImageError, clean_image

from conftest import MINI

NAME = "Maria Rossi"  # the facilitator of the mini fixture's parma-2015/tavolo-1
LATITUDE, LONGITUDE = ((44, 1), (48, 1), (555, 100)), ((10, 1), (19, 1), (4017, 100))
GPS_XMP = "44,48.0925N"
RED = (220, 30, 40)


def _rationals(values, order="<") -> bytes:
    return b"".join(struct.pack(f"{order}LL", n, d) for n, d in values)


# What must not be found in any byte of any output: the name as ASCII (EXIF, PNG text, SVG),
# as UTF-16 (Windows' XPAuthor), the GPS coordinates as EXIF writes them, and as XMP does.
LEAKS = {
    "name": NAME.encode(),
    "name (UTF-16)": NAME.encode("utf-16-le"),
    "surname": b"Rossi",
    "GPS latitude": _rationals(LATITUDE),
    "GPS latitude (big-endian)": _rationals(LATITUDE, ">"),
    "GPS longitude": _rationals(LONGITUDE),
    "GPS in XMP": GPS_XMP.encode(),
    "EXIF block": b"Exif\x00\x00",
}


def leaks(data: bytes) -> list[str]:
    return [what for what, needle in LEAKS.items() if needle in data]


def photo(size=(64, 48), orientation=1) -> bytes:
    """A JPEG as a phone writes it: EXIF Artist, ImageDescription, Copyright, XPAuthor and GPS,
    XMP with the creator and the place, IPTC by-line, a JPEG comment."""
    image = Image.new("RGB", size, RED)
    exif = Image.Exif()
    exif[0x013B] = NAME  # Artist
    exif[0x010E] = f"Tavolo di Parma, foto di {NAME}"  # ImageDescription
    exif[0x8298] = f"(c) {NAME}"  # Copyright
    exif[0x9C9D] = NAME.encode("utf-16-le") + b"\x00\x00"  # XPAuthor
    exif[0x0112] = orientation
    exif[0x8825] = {1: "N", 2: tuple(n / d for n, d in LATITUDE), 3: "E",
                    4: tuple(n / d for n, d in LONGITUDE)}
    xmp = (f'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
           f'02/22-rdf-syntax-ns#"><rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/"'
           f' xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="{GPS_XMP}">'
           f'<dc:creator>{NAME}</dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>').encode()
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, xmp=xmp, comment=NAME.encode(), quality=95)
    data = out.getvalue()
    # IPTC (Photoshop's APP13) by-line, spliced after SOI as Photoshop writes it.
    iptc = b"\x1c\x02\x50" + struct.pack(">H", len(NAME)) + NAME.encode()
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">L", len(iptc)) + iptc
    app13 = b"Photoshop 3.0\x00" + resource
    data = data[:2] + b"\xff\xed" + struct.pack(">H", len(app13) + 2) + app13 + data[2:]
    assert IptcImagePlugin.getiptcinfo(Image.open(io.BytesIO(data)))[(2, 80)] == NAME.encode()
    return data


def png_logo() -> bytes:
    image = Image.new("RGBA", (40, 20), (*RED, 255))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", NAME)
    info.add_text("Description", NAME, zip=True)
    info.add_itxt("Comment", f"Logo disegnato da {NAME}")
    exif = Image.Exif()
    exif[0x013B] = NAME
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=exif)
    return out.getvalue()


def svg_cover() -> bytes:
    inner = base64.b64encode(photo((16, 12))).decode()
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Disegnata da {NAME} -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     xmlns:inkscape="http://www.inkscape.org/namespaces/inkscape"
     xmlns:sodipodi="http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd"
     width="120" height="80" viewBox="0 0 120 80" sodipodi:docname="copertina {NAME}.svg"
     inkscape:export-filename="/home/{NAME}/copertina.png">
  <metadata><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{NAME}</dc:creator></rdf:RDF></metadata>
  <sodipodi:namedview id="vista" inkscape:current-layer="livello"/>
  <?inkscape-note {NAME}?>
  <rect width="120" height="80" fill="rgb(220,30,40)"/>
  <image x="10" y="10" width="16" height="12" xlink:href="data:image/jpeg;base64,{inner}"/>
</svg>
""".encode()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (8, 8), 3).save(out, "GIF", comment=NAME.encode())
    return out.getvalue()


def webp() -> bytes:
    exif = Image.Exif()
    exif[0x013B] = NAME
    out = io.BytesIO()
    Image.new("RGB", (8, 8), RED).save(out, "WEBP", exif=exif, xmp=NAME.encode(), lossless=True)
    return out.getvalue()


# ------------------------------------------------------------------ one image at a time


@pytest.mark.parametrize("make, mime, expected_mime", [
    (photo, "image/jpeg", "image/jpeg"),
    (png_logo, "image/png", "image/png"),
    (gif, "image/gif", "image/gif"),
    (webp, "image/webp", "image/webp"),
    (svg_cover, "image/svg+xml", "image/svg+xml"),
])
def test_each_format_loses_its_metadata_and_keeps_its_picture(make, mime, expected_mime):
    data = make()
    assert leaks(data), "the planted metadata is there to begin with"
    clean, kind = clean_image(data, mime)
    assert expected_mime == kind
    inner = clean + b"".join(base64.b64decode(m) for m in re.findall(rb"base64,([A-Za-z0-9+/=]+)", clean))
    assert [] == leaks(inner)
    if kind == "image/svg+xml":
        text = clean.decode()
        assert "<metadata" not in text and "<!--" not in text and "<?inkscape" not in text
        assert "sodipodi" not in text and "inkscape" not in text
        assert '<rect width="120" height="80" fill="rgb(220,30,40)"/>' in text
        embedded = Image.open(io.BytesIO(base64.b64decode(
            re.search(r"base64,([A-Za-z0-9+/=]+)", text).group(1))))
        assert ((16, 12), {}) == (embedded.size, dict(embedded.getexif()))
        return
    before, after = Image.open(io.BytesIO(data)), Image.open(io.BytesIO(clean))
    assert (before.format, before.size, before.mode) == (after.format, after.size, after.mode)
    assert {} == dict(after.getexif())
    assert not {"exif", "xmp", "comment", "Author", "Description", "Comment"} & set(after.info)
    pixel = after.convert("RGB").getpixel((after.width // 2, after.height // 2))
    expected = before.convert("RGB").getpixel((before.width // 2, before.height // 2))
    assert all(abs(a - b) <= 2 for a, b in zip(pixel, expected))


def test_the_camera_orientation_is_applied_before_exif_goes():
    """A phone photo taken upright is stored sideways with EXIF Orientation 6: without EXIF it
    must be turned in its pixels, or it prints sideways."""
    clean, _ = clean_image(photo((64, 48), orientation=6), "image/jpeg")
    assert (48, 64) == Image.open(io.BytesIO(clean)).size
    clean, _ = clean_image(photo((64, 48), orientation=1), "image/jpeg")
    assert (64, 48) == Image.open(io.BytesIO(clean)).size


def test_trailing_bytes_and_exif_thumbnails_do_not_survive():
    """Whatever follows the image's end (a second image, a thumbnail, a note) is not copied."""
    data = photo() + f"dopo la fine: {NAME}".encode()
    clean, _ = clean_image(data, "image/jpeg")
    assert [] == leaks(clean)


@pytest.mark.parametrize("data, mime, message", [
    (b"not an image at all", "image/jpeg", "not an image that can be read"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><rect", "image/svg+xml", "not an SVG image that can be read"),
    (b"<html xmlns='http://www.w3.org/1999/xhtml'/>", "image/svg+xml", "not an SVG image (its first element is not <svg>)"),
])
def test_what_is_not_an_image_is_refused(data, mime, message):
    with pytest.raises(ImageError) as caught:
        clean_image(data, mime)
    assert str(caught.value).startswith(message)


def test_an_svg_never_fetches_or_expands_anything():
    """No external entity (a file of the machine) and no image from another site."""
    data = b"""<?xml version="1.0"?>
<!DOCTYPE svg [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">
<text>&secret;</text><image xlink:href="https://example.org/tracker.png"/></svg>"""
    clean = clean_image(data, "image/svg+xml")[0].decode()
    assert "example.org" not in clean and "<image" not in clean
    assert Path("/etc/hostname").read_text().strip() not in clean


# ------------------------------------------------------------------ the report's four editions


@pytest.fixture(scope="module")
def report_with_images(tmp_path_factory):
    """The mini fixture with a phone photo in staff prose, an organiser's PNG logo and an SVG
    cover, all three carrying the facilitator's name (and the photo the GPS)."""
    root = tmp_path_factory.mktemp("images")
    data = root / "data"
    shutil.copytree(MINI, data)
    (data / "assets").mkdir()
    (data / "assets" / "foto-tavolo.jpg").write_bytes(photo())
    (data / "assets" / "logo-irecoop-emilia-romagna.png").write_bytes(png_logo())
    (data / "assets" / "copertina.svg").write_bytes(svg_cover())
    (data / "report").mkdir()
    (data / "report" / "introduzione.md").write_text(
        "Il tavolo di Parma al lavoro.\n\n"
        '![Il tavolo di Parma](foto-tavolo.jpg "Il tavolo sugli spazi")\n', encoding="utf-8")
    result = build(data, root / "build" / "cotour.db")
    report = write_report(result.db_path, root / "build" / "report" / "cotour-report.pdf",
                          data_dir=data)
    return report


def test_the_planted_photo_reaches_every_edition_without_name_or_place(report_with_images):
    report = report_with_images
    odt, docx = report.edition_paths
    html = report.html_path.read_text(encoding="utf-8")

    # HTML: the raw text, and every data: image decoded.
    uris = re.findall(r"data:(image/[\w.+-]+);base64,([A-Za-z0-9+/=]+)", html)
    decoded = [(kind, base64.b64decode(payload)) for kind, payload in uris]
    assert [] == leaks(html.encode()) + [w for _, d in decoded for w in leaks(d)]
    jpegs = [Image.open(io.BytesIO(d)) for kind, d in decoded if kind == "image/jpeg"]
    assert [((64, 48), {})] == [(j.size, dict(j.getexif())) for j in jpegs if j.size == (64, 48)]
    assert 1 == sum(kind == "image/png" for kind, _ in decoded)  # the logo
    assert any(kind == "image/svg+xml" and b"<rect width=\"120\"" in d for kind, d in decoded)

    # ODT and DOCX: every member of the package, images included.
    for package in (odt, docx):
        with zipfile.ZipFile(package) as z:
            members = {name: z.read(name) for name in z.namelist()}
        assert [] == [(name, w) for name, data in members.items() for w in leaks(data)], package
        pictures = [Image.open(io.BytesIO(data)) for name, data in members.items()
                    if name.lower().endswith((".jpg", ".jpeg"))]
        assert [(64, 48)] == [p.size for p in pictures], package  # the photo is there
        assert [{}] == [dict(p.getexif()) for p in pictures]

    # PDF: the file's bytes, every stream decoded, every image's own bytes.
    raw = report.pdf_path.read_bytes()
    assert [] == leaks(raw)
    photos = []
    with pikepdf.open(report.pdf_path) as pdf:
        for obj in pdf.objects:
            if not isinstance(obj, pikepdf.Stream):
                continue
            assert [] == leaks(obj.read_raw_bytes())
            try:
                assert [] == leaks(obj.read_bytes())
            except pikepdf.PdfError:
                pass  # a filter pikepdf does not decode (DCT): its raw bytes were read
            if obj.get("/Subtype") == "/Image" and obj.get("/Filter") == "/DCTDecode":
                photos.append(Image.open(io.BytesIO(obj.read_raw_bytes())))
    assert (64, 48) in [p.size for p in photos]
    assert all({} == dict(p.getexif()) and "comment" not in p.info for p in photos)


def test_an_asset_that_is_not_an_image_is_left_out_with_a_warning(tmp_path):
    """A renamed document or a broken download in data/assets/ is never embedded as it is."""
    from kb.report import report_data

    data = tmp_path / "data"
    shutil.copytree(MINI, data)
    (data / "assets").mkdir()
    (data / "assets" / "foto.jpg").write_bytes(f"Verbale di {NAME}".encode())
    (data / "assets" / "copertina.svg").write_bytes(b"<svg><unclosed")
    (data / "report").mkdir()
    (data / "report" / "introduzione.md").write_text("![Il tavolo](foto.jpg)\n", encoding="utf-8")
    result = build(data, tmp_path / "build" / "cotour.db")
    report, warnings = report_data(result.db_path, data)
    assert [
        "data/assets/copertina.svg: not an SVG image that can be read (Couldn't find end of "
        "Start Tag unclosed line 1, line 1, column 15): left out of the report",
        "data/assets/foto.jpg: not an image that can be read (JPEG, PNG, GIF, WebP or SVG): "
        "left out of the report",
    ] == sorted(w for w in warnings if w.startswith("data/assets/"))
    assert report["cover"]["image"] is None
    assert NAME.encode() not in repr(report).encode()
