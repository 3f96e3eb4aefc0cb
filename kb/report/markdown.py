"""Markdown of notes and staff texts -> safe HTML for the report, and the images of
``data/assets/`` as ``data:`` URIs."""

from __future__ import annotations

import base64
import json
import mimetypes
from pathlib import Path

from ..normalise import MENTION, TAG, organisation_key, slugify
from .words import typo


class Markdown:
    """Staff and notes' Markdown rendered safely: no raw HTML (``<script>`` shows as text),
    ``[[mentions]]`` as the organisation's name, ``#theme`` tags as chips, headings shifted
    below the report's own, images only from ``data/assets/`` (embedded)."""

    def __init__(self, organisations: dict[str, dict], themes: dict[str, dict],
                 assets: Path | None, warnings: list[str]):
        from markdown_it import MarkdownIt
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
        md = MarkdownIt("commonmark", {"html": False, "typographer": True, "quotes": "«»“”"})
        md.enable(["replacements", "smartquotes"])
        md.inline.ruler.before("link", "mention", self._mention_rule)
        md.inline.ruler.before("link", "tag", self._tag_rule)
        for token_type, method in (("mention", self._render_mention), ("tag", self._render_tag),
                                   ("heading_open", self._render_heading_open),
                                   ("heading_close", self._render_heading_close),
                                   ("image", self._render_image)):
            # markdown-it binds a rule to its renderer: hand it a plain function
            md.add_render_rule(token_type, lambda _renderer, *args, _m=method: _m(*args))
        self.md = md

    def render(self, text: str | None, heading_level: int = 3, source: str = "") -> str:
        from markupsafe import Markup
        if not text:
            return Markup("")
        env = {"heading_level": heading_level, "source": source}
        return Markup(self.md.render(text, env))

    # [[name]], [[name|shown]], [[!name]]
    def _mention_rule(self, state, silent: bool) -> bool:
        if not state.src.startswith("[[", state.pos):
            return False
        match = MENTION.match(state.src, state.pos)
        if not match:
            return False
        if not silent:
            token = state.push("mention", "", 0)
            token.meta = {"name": match.group(2).strip(), "raised": match.group(1) == "!",
                          "shown": match.group(3)}
        state.pos = match.end()
        return True

    def _render_mention(self, tokens, idx, options, env) -> str:
        meta = tokens[idx].meta
        org_id = meta["name"] if meta["name"] in self.organisations else \
            self.by_key.get(organisation_key(meta["name"]))
        shown = meta["shown"] or (self.organisations[org_id]["name"] if org_id else meta["name"])
        cls = "org source" if meta["raised"] else "org"
        return f'<span class="{cls}">{self.escape(typo(shown.strip()))}</span>'

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
        if not silent:
            token = state.push("tag", "", 0)
            token.meta = {"theme": match.group(1)}
        state.pos = match.end()
        return True

    def _render_tag(self, tokens, idx, options, env) -> str:
        theme = self.themes[tokens[idx].meta["theme"]]
        return f'<span class="tag">{self.escape(typo(theme["label"]))}</span>'

    def _render_heading_open(self, tokens, idx, options, env) -> str:
        level = min(6, int(tokens[idx].tag[1]) + env.get("heading_level", 3) - 1)
        return f"<h{level} class=\"md\">"

    def _render_heading_close(self, tokens, idx, options, env) -> str:
        level = min(6, int(tokens[idx].tag[1]) + env.get("heading_level", 3) - 1)
        return f"</h{level}>\n"

    def _render_image(self, tokens, idx, options, env) -> str:
        token = tokens[idx]
        alt = self.escape(self.md.renderer.renderInlineAsText(token.children or [], options, env))
        src = token.attrGet("src") or ""
        uri = asset_uri(self.assets, Path(src).name) if "://" not in src else None
        if uri is None:
            self.warnings.append(f"{env.get('source') or 'report'}: image '{src}' is not in "
                                 "data/assets/: shown as its description")
            return f'<span class="missing-image">[{alt}]</span>'
        return f'<img src="{uri}" alt="{alt}">'


def asset_uri(assets: Path | None, name: str) -> str | None:
    """A file of ``data/assets/`` as a ``data:`` URI, or ``None`` when it is not there."""
    if not assets or not name:
        return None
    path = assets / name
    if not path.is_file():
        return None
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode()}"


def organiser_logo(assets: Path | None, organiser: str) -> str | None:
    """``data/assets/logo-<slug>.{svg,png,jpg}`` (or ``logos/<slug>.*``) for an organiser."""
    slug = slugify(organiser)
    for name in (f"logo-{slug}", f"logos/{slug}"):
        for ext in (".svg", ".png", ".jpg", ".jpeg"):
            uri = asset_uri(assets, name + ext)
            if uri:
                return uri
    return None
