"""Light lexical analysis of SPARQL text: the query form and the keywords that
matter for safety (SERVICE, FROM, updates), found outside strings, IRIs and
comments. It does not validate; the engine's parser does that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

_TOKEN = re.compile(
    r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
  | (?P<word>[A-Za-z_][A-Za-z0-9_\-]*(?::(?:[^\s{}()\[\];,\\]|\\\S)*)?|:(?:[^\s{}()\[\];,\\]|\\\S)*)
  | (?P<punct>[{}()\[\];,.])
  | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)

QUERY_FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")


@dataclass(frozen=True)
class Token:
    """A lexical token: its kind, its text and where it starts."""

    kind: str
    text: str
    start: int


def tokens(text: str) -> list[Token]:
    """The tokens of ``text``, comments left out."""
    return [
        Token(m.lastgroup or "other", m.group(), m.start())
        for m in _TOKEN.finditer(text)
        if m.lastgroup != "comment"
    ]


def _keywords(text: str) -> list[str]:
    return [t.text.upper() for t in tokens(text) if t.kind == "word"]


def operation(text: str) -> str:
    """The first operation keyword: a query form or an update keyword.

    >>> operation("PREFIX ex: <http://e/> # c\\nask { ?s ?p ?o }")
    'ASK'
    >>> operation("INSERT DATA { <a> <b> <c> }")
    'INSERT'
    """
    for word in _keywords(text):
        if word in QUERY_FORMS or word in UPDATE_KEYWORDS:
            return word
    return ""


@lru_cache(maxsize=256)
def is_update(text: str) -> bool:
    """Whether ``text`` is a SPARQL Update request rather than a query."""
    return operation(text) in UPDATE_KEYWORDS or operation(unescape_codepoints(text)) in UPDATE_KEYWORDS


_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def unescape_codepoints(text: str) -> str:
    """``text`` with ``\\uXXXX`` and ``\\UXXXXXXXX`` replaced by their characters,
    as SPARQL 1.1 section 19.2 says a parser does first (rdflib does)."""
    def char(match: re.Match[str]) -> str:
        code = int(match.group(1) or match.group(2), 16)
        return chr(code) if code <= 0x10FFFF else match.group()
    return _CODEPOINT.sub(char, text)


def stray_backslash(text: str) -> bool:
    """Whether a backslash stands outside every string, IRI and prefixed name:
    text the lexical checks cannot read as a parser would."""
    return any(t.kind == "other" and t.text == "\\" for t in tokens(text))


def federation_keywords(text: str) -> list[str]:
    """The federation keywords in ``text`` (see :func:`_federation_keywords`)."""
    return list(_federation_keywords_cached(text))


@lru_cache(maxsize=256)
def _federation_keywords_cached(text: str) -> tuple[str, ...]:
    """See _federation_keywords; the text is read both as written and with
    codepoint escapes expanded, and a stray backslash counts as SERVICE."""
    found = _federation_keywords(text) + _federation_keywords(unescape_codepoints(text))
    if stray_backslash(text) or stray_backslash(unescape_codepoints(text)):
        found.append("SERVICE")
    return tuple(dict.fromkeys(found))


def _federation_keywords(text: str) -> list[str]:
    """The keywords in ``text`` that could make an engine fetch remote data:
    ``SERVICE``, ``FROM`` and ``FROM NAMED``.

    >>> federation_keywords('SELECT * FROM <http://x/> WHERE { ?s ?p "SERVICE" }')
    ['FROM']
    """
    found: list[str] = []
    words = _keywords(text)
    for i, word in enumerate(words):
        if word == "SERVICE":
            found.append("SERVICE")
        elif word == "FROM":
            found.append("FROM NAMED" if i + 1 < len(words) and words[i + 1] == "NAMED" else "FROM")
    return found


def where_brace(text: str) -> int:
    """The offset of the ``{`` that opens the outermost group pattern of the
    query (after ``WHERE`` or, for ``ASK {`` and ``SELECT * {``, the first
    brace at the top level outside a CONSTRUCT template); -1 if none."""
    toks = tokens(text)
    seen_form = ""
    depth = 0
    for i, tok in enumerate(toks):
        if tok.kind == "word" and tok.text.upper() in QUERY_FORMS and not seen_form and depth == 0:
            seen_form = tok.text.upper()
        if tok.kind == "word" and tok.text.upper() == "WHERE" and depth == 0:
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            return nxt.start if nxt is not None and nxt.text == "{" else -1
        if tok.text == "{":
            if depth == 0 and seen_form in ("SELECT", "ASK", "DESCRIBE"):
                return tok.start
            depth += 1
        elif tok.text == "}":
            depth -= 1
    return -1
