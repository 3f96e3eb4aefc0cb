"""Images on their way to a public output, written without what a camera, a phone or an editor
hides in them.

A photo's EXIF names who took it (Artist, Copyright), says what it shows (ImageDescription,
UserComment) and where it was taken (GPS); XMP and IPTC say the same again, PNG text chunks and
GIF comments carry free text, and an SVG keeps ``<metadata>``, comments and its editor's notes
(Inkscape's file names, often a home folder with a person's name). Raster images are decoded
and written anew by Pillow with only their pixels, their colour profile and their resolution:
whatever the file carried besides (thumbnails in EXIF, MPF's second image, bytes after the end)
cannot survive that. The SVG is parsed without entities or network and written back without
those parts; a raster image it embeds as a ``data:`` URI is cleaned the same way.
"""

from __future__ import annotations

import base64
import io
import re

from lxml import etree

# What Pillow writes back as it was read: the format (JPEG stays JPEG, at its own quantisation
# when it needs no turning), so the report's pages do not grow or lose quality.
RASTER_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
                  "WEBP": "image/webp"}
SVG = "image/svg+xml"
# Namespaces whose elements and attributes only an editor reads (RDF and Dublin Core are what
# <metadata> holds; Inkscape and Sodipodi keep file names and window state).
EDITOR_NAMESPACES = {
    "http://www.inkscape.org/namespaces/inkscape",
    "http://sodipodi.sourceforge.net/DTD/sodipodi-0.dtd",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "http://purl.org/dc/elements/1.1/",
    "http://creativecommons.org/ns#",
    "http://ns.adobe.com/AdobeIllustrator/10.0/",
    "http://ns.adobe.com/SaveForWeb/1.0/",
    "http://ns.adobe.com/Extensibility/1.0/",
    "http://ns.adobe.com/Variables/1.0/",
    "http://ns.adobe.com/ImageReplacement/1.0/",
    "http://ns.adobe.com/Graphs/1.0/",
    "http://ns.adobe.com/xap/1.0/",
    "http://www.bohemiancoding.com/sketch/ns",
}
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
DATA_URI = re.compile(r"data:(image/[\w.+-]+);base64,([A-Za-z0-9+/=\s]*)\Z", re.S)


class ImageError(ValueError):
    """The file is not an image the report can print."""


def clean_image(data: bytes, mime: str | None = None) -> tuple[bytes, str]:
    """``data`` without its metadata, and its MIME type; :class:`ImageError` when it is not a
    JPEG, PNG, GIF, WebP or SVG image that can be read."""
    if mime == SVG or (mime is None and _looks_like_svg(data)):
        return clean_svg(data), SVG
    return clean_raster(data)


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip().lower()
    return head.startswith(b"<?xml") or head.startswith(b"<svg") or b"<svg" in head


def clean_raster(data: bytes) -> tuple[bytes, str]:
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except UnidentifiedImageError:
        raise ImageError("not an image that can be read (JPEG, PNG, GIF, WebP or SVG)") from None
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(f"not an image that can be read ({exc})") from None
    fmt = image.format if image.format in RASTER_FORMATS else "PNG"
    options = {}
    if image.info.get("icc_profile"):
        options["icc_profile"] = image.info["icc_profile"]  # colours, not people
    if image.info.get("dpi"):
        options["dpi"] = image.info["dpi"]
    # The camera's orientation lives in EXIF: applied to the pixels before EXIF goes.
    orientation = image.getexif().get(0x0112, 1)
    if orientation not in (1, None):
        image = ImageOps.exif_transpose(image)
    elif fmt == "JPEG":
        options["quality"] = "keep"
    if fmt == "GIF" and getattr(image, "n_frames", 1) > 1:
        options.update(save_all=True, loop=image.info.get("loop", 0),
                       duration=image.info.get("duration"))
    if fmt == "GIF" and "transparency" in image.info:
        options["transparency"] = image.info["transparency"]
    if fmt == "WEBP":
        options["lossless"] = image.info.get("lossless", False)
        options.setdefault("quality", 90)
    # Nothing of image.info is handed on but what is listed above: Pillow writes EXIF, XMP,
    # comments and text chunks only when they are given.
    for key in ("exif", "xmp", "comment", "XML:com.adobe.xmp", "Description", "Author"):
        image.info.pop(key, None)
    if fmt == "PNG":
        image.info = {k: v for k, v in image.info.items() if k in ("transparency", "gamma")}
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue(), RASTER_FORMATS[fmt]


def clean_svg(data: bytes) -> bytes:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True,
                             remove_pis=True, load_dtd=False, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ImageError(f"not an SVG image that can be read ({exc.msg})") from None
    if root is None or etree.QName(root).localname != "svg":
        raise ImageError("not an SVG image (its first element is not <svg>)")
    for element in list(root.iter()):
        if not isinstance(element.tag, str):  # entity references left unresolved
            element.getparent().remove(element)
            continue
        name = etree.QName(element)
        if name.localname == "metadata" or name.namespace in EDITOR_NAMESPACES:
            element.getparent().remove(element)
            continue
        for attribute in list(element.attrib):
            if etree.QName(attribute).namespace in EDITOR_NAMESPACES:
                del element.attrib[attribute]
        if name.localname == "image":
            for attribute in (XLINK_HREF, "href"):
                href = element.get(attribute)
                if href is None:
                    continue
                match = DATA_URI.match(href.strip())
                if not match:  # another file or site: not printed, and never fetched
                    element.getparent().remove(element)
                    break
                inner, kind = clean_image(base64.b64decode(match.group(2)), match.group(1))
                element.set(attribute, f"data:{kind};base64,{base64.b64encode(inner).decode()}")
    etree.cleanup_namespaces(root)
    return etree.tostring(root, encoding="utf-8", xml_declaration=True)
