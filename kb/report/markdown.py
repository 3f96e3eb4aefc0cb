"""Markdown of notes and staff texts -> safe HTML for the report, and the images of
``data/assets/`` as ``data:`` URIs.

What the participants and staff wrote is printed as written: a mention prints its own words
(``[[Serre dei Giardini]]`` -> "Serre dei Giardini", ``[[kilowatt|le Serre]]`` -> "le Serre"),
linked to the organisation's row, whose official name is the link's title; theme tags are taken
out of the sentence and shown together after the paragraph or item that holds them; headings
keep their nesting, without gaps, below the report's own heading. The syntax is the one
:func:`kb.normalise.staff_markdown` describes (GFM tables, footnotes, images with a caption),
the same that ``cotour check`` checks.
"""

from __future__ import annotations

import base64
import json
import mimetypes
from pathlib import Path

from ..domain.syntax import MENTION, TAG, organisation_key, slugify
from ..normalise.documents import staff_markdown
from .images import ImageError, clean_image
from .words import typo


class Markdown:
    """Staff and notes' Markdown rendered safely: no raw HTML (``<script>`` shows as text),
    ``[[mentions]]`` as written and linked, ``#theme`` tags after their block, headings shifted
    below the report's own, images only from ``data/assets/`` (embedded)."""

    def __init__(self, organisations: dict[str, dict], themes: dict[str, dict],
                 assets: Path | None, warnings: list[str], base_url: str = ""):
        from markdown_it.common.utils import escapeHtml

        self.escape = escapeHtml
        self.organisations = organisations
        self.by_key = {}
        for org in organisations.values():
            for name in [org["id"].replace("-", " "), org["name"], *json.loads(org["aliases"] or "[]")]:
                self.by_key.setdefault(organisation_key(name), org["id"])
        self.themes = themes
        self.assets = assets
        self.warnings = warnings
        self.base_url = base_url.rstrip("/")
        md = staff_markdown()
        md.options.update({"typographer": True, "quotes": "«»“”"})
        md.enable(["replacements", "smartquotes"])
        md.inline.ruler.before("link", "mention", self._mention_rule)
        md.inline.ruler.before("link", "tag", self._tag_rule)
        rules = {"mention": self._render_mention, "tag": self._render_tag,
                 "heading_open": self._render_heading_open,
                 "heading_close": self._render_heading_close,
                 "image": self._render_image, "paragraph_open": self._render_paragraph_open,
                 "paragraph_close": self._render_paragraph_close,
                 "list_item_close": self._render_list_item_close,
                 "table_open": self._render_table_open, "th_open": self._render_th_open,
                 "table_close": lambda *args: "</table></div>\n"}
        for token_type, method in rules.items():
            # markdown-it binds a rule to its renderer: hand it a plain function
            md.add_render_rule(token_type, lambda _renderer, *args, _m=method: _m(*args))
        self.md = md

    def render(self, text: str | None, heading_level: int = 3, source: str = "",
               tags_after: bool = True, links: bool = True) -> str:
        """``text`` as HTML; its headings start at ``heading_level``. ``tags_after``: show
        the theme tags after their paragraph (``False``: the caller shows the item's themes).
        ``links``: mentions linked to their organisation (``False``: the words only)."""
        from markupsafe import Markup
        if not text:
            return Markup("")
        env = {"source": source, "tags": [], "tags_after": tags_after, "links": links,
               "figure": [],
               "docId": slugify(source or "testo")}  # footnotes' ids, unique in the report
        tokens = self.md.parse(text, env)
        # Headings ranked without gaps: the levels used, in order, from heading_level down.
        used = sorted({int(t.tag[1]) for t in tokens if t.type == "heading_open"})
        env["levels"] = {level: min(6, heading_level + rank) for rank, level in enumerate(used)}
        return Markup(self.md.renderer.render(tokens, self.md.options, env))

    def plain(self, text: str | None) -> str:
        """``text`` as plain words, as the report prints them (mentions as written, tags and
        markup left out)."""
        import html
        import re
        rendered = self.render(text, tags_after=False)
        blocks = re.sub(r"</?(?:p|li|ul|ol|h\d|blockquote|div|table|tr|td|th|br)\b[^>]*>", " ", rendered)
        return " ".join(html.unescape(re.sub(r"<[^>]+>", "", blocks)).split())

    # [[name]], [[name|shown]], [[!name]]
    def _mention_rule(self, state, silent: bool) -> bool:
        if not state.src.startswith("[[", state.pos):
            return False
        match = MENTION.match(state.src, state.pos)
        if not match:
            return False
        end = match.end()
        shown = (match.group(3) or match.group(2)).strip()
        if shown.endswith(".") and state.src.startswith(".", end):
            end += 1  # "[[Mutua Freelance Soc. Coop.]]." ends the sentence with one full stop
        if not silent:
            token = state.push("mention", "", 0)
            token.meta = {"name": match.group(2).strip(), "raised": match.group(1) == "!",
                          "shown": shown}
        state.pos = end
        return True

    def _render_mention(self, tokens, idx, options, env) -> str:
        meta = tokens[idx].meta
        org_id = meta["name"] if meta["name"] in self.organisations else \
            self.by_key.get(organisation_key(meta["name"]))
        # the words written; a bare id ([[il-mosaico]]) is no words: the official name then
        written = meta["shown"]
        if org_id and written == org_id:
            written = self.organisations[org_id]["name"]
        words = self.escape(typo(written))
        if not env["links"]:
            return words
        cls = "org source" if meta["raised"] else "org"
        if not org_id:
            return f'<span class="{cls}">{words}</span>'
        official = self.escape(typo(self.organisations[org_id]["name"]))
        href = self.escape(f"{self.base_url}/cotour/organisations/{org_id}")
        return f'<a class="{cls}" href="{href}" title="{official}">{words}</a>'

    # #theme-id: a '#' and a letter, not glued to a word, a path or another '#'
    def _tag_rule(self, state, silent: bool) -> bool:
        if state.src[state.pos] != "#":
            return False
        before = state.src[state.pos - 1] if state.pos else " "
        if before.isalnum() or before in "_#&/":
            return False
        match = TAG.match(state.src, state.pos)
        if not match or match.group(1) not in self.themes:
            return False
        end = match.end()
        # the tag leaves the sentence: so does one of the spaces around it
        if before == " " and state.src.startswith(" ", end):
            end += 1
        elif before == " " and not silent:
            state.pending = state.pending.rstrip(" ")  # before push() flushes it
        if not silent:
            token = state.push("tag", "", 0)
            token.meta = {"theme": match.group(1)}
        state.pos = end
        return True

    def _render_tag(self, tokens, idx, options, env) -> str:
        theme = tokens[idx].meta["theme"]
        if theme not in env["tags"]:
            env["tags"].append(theme)
        return ""

    def _tags(self, env) -> str:
        """The tags met since the last block, as chips (and forget them)."""
        themes, env["tags"] = env["tags"], []
        if not themes or not env["tags_after"]:
            return ""
        chips = "".join(f'<span class="tag">{self.escape(typo(self.themes[t]["label"]))}</span>'
                        for t in themes)
        return f' <span class="tags">{chips}</span>'

    def _render_paragraph_open(self, tokens, idx, options, env) -> str:
        inline = tokens[idx + 1] if idx + 1 < len(tokens) else None
        children = [c for c in (inline.children or []) if not (c.type == "text" and not c.content.strip())] \
            if inline is not None and inline.type == "inline" else []
        # A paragraph that is one image with a title is a figure with its caption.
        if len(children) == 1 and children[0].type == "image" and children[0].attrGet("title"):
            env["figure"].append(True)
            return '<figure class="staff-figure">'
        env["figure"].append(False)
        return "" if tokens[idx].hidden else "<p>"

    def _render_paragraph_close(self, tokens, idx, options, env) -> str:
        figure = env["figure"].pop() if env["figure"] else False
        if figure:
            return "</figure>\n"
        if tokens[idx].hidden:  # a tight list's paragraph: the item closes it
            return ""
        return self._tags(env) + "</p>\n"

    def _render_list_item_close(self, tokens, idx, options, env) -> str:
        return self._tags(env) + "</li>\n"

    def _render_heading_open(self, tokens, idx, options, env) -> str:
        return f'<h{env["levels"][int(tokens[idx].tag[1])]} class="md">'

    def _render_heading_close(self, tokens, idx, options, env) -> str:
        return self._tags(env) + f'</h{env["levels"][int(tokens[idx].tag[1])]}>\n'

    def _render_table_open(self, tokens, idx, options, env) -> str:
        return '<div class="table-scroll"><table class="staff-table">\n'

    def _render_th_open(self, tokens, idx, options, env) -> str:
        style = tokens[idx].attrGet("style")
        align = f' class="align-{style.split(":")[1].strip()}"' if style else ""
        return f'<th scope="col"{align}>'

    def _render_image(self, tokens, idx, options, env) -> str:
        token = tokens[idx]
        alt = self.escape(self.md.renderer.renderInlineAsText(token.children or [], options, env))
        src = token.attrGet("src") or ""
        title = token.attrGet("title")
        uri = asset_uri(self.assets, Path(src).name, self.warnings) if "://" not in src else None
        if uri is None and self.assets and (self.assets / Path(src).name).is_file():
            return f'<span class="missing-image">[{alt}]</span>'  # unreadable: warned above
        if uri is None:
            self.warnings.append(f"{env.get('source') or 'report'}: image '{src}' is not in "
                                 "data/assets/: shown as its description")
            return f'<span class="missing-image">[{alt}]</span>'
        img = f'<img src="{uri}" alt="{alt}">'
        if title and env["figure"] and env["figure"][-1]:
            return f'{img}<figcaption>{self.escape(typo(title))}</figcaption>'
        return img


def asset_uri(assets: Path | None, name: str, warnings: list[str] | None = None) -> str | None:
    """A file of ``data/assets/`` as a ``data:`` URI, written without its metadata
    (:mod:`kb.report.images`), or ``None`` when it is not there or not an image (said in
    ``warnings``). Every edition takes its images from these URIs."""
    if not assets or not name:
        return None
    path = assets / name
    if not path.is_file():
        return None
    mime = mimetypes.guess_type(path.name)[0]
    try:
        data, mime = clean_image(path.read_bytes(), mime)
    except ImageError as exc:
        if warnings is not None:
            warnings.append(f"data/assets/{name}: {exc}: left out of the report")
        return None
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def organiser_logo(assets: Path | None, organiser: str,
                   warnings: list[str] | None = None) -> str | None:
    """``data/assets/logo-<slug>.{svg,png,jpg}`` (or ``logos/<slug>.*``) for an organiser."""
    slug = slugify(organiser)
    for name in (f"logo-{slug}", f"logos/{slug}"):
        for ext in (".svg", ".png", ".jpg", ".jpeg"):
            uri = asset_uri(assets, name + ext, warnings)
            if uri:
                return uri
    return None
