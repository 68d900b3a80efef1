"""The one analyser of SPARQL text: :func:`analyse` reads a query as the
engines' parsers do and reports its form, where its outer WHERE group opens,
the IRIs it names in SERVICE, FROM, FROM NAMED and GRAPH, whether it is an
update, and what it declares. It does not validate; the engine's parser does
that. The policy built on it (:func:`check_policy`, ``server.guard``) refuses
what could reach the network or change a graph.

The text is read twice when the two readings can differ:

* as Oxigraph reads it: codepoint escapes (``\\u0041``) only inside strings
  and IRIs, a ``#`` comment ended by ``\\r`` or ``\\n``, keywords matched
  ASCII-case-insensitively and *without* a word boundary (Oxigraph reads
  ``SERVICEex:a`` as ``SERVICE ex:a``);
* as rdflib reads it: every codepoint escape expanded first (SPARQL 1.1
  section 19.2), a comment ended only by ``\\n``, keywords matched with
  ``str.upper()`` (so ``\u017fERVICE``, with a long s, reads as ``SERVICE``).

A keyword found in either reading counts. A word outside strings, IRIs and
comments that holds a non-ASCII letter is refused (no SPARQL keyword has
one), and so is any character neither reading can place. The lexer is
hand-written over one compiled regex because importing a SPARQL parser
(rdflib's pyparsing grammar) costs more than the CLI's whole start-up budget.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from ntx_graph.errors import QueryRefused, QuerySyntaxError

QUERY_FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
#: Keywords that make an engine fetch data from elsewhere.
FEDERATION_KEYWORDS = ("SERVICE", "FROM")
#: The deepest nesting of ``{``, ``(`` and ``[`` accepted: Oxigraph's parser
#: recurses per level and overflows the stack (SIGSEGV) at a few thousand.
MAX_NESTING = 256
NO_OUTBOUND = "ntx-graph makes no outbound connections from a query"
READ_ONLY = "SPARQL Update is not accepted: ntx-graph queries are read-only"

_BASE = ("A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
         "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
_CHARS = _BASE + r"_\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PREFIX = rf"[{_BASE}](?:[{_CHARS}.]*[{_CHARS}])?"
_LOCAL = rf"(?:[{_BASE}_:0-9]|{_PLX})(?:(?:[{_CHARS}.:]|{_PLX})*(?:[{_CHARS}:]|{_PLX}))?"
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_EXP = r"[eE][+-]?[0-9]+"
_LEXICON = rf"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>\#COMMENT)
  | (?P<string>'''(?:'{{0,2}}(?:[^'\\]|\\.))*'''|\"\"\"(?:"{{0,2}}(?:[^"\\]|\\.))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)
  | (?P<var>[?$][{_BASE}_0-9][{_BASE}_0-9\u00b7\u0300-\u036f\u203f-\u2040]*)
  | (?P<bnode>_:[{_BASE}_0-9](?:[{_CHARS}.]*[{_CHARS}])?)
  | (?P<pname>(?:{_PREFIX})?:(?:{_LOCAL})?)
  | (?P<word>[{_BASE}][{_BASE}_0-9]*)
  | (?P<number>[0-9]+\.[0-9]*{_EXP}|\.?[0-9]+{_EXP}|[0-9]*\.[0-9]+|[0-9]+)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|<<|>>|\{{\||\|}}|[{{}}()\[\];,.*=!<>|+\-/^?~])
  | (?P<other>.)
"""
_OPEN, _CLOSE = frozenset("{(["), frozenset("})]")
_ESCAPE_RDFLIB = re.compile(r"\\u([0-9a-f]{4}(?:[0-9a-f]{4})?)", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


@lru_cache(maxsize=2)
def _lexer(comment_end: str) -> re.Pattern[str]:
    return re.compile(_LEXICON.replace("COMMENT", f"[^{comment_end}]*"), re.VERBOSE | re.DOTALL)


@dataclass(frozen=True)
class Token:
    """A lexical token: its kind, its text and where it starts."""

    kind: str
    text: str
    start: int

    @property
    def keyword(self) -> str:
        """The text in ASCII upper case for a bare word, else ``""``."""
        return self.text.upper() if self.kind == "word" and self.text.isascii() else ""


@dataclass(frozen=True)
class QueryInfo:
    """What :func:`analyse` found in a SPARQL text (offsets index ``text``)."""

    text: str
    #: ``SELECT``, ``CONSTRUCT``, ``ASK``, ``DESCRIBE``, or ``""`` for an update.
    form: str
    #: Whether the text is (or smuggles) a SPARQL Update request.
    update: bool
    #: The first operation keyword (a form or an update keyword).
    operation: str
    #: Offset of the ``{`` opening the outer WHERE group; -1 if none.
    where: int
    #: Whether the WHERE group is the short ``CONSTRUCT WHERE { ... }``.
    construct_where: bool = False
    #: The federation keywords found, in order: SERVICE, FROM, FROM NAMED.
    federation: tuple[str, ...] = ()
    #: The IRIs (or ``?var``) after SERVICE, FROM, FROM NAMED and GRAPH, as written.
    services: tuple[str, ...] = ()
    from_graphs: tuple[str, ...] = ()
    from_named: tuple[str, ...] = ()
    graphs: tuple[str, ...] = ()
    #: Whether the prologue declares BASE, and the prefixes it declares.
    has_base: bool = False
    prefixes: dict[str, str] = field(default_factory=dict)
    #: Relative IRIs written in the text (``<x>``), which need a base IRI.
    relative_iris: tuple[str, ...] = ()
    #: Why rdflib's reading of the text (escapes expanded) cannot be placed;
    #: ``""`` when it can. Oxigraph does not read the text that way.
    rdflib_problem: str = ""

    @property
    def is_graph_form(self) -> bool:
        """Whether the answer is a graph (CONSTRUCT, DESCRIBE)."""
        return self.form in ("CONSTRUCT", "DESCRIBE")


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


class _Unreadable(Exception):
    """A character no token can start with."""

    def __init__(self, message: str, offset: int, folds: str = "") -> None:
        super().__init__(message)
        self.offset = offset
        self.folds = folds


def _tokens(text: str, comment_end: str) -> list[Token]:
    out: list[Token] = []
    depth = 0
    for match in _lexer(comment_end).finditer(text):
        kind = match.lastgroup or "other"
        if kind in ("ws", "comment"):
            continue
        value = match.group()
        if kind == "other":
            raise _Unreadable(_other_message(value, text, match.start()), match.start())
        if kind == "word" and not value.isascii():
            folds = _folds_to(value)
            raise _Unreadable(f"the word {value!r} is not SPARQL: keywords and function names are ASCII letters"
                              + (f" (rdflib would read it as {folds})" if folds else ""), match.start(), folds)
        if kind == "punct":
            if value in _OPEN:
                depth += 1
                if depth > MAX_NESTING:
                    raise _Unreadable(f"the query nests groups and brackets more than {MAX_NESTING} levels deep",
                                      match.start())
            elif value in _CLOSE:
                depth -= 1
        out.append(Token(kind, value, match.start()))
    return out


def _other_message(char: str, text: str, offset: int) -> str:
    if char == "\\":
        return "a backslash outside strings, IRIs and prefixed names is not SPARQL"
    if char in "'\"":
        return "a string is not closed"
    if char == "<":
        return "an IRI is not closed (or holds a character IRIs may not)"
    return f"the character U+{ord(char):04X} is not allowed outside strings, IRIs and comments"


def _folds_to(word: str) -> str:
    """The keyword ``word`` starts with once upper-cased by ``str.upper()``."""
    upper = word.upper()
    return next((k for k in (*FEDERATION_KEYWORDS, *UPDATE_KEYWORDS, *QUERY_FORMS) if upper.startswith(k)), "")


def tokens(text: str) -> list[Token]:
    """The tokens of ``text`` as Oxigraph reads it, comments left out;
    QuerySyntaxError if a character cannot be placed."""
    try:
        return _tokens(text, "\r\n")
    except _Unreadable as error:
        raise QuerySyntaxError(f"SPARQL syntax error at {_where(text, error.offset)}: {error}") from None


def expand_escapes(text: str) -> str:
    """``text`` with codepoint escapes expanded as rdflib does (``\\u`` or
    ``\\U`` and 4 or 8 hex digits, either case); ValueError on a number that
    is not a character."""
    def char(match: re.Match[str]) -> str:
        code = int(match.group(1), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"the codepoint escape {match.group()} is not a character")
        return chr(code)
    return _ESCAPE_RDFLIB.sub(char, text)


def _keyword_hits(toks: list[Token]) -> list[tuple[int, str]]:
    """(index, keyword) for each token holding a federation or update keyword,
    also glued to what follows (``SERVICEex:a``, ``FROM:g``, ``DROPALL``), and
    in a prefix that ``str.upper()`` turns into one (rdflib)."""
    hits: list[tuple[int, str]] = []
    for i, tok in enumerate(toks):
        if tok.kind not in ("word", "pname"):
            continue
        head = tok.text.partition(":")[0] if tok.kind == "pname" else tok.text
        upper = head.upper()
        hits += [(i, k) for k in FEDERATION_KEYWORDS if upper.startswith(k)]
        if tok.kind == "word":
            hits += [(i, k) for k in UPDATE_KEYWORDS if upper.startswith(k)]
    return hits


@lru_cache(maxsize=512)
def analyse(text: str) -> QueryInfo:
    """Read ``text`` as the engines do. Raises QuerySyntaxError when the text
    cannot be read (and so cannot be classified), QueryRefused when a
    reading finds SERVICE or FROM the other reading could not place.

    >>> info = analyse("PREFIX ex: <http://e/> CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
    >>> info.form, info.where, info.prefixes
    ('CONSTRUCT', 52, {'ex': 'http://e/'})
    >>> analyse('SELECT * WHERE { #x\\rSERVICE <http://e/> { ?s ?p ?o } }').federation
    ('SERVICE',)
    """
    rdflib_text, rdflib_problem = text, ""
    try:
        rdflib_text = expand_escapes(text)
    except ValueError as error:
        rdflib_problem = str(error)
    rdflib_toks: list[Token] = []
    rdflib_folds = ""
    needs_second = rdflib_text != text or "\r" in text
    if needs_second and not rdflib_problem:
        try:
            rdflib_toks = _tokens(rdflib_text, "\n")
        except _Unreadable as error:
            rdflib_problem = f"with its codepoint escapes expanded, at {_where(rdflib_text, error.offset)}: {error}"
            rdflib_folds = error.folds
    try:
        toks = _tokens(text, "\r\n")
    except _Unreadable as error:
        found = [k for _, k in _keyword_hits(rdflib_toks) if k in FEDERATION_KEYWORDS]
        if found:
            raise QueryRefused(f"{found[0]} is refused (written with codepoint escapes): it could fetch remote "
                               f"data and {NO_OUTBOUND}") from None
        if rdflib_folds:  # an escaped non-ASCII letter that rdflib would fold into a keyword
            raise QuerySyntaxError(f"SPARQL syntax error {rdflib_problem}") from None
        raise QuerySyntaxError(f"SPARQL syntax error at {_where(text, error.offset)}: {error}") from None
    if not toks:
        raise QuerySyntaxError("the query is empty: it has no SELECT, CONSTRUCT, ASK or DESCRIBE")
    info = _read(text, toks)
    if needs_second and rdflib_toks:
        extra = _keyword_hits(rdflib_toks)
        federation = tuple(dict.fromkeys(info.federation + tuple(k for _, k in extra if k in FEDERATION_KEYWORDS)))
        updates = [k for _, k in extra if k in UPDATE_KEYWORDS]
        info = _replace(info, federation=federation, update=info.update or bool(updates),
                        operation=info.operation if info.update or not updates else updates[0],
                        form="" if updates else info.form, rdflib_problem=rdflib_problem)
    elif rdflib_problem:
        info = _replace(info, rdflib_problem=rdflib_problem)
    return info


def _replace(info: QueryInfo, **changes: object) -> QueryInfo:
    from dataclasses import replace

    return replace(info, **changes)  # type: ignore[arg-type]


def _read(text: str, toks: list[Token]) -> QueryInfo:
    prefixes: dict[str, str] = {}
    has_base = False
    i = 0
    while i < len(toks) and toks[i].keyword in ("BASE", "PREFIX"):
        if toks[i].keyword == "BASE":
            has_base = True
            i += 2
        else:
            if i + 2 < len(toks) and toks[i + 1].kind == "pname" and toks[i + 2].kind == "iri":
                prefixes[toks[i + 1].text[:-1]] = toks[i + 2].text[1:-1]
            i += 3
    if i >= len(toks):
        raise QuerySyntaxError("the query is empty: after its BASE and PREFIX declarations it has no SELECT, "
                               "CONSTRUCT, ASK or DESCRIBE")
    first = toks[i].keyword
    hits = _keyword_hits(toks)
    updates = [k for _, k in hits if k in UPDATE_KEYWORDS]
    update = first in UPDATE_KEYWORDS or bool(updates)
    if first not in QUERY_FORMS and not update:
        raise QuerySyntaxError(f"SPARQL syntax error at {_where(text, toks[i].start)}: expected SELECT, "
                               f"CONSTRUCT, ASK or DESCRIBE (after BASE and PREFIX), found {toks[i].text!r}")
    services: list[str] = []
    from_graphs: list[str] = []
    from_named: list[str] = []
    federation: list[str] = []
    for j, keyword in hits:
        if keyword in UPDATE_KEYWORDS:
            continue
        tok = toks[j]
        glued = tok.text[len(keyword):]
        nxt = j + 1
        if keyword == "FROM" and not glued and nxt < len(toks) and toks[nxt].keyword == "NAMED":
            keyword, nxt = "FROM NAMED", nxt + 1
        if keyword == "SERVICE" and not glued and nxt < len(toks) and toks[nxt].keyword == "SILENT":
            nxt += 1
        target = glued if glued else (toks[nxt].text if nxt < len(toks) else "")
        {"SERVICE": services, "FROM": from_graphs, "FROM NAMED": from_named}[keyword].append(target)
        federation.append(keyword)
    graphs = [toks[j + 1].text for j, t in enumerate(toks[:-1]) if t.keyword == "GRAPH"]
    relative = tuple(t.text[1:-1] for t in toks if t.kind == "iri" and not _SCHEME.match(t.text[1:]))
    where, short = _where_brace(toks, i)
    return QueryInfo(
        text=text, form="" if update else first, update=update,
        operation=first if first in UPDATE_KEYWORDS or not update else updates[0],
        where=where, construct_where=short, federation=tuple(federation), services=tuple(services),
        from_graphs=tuple(from_graphs), from_named=tuple(from_named), graphs=tuple(graphs), has_base=has_base,
        prefixes=prefixes, relative_iris=relative,
    )


def _where_brace(toks: list[Token], start: int) -> tuple[int, bool]:
    """The outer group's ``{`` (after WHERE, or the first top-level brace of
    ``ASK {`` and ``SELECT * {``, never a CONSTRUCT template) and whether it
    is the short form ``CONSTRUCT WHERE {``."""
    form = toks[start].keyword
    depth = 0
    for i in range(start, len(toks)):
        tok = toks[i]
        if tok.keyword == "WHERE" and depth == 0:
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            short = form == "CONSTRUCT" and toks[i - 1].keyword == "CONSTRUCT"
            return (nxt.start, short) if nxt is not None and nxt.text == "{" else (-1, False)
        if tok.text == "{":
            if depth == 0 and form in ("SELECT", "ASK", "DESCRIBE"):
                return tok.start, False
            depth += 1
        elif tok.text == "}":
            depth -= 1
    return -1, False


def check_policy(info: QueryInfo, *, allow_federation: bool = False, engine: str = "oxigraph") -> None:
    """Refuse (QueryRefused) an update, and SERVICE, FROM or FROM NAMED
    unless ``allow_federation``; refuse text rdflib would read differently
    from Oxigraph when ``engine`` is not Oxigraph."""
    if info.update:
        raise QueryRefused(READ_ONLY)
    if engine != "oxigraph" and info.rdflib_problem:
        raise QuerySyntaxError(f"SPARQL syntax error {info.rdflib_problem}")
    if info.federation and not allow_federation:
        raise QueryRefused(f"{info.federation[0]} is refused: it could fetch remote data; "
                           "allow federation explicitly to use it (--allow-federation)")


# -- compatibility entry points (one analyser underneath) ---------------------


def operation(text: str) -> str:
    """The first operation keyword: a query form or an update keyword.

    >>> operation("PREFIX ex: <http://e/> # c\\nask { ?s ?p ?o }")
    'ASK'
    """
    return analyse(text).operation


def is_update(text: str) -> bool:
    """Whether ``text`` is (or smuggles) a SPARQL Update request."""
    try:
        return analyse(text).update
    except (QuerySyntaxError, QueryRefused):
        return False


def where_brace(text: str) -> int:
    """The offset of the ``{`` opening the outer WHERE group; -1 if none."""
    return analyse(text).where
