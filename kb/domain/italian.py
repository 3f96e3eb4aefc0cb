"""Italian articles and articulated prepositions, for generated sentences that name
organisations and dates ("sollevato dalla Cooperativa Sociale Il Mosaico", "dal 1º novembre").
The hybridisation's reasons and the report both write with them."""

from __future__ import annotations

import re

# Articulated prepositions: preposition -> article -> the joined form.
_JOINED = {
    "da": {"il": "dal", "lo": "dallo", "la": "dalla", "l’": "dall’", "i": "dai", "gli": "dagli", "le": "dalle"},
    "di": {"il": "del", "lo": "dello", "la": "della", "l’": "dell’", "i": "dei", "gli": "degli", "le": "delle"},
    "a": {"il": "al", "lo": "allo", "la": "alla", "l’": "all’", "i": "ai", "gli": "agli", "le": "alle"},
    "in": {"il": "nel", "lo": "nello", "la": "nella", "l’": "nell’", "i": "nei", "gli": "negli", "le": "nelle"},
    "su": {"il": "sul", "lo": "sullo", "la": "sulla", "l’": "sull’", "i": "sui", "gli": "sugli", "le": "sulle"},
    "tra": {},
}
_SPACE = {"l’": ""}


def with_space(article: str) -> str:
    """The article as it stands before a word: ``il `` but ``l’`` (no space)."""
    return article + _SPACE.get(article, " ")


def joined(preposition: str, article: str) -> str:
    """``da`` + ``la`` -> ``dalla ``; ``da`` + ``l’`` -> ``dall’``; no article -> ``da ``."""
    if not article:
        return preposition + " "
    form = _JOINED.get(preposition, {}).get(article)
    if form is None:
        return f"{preposition} {with_space(article)}"
    return form + _SPACE.get(article, " ")


# The article an organisation's name takes, from its first word: the common noun a name starts
# with (``la Cooperativa …``, ``il Consorzio …``), or the article it starts with (``I ragazzi di
# Bobbio``); a proper name (``Kilowatt``) takes none.
_NAME_ARTICLES = {
    "la": ("agenzia", "associazione", "banca", "regione", "provincia", "camera", "bottega", "cantina", "casa", "cassa", "comunità",
           "cooperativa", "federazione", "fondazione", "impresa", "mutua", "officina", "rete",
           "scuola", "società", "social", "strada", "unione", "azienda", "biblioteca", "fattoria"),
    "le": ("cooperative", "officine", "botteghe"),
    "il": ("caseificio", "centro", "circolo", "collettivo", "comitato", "comune", "consorzio",
           "coworking", "distretto", "forno", "fablab", "gruppo", "laboratorio", "mercato",
           "museo", "repair", "teatro", "gas", "cantiere", "forum", "emporio", "ministero",
           "fondo"),
    "lo": ("spazio", "studio", "sportello"),
    "l’": ("hub", "orto", "osservatorio", "atelier"),
    "gli": ("orti",),
}
_ARTICLE_OF = {word: article for article, words in _NAME_ARTICLES.items() for word in words}
_LEADING_ARTICLE = re.compile(r"^(?:(il|lo|la|i|gli|le)\s+|(l[’']))(?=\w)", re.I)


def _article_of(name: str) -> tuple[str, str]:
    """The article a name takes and the name without an article it starts with."""
    lead = _LEADING_ARTICLE.match(name)
    if lead:
        return (lead.group(1) or lead.group(2)).lower().replace("'", "’"), name[lead.end():]
    first = re.split(r"[\s’']", name, 1)[0].casefold()
    article = _ARTICLE_OF.get(first, "")
    if article in ("la", "il", "lo") and name[:1].lower() in "aeiou":
        article = "l’"  # l’Associazione, l’Emporio Solidale
    return article, name


def name_with(preposition: str, name: str) -> str:
    """An organisation's name after a preposition: ``dalla Cooperativa Sociale Il Mosaico``,
    ``dal Consorzio Terre del Po``, ``dai ragazzi di Bobbio``, ``da Kilowatt Soc. Coop``."""
    article, rest = _article_of(name)
    return joined(preposition, article) + rest


def with_article(name: str) -> str:
    """An organisation's name as a subject or object: ``la Cooperativa Sociale Il Mosaico``,
    ``l’Hub Cesena``, ``I ragazzi di Bobbio``, ``Kilowatt Soc. Coop``."""
    if _LEADING_ARTICLE.match(name):
        return name  # it carries its own article
    article, _ = _article_of(name)
    return with_space(article) + name if article else name
