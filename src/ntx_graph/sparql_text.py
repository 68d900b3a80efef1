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

from ntx_graph.errors import QueryRefused, QuerySyntaxError
from ntx_graph.record import Record

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI's start-up ~3 ms
if TYPE_CHECKING:
    from collections.abc import Iterator

QUERY_FORMS = ("SELECT", "CONSTRUCT", "ASK", "DESCRIBE")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH")
#: Keywords that make an engine fetch data from elsewhere.
FEDERATION_KEYWORDS = ("SERVICE", "FROM")
#: The deepest nesting of ``{``, ``(`` and ``[`` accepted: Oxigraph's parser
#: recurses per level and overflows the stack (SIGSEGV) at a few thousand.
MAX_NESTING = 256
NO_OUTBOUND = "ntx-graph makes no outbound connections from a query"
READ_ONLY = "SPARQL Update is not accepted: ntx-graph queries are read-only"



def _or_non_ascii(members: str) -> str:
    """A regex class of the ASCII ``members`` and every non-ASCII character,
    written as the negation of the other ASCII characters: a positive class
    over Unicode ranges costs re ~10 ms to compile per use, this costs
    nothing. (Which non-ASCII characters may stand in a name is checked
    afterwards, by :func:`_pn_chars`.)"""
    out, code = [], 0
    while code < 128:
        if chr(code) in members:
            code += 1
            continue
        end = code
        while end + 1 < 128 and chr(end + 1) not in members:
            end += 1
        out.append(f"\\x{code:02x}" + (f"-\\x{end:02x}" if end > code else ""))
        code = end + 1
    return "[^" + "".join(out) + "]"


_ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_B = _or_non_ascii(_ALPHA)  # PN_CHARS_BASE
_BU0 = _or_non_ascii(_ALPHA + "_" + _DIGITS)  # a variable's characters
_C = _or_non_ascii(_ALPHA + "_-" + _DIGITS)  # PN_CHARS
_CD = _or_non_ascii(_ALPHA + "_-." + _DIGITS)
_CDC = _or_non_ascii(_ALPHA + "_-.:" + _DIGITS)
_CC = _or_non_ascii(_ALPHA + "_-:" + _DIGITS)
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_PREFIX = rf"{_B}(?:{_CD}*{_C})?"
_LOCAL = rf"(?:{_or_non_ascii(_ALPHA + '_:' + _DIGITS)}|{_PLX})(?:(?:{_CDC}|{_PLX})*(?:{_CC}|{_PLX}))?"
#: The non-ASCII ranges of SPARQL's PN_CHARS (PN_CHARS_BASE and the extra
#: combining characters), as sorted (first, last) pairs.
_PN_RANGES = ((0xB7, 0xB7), (0xC0, 0xD6), (0xD8, 0xF6), (0xF8, 0x37D), (0x37F, 0x1FFF), (0x200C, 0x200D),
              (0x203F, 0x2040), (0x2070, 0x218F), (0x2C00, 0x2FEF), (0x3001, 0xD7FF), (0xF900, 0xFDCF),
              (0xFDF0, 0xFFFD), (0x10000, 0xEFFFF))
_UCHAR = r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}"
_EXP = r"[eE][+-]?[0-9]+"
_LEXICON = rf"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>\#COMMENT)
  | (?P<string>'''(?:'{{0,2}}(?:[^'\\]|\\.))*'''|\"\"\"(?:"{{0,2}}(?:[^"\\]|\\.))*\"\"\"
               |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><(?:[^<>"{{}}|^`\\\x00-\x20]|{_UCHAR})*>)
  | (?P<var>[?$]{_BU0}+)
  | (?P<bnode>_:{_BU0}(?:{_CD}*{_C})?)
  | (?P<pname>(?:{_PREFIX})?:(?:{_LOCAL})?)
  | (?P<word>{_B}{_BU0}*)
  | (?P<number>[0-9]+\.[0-9]*{_EXP}|\.?[0-9]+{_EXP}|[0-9]*\.[0-9]+|[0-9]+)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|<<|>>|\{{\||\|}}|[{{}}()\[\];,.*=!<>|+\-/^?~])
  | (?P<other>.)
"""
_OPEN, _CLOSE = frozenset("{(["), frozenset("})]")
_ESCAPE_RDFLIB = r"(?i)\\u([0-9a-f]{4}(?:[0-9a-f]{4})?)"  # compiled on first use (re caches it)


# -- the scanner: _LEXICON read by hand -----------------------------------------------
#
# Importing ``re`` (with enum, functools and collections) and compiling
# _LEXICON cost a cold query about 4 ms, a sixth of its budget, so the
# tokens are read by this scanner instead. _LEXICON stays the grammar:
# the scanner gives exactly its tokens (an ordered alternation, each
# alternative greedy), which tests/test_cold_start.py checks against the
# compiled expression on every saved query, the bypass corpus and random
# text.

_LETTERS = frozenset(_ALPHA)
_DIGIT_SET = frozenset(_DIGITS)
_HEX = frozenset(_DIGITS + "abcdefABCDEF")
_WS = frozenset(" \t\r\n")
_NAME0 = _LETTERS  # PN_CHARS_BASE's ASCII part (B)
_NAME_U = _LETTERS | _DIGIT_SET | {"_"}  # BU0
_NAME_C = _NAME_U | {"-"}  # C
_NAME_CD = _NAME_C | {"."}  # CD
_LOCAL0 = _NAME_U | {":"}
_LOCAL_CDC = _NAME_CD | {":"}
_LOCAL_CC = _NAME_C | {":"}
_PLX_ESCAPED = frozenset("_~.-!$&'()*+,;=/?#@%")
_NOT_IN_IRIREF = frozenset('<>"{}|^`\\' + "".join(chr(c) for c in range(0x21)))
_PUNCT2 = ("^^", "&&", "||", "!=", "<=", ">=", "<<", ">>", "{|", "|}")
_PUNCT1 = frozenset("{}()[];,.*=!<>|+-/^?~")


def _run(text: str, i: int, ascii_members: frozenset[str]) -> int:
    """The end of the run from ``i`` of ``ascii_members`` and non-ASCII characters."""
    n = len(text)
    while i < n and (text[i] in ascii_members or text[i] >= "\x80"):
        i += 1
    return i


def _in(text: str, i: int, ascii_members: frozenset[str]) -> bool:
    return i < len(text) and (text[i] in ascii_members or text[i] >= "\x80")


def _digits(text: str, i: int) -> int:
    n = len(text)
    while i < n and text[i] in _DIGIT_SET:
        i += 1
    return i


def _exponent(text: str, i: int) -> int:
    """The end of ``[eE][+-]?[0-9]+`` at ``i``, or -1."""
    if i >= len(text) or text[i] not in "eE":
        return -1
    j = i + 1
    if j < len(text) and text[j] in "+-":
        j += 1
    end = _digits(text, j)
    return end if end > j else -1


def _long_string(text: str, i: int, quote: str) -> int:
    """The end of a ``'''...'''`` (or ``\"\"\"...\"\"\"``) string at ``i``, or -1."""
    close = quote * 3
    if not text.startswith(close, i):
        return -1
    j, n = i + 3, len(text)
    while j < n:
        if text.startswith(close, j):
            return j + 3
        if text[j] == "\\":
            if j + 1 >= n:
                return -1
            j += 2
        else:
            j += 1
    return -1


def _short_string(text: str, i: int, quote: str) -> int:
    if text[i] != quote:
        return -1
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == quote:
            return j + 1
        if c in "\n\r":
            return -1
        j += 2 if c == "\\" else 1
    return -1


def _iri(text: str, i: int) -> int:
    j, n = i + 1, len(text)
    while j < n:
        c = text[j]
        if c == ">":
            return j + 1
        if c == "\\":
            size = 4 if text.startswith("u", j + 1) else 8 if text.startswith("U", j + 1) else 0
            if not size or len(text) < j + 2 + size or not all(h in _HEX for h in text[j + 2:j + 2 + size]):
                return -1
            j += 2 + size
        elif c in _NOT_IN_IRIREF:
            return -1
        else:
            j += 1
    return -1


def _trimmed(text: str, start: int, end: int) -> int:
    """``end`` moved back over trailing dots, not before ``start``."""
    while end > start and text[end - 1] == ".":
        end -= 1
    return end


def _plx(text: str, i: int) -> int:
    """The end of ``%hh`` or ``\\c`` (PLX) at ``i``, or -1."""
    if text.startswith("%", i):
        return i + 3 if len(text) >= i + 3 and text[i + 1] in _HEX and text[i + 2] in _HEX else -1
    if text.startswith("\\", i):
        return i + 2 if i + 1 < len(text) and text[i + 1] in _PLX_ESCAPED else -1
    return -1


def _local(text: str, i: int) -> int:
    """The end of a local name (PN_LOCAL) at ``i``; ``i`` if there is none."""
    end = i + 1 if _in(text, i, _LOCAL0) else _plx(text, i)
    if end < 0:
        return i
    last_unit = end  # the end of the last unit that may close the name (not a bare dot)
    j = end
    while True:
        if _in(text, j, _LOCAL_CDC):
            j += 1
            if text[j - 1] != ".":
                last_unit = j
            continue
        after = _plx(text, j)
        if after < 0:
            break
        j = last_unit = after
    return last_unit


def _pname(text: str, i: int) -> int:
    j = i
    if _in(text, i, _NAME0):
        run = _run(text, i + 1, _NAME_CD)
        if text.startswith(":", run) and text[run - 1] != ".":
            j = run
        elif not text.startswith(":", i):
            return -1
    if not text.startswith(":", j):
        return -1
    return _local(text, j + 1)


def _number(text: str, i: int) -> int:
    whole = _digits(text, i)
    if whole > i and text.startswith(".", whole):  # [0-9]+\.[0-9]*EXP
        end = _exponent(text, _digits(text, whole + 1))
        if end > 0:
            return end
    start = i + 1 if text.startswith(".", i) else i  # \.?[0-9]+EXP
    digits = _digits(text, start)
    if digits > start:
        end = _exponent(text, digits)
        if end > 0:
            return end
    if text.startswith(".", whole):  # [0-9]*\.[0-9]+
        end = _digits(text, whole + 1)
        if end > whole + 1:
            return end
    return whole if whole > i else -1


def _lang(text: str, i: int) -> int:
    if not text.startswith("@", i):
        return -1
    j = i + 1
    while j < len(text) and text[j].isascii() and text[j].isalpha():
        j += 1
    if j == i + 1:
        return -1
    while text.startswith("-", j):
        k = j + 1
        while k < len(text) and text[k].isascii() and text[k].isalnum():
            k += 1
        if k == j + 1:
            break
        j = k
    return j


def _scan(text: str, comment_end: str) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of each token of ``text``, as _LEXICON's groups
    would match them one after the other from the start."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        end = -1
        kind = ""
        if c in _WS:
            end, kind = i + 1, "ws"
            while end < n and text[end] in _WS:
                end += 1
        elif c == "#":
            end, kind = i + 1, "comment"
            while end < n and text[end] not in comment_end:
                end += 1
        if end < 0 and c in "'\"":
            end = _long_string(text, i, "'")
            if end < 0:
                end = _long_string(text, i, '"')
            if end < 0:
                end = _short_string(text, i, "'")
            if end < 0:
                end = _short_string(text, i, '"')
            kind = "string"
        if end < 0 and c == "<":
            end, kind = _iri(text, i), "iri"
        if end < 0 and c in "?$" and _in(text, i + 1, _NAME_U):
            end, kind = _run(text, i + 1, _NAME_U), "var"
        if end < 0 and text.startswith("_:", i) and _in(text, i + 2, _NAME_U):
            end, kind = _trimmed(text, i + 3, _run(text, i + 3, _NAME_CD)), "bnode"
        if end < 0 and (c == ":" or c in _NAME0 or c >= "\x80"):
            end, kind = _pname(text, i), "pname"
        if end < 0 and (c in _NAME0 or c >= "\x80"):
            end, kind = _run(text, i + 1, _NAME_U), "word"
        if end < 0 and (c in _DIGIT_SET or c == "."):
            end, kind = _number(text, i), "number"
        if end < 0 and c == "@":
            end, kind = _lang(text, i), "lang"
        if end < 0:
            two = text[i:i + 2]
            if two in _PUNCT2:
                end, kind = i + 2, "punct"
            elif c in _PUNCT1:
                end, kind = i + 1, "punct"
            else:
                end, kind = i + 1, "other"
        yield kind, i, end
        i = end


class Token(Record):
    """A lexical token: its kind, its text and where it starts."""

    __slots__ = ("kind", "text", "start")  # noqa: RUF023 (the fields' order)
    kind: str
    text: str
    start: int

    def __init__(self, kind: str, text: str, start: int) -> None:
        self._init(kind=kind, text=text, start=start)

    @property
    def keyword(self) -> str:
        """The text in ASCII upper case for a bare word, else ``""``."""
        return self.text.upper() if self.kind == "word" and self.text.isascii() else ""


class QueryInfo(Record):
    """What :func:`analyse` found in a SPARQL text (offsets index ``text``).

    ``form``: SELECT, CONSTRUCT, ASK, DESCRIBE, or ``""`` for an update.
    ``update``: whether the text is (or smuggles) a SPARQL Update request.
    ``operation``: the first operation keyword (a form or an update keyword).
    ``where``: the offset of the ``{`` opening the outer WHERE group, -1 if
    none; ``construct_where``: whether it is the short ``CONSTRUCT WHERE {``.
    ``federation``: the federation keywords found, in order (SERVICE, FROM,
    FROM NAMED); ``services``, ``from_graphs``, ``from_named``, ``graphs``:
    what follows SERVICE, FROM, FROM NAMED and GRAPH, as written (an IRI, a
    prefixed name or a variable). ``has_base`` and ``prefixes``: what the
    prologue declares. ``relative_iris``: IRIs written relative (``<x>``),
    which need a base. ``names_used``: the prefixes of the prefixed names
    written (``ex`` for ``ex:a``), declared or not. ``rdflib_problem``: why rdflib's reading (escapes
    expanded) cannot be placed, ``""`` when it can; Oxigraph does not read
    the text that way.
    """

    __slots__ = ("text", "form", "update", "operation", "where", "construct_where",  # noqa: RUF023 (the order)
                 "federation", "services", "from_graphs", "from_named", "graphs", "has_base", "prefixes",
                 "relative_iris", "names_used", "rdflib_problem")
    text: str
    form: str
    update: bool
    operation: str
    where: int
    construct_where: bool
    federation: tuple[str, ...]
    services: tuple[str, ...]
    from_graphs: tuple[str, ...]
    from_named: tuple[str, ...]
    graphs: tuple[str, ...]
    has_base: bool
    prefixes: dict[str, str]
    relative_iris: tuple[str, ...]
    names_used: frozenset[str]
    rdflib_problem: str

    def __init__(self, text: str, form: str, update: bool, operation: str, where: int, *,
                 construct_where: bool = False, federation: tuple[str, ...] = (), services: tuple[str, ...] = (),
                 from_graphs: tuple[str, ...] = (), from_named: tuple[str, ...] = (), graphs: tuple[str, ...] = (),
                 has_base: bool = False, prefixes: dict[str, str] | None = None,
                 relative_iris: tuple[str, ...] = (), names_used: frozenset[str] = frozenset(),
                 rdflib_problem: str = "") -> None:
        self._init(text=text, form=form, update=update, operation=operation, where=where,
                   construct_where=construct_where, federation=federation, services=services,
                   from_graphs=from_graphs, from_named=from_named, graphs=graphs, has_base=has_base,
                   prefixes=dict(prefixes or {}), relative_iris=relative_iris, names_used=names_used,
                   rdflib_problem=rdflib_problem)


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
    for kind, start, end in _scan(text, comment_end):
        if kind in ("ws", "comment"):
            continue
        value = text[start:end]
        if kind == "other":
            raise _Unreadable(_other_message(value, text, start), start)
        if not value.isascii() and kind in ("var", "bnode", "pname", "word"):
            bad = next((c for c in value if not c.isascii() and not _pn_char(c)), "")
            if bad:
                raise _Unreadable(_other_message(bad, text, start), start)
        if kind == "word" and not value.isascii():
            folds = _folds_to(value)
            raise _Unreadable(f"the word {value!r} is not SPARQL: keywords and function names are ASCII letters"
                              + (f" (rdflib would read it as {folds})" if folds else ""), start, folds)
        if kind == "punct":
            if value in _OPEN:
                depth += 1
                if depth > MAX_NESTING:
                    raise _Unreadable(f"the query nests groups and brackets more than {MAX_NESTING} levels deep",
                                      start)
            elif value in _CLOSE:
                depth -= 1
        out.append(Token(kind, value, start))
    return out


def _pn_char(char: str) -> bool:
    """Whether a non-ASCII ``char`` may stand in a name (PN_CHARS)."""
    from bisect import bisect_right

    code = ord(char)
    i = bisect_right(_PN_RANGES, (code, 0x10FFFF)) - 1
    return i >= 0 and _PN_RANGES[i][0] <= code <= _PN_RANGES[i][1]


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
    if "\\" not in text:
        return text
    import re  # only for text with a backslash: a cold query of plain text does not import re

    def char(match: re.Match[str]) -> str:
        code = int(match.group(1), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise ValueError(f"the codepoint escape {match.group()} is not a character")
        return chr(code)
    return re.sub(_ESCAPE_RDFLIB, char, text)


def _keyword_hits(toks: list[Token]) -> list[tuple[int, str]]:
    """(index, keyword) for each bare word or prefix that holds a federation
    or update keyword anywhere: Oxigraph matches keywords (and ``true``,
    ``false``) without a word boundary, so ``SERVICEex:a`` is ``SERVICE
    ex:a`` and ``?s ?p trueSERVICE <x> {}`` is ``?s ?p true . SERVICE <x>
    {}``. The word is upper-cased with ``str.upper()``, as rdflib does. No
    SPARQL keyword or function name holds one of these words, so only a
    prefix named like ``service:`` or ``from:`` is refused needlessly."""
    hits: list[tuple[int, str]] = []
    for i, tok in enumerate(toks):
        if tok.kind not in ("word", "pname"):
            continue
        upper = (tok.text.partition(":")[0] if tok.kind == "pname" else tok.text).upper()
        hits += [(i, k) for k in FEDERATION_KEYWORDS if k in upper]
        if tok.kind == "word":
            hits += [(i, k) for k in UPDATE_KEYWORDS if k in upper]
    return hits


#: The last analyses (a dict, not functools.lru_cache: functools costs a cold
#: query ~1 ms to import); cleared when it holds ANALYSED_MAX texts.
_analysed: dict[str, QueryInfo] = {}
ANALYSED_MAX = 512


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
    found = _analysed.get(text)
    if found is None:
        found = _analyse(text)
        if len(_analysed) >= ANALYSED_MAX:
            _analysed.clear()
        _analysed[text] = found
    return found


def _analyse(text: str) -> QueryInfo:
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
        federation = info.federation
        for keyword in FEDERATION_KEYWORDS:  # what rdflib's reading finds beyond Oxigraph's, once each
            beyond = sum(k == keyword for _, k in extra) - sum(k.startswith(keyword) for k in info.federation)
            federation += (keyword,) * max(0, beyond)
        updates = [k for _, k in extra if k in UPDATE_KEYWORDS]
        info = _replace(info, federation=federation, update=info.update or bool(updates),
                        operation=info.operation if info.update or not updates else updates[0],
                        form="" if updates else info.form, rdflib_problem=rdflib_problem)
    elif rdflib_problem:
        info = _replace(info, rdflib_problem=rdflib_problem)
    return info


def _replace(info: QueryInfo, **changes: object) -> QueryInfo:
    copy = info.replace(**changes)
    assert isinstance(copy, QueryInfo)
    return copy


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
        upper = tok.text.upper()
        glued = tok.text[upper.find(keyword) + len(keyword):] if len(upper) == len(tok.text) else ""
        nxt = j + 1
        if keyword == "FROM" and not glued and nxt < len(toks) and toks[nxt].keyword == "NAMED":
            keyword, nxt = "FROM NAMED", nxt + 1
        if keyword == "SERVICE" and not glued and nxt < len(toks) and toks[nxt].keyword == "SILENT":
            nxt += 1
        target = glued if glued else (toks[nxt].text if nxt < len(toks) else "")
        {"SERVICE": services, "FROM": from_graphs, "FROM NAMED": from_named}[keyword].append(target)
        federation.append(keyword)
    graphs = [toks[j + 1].text for j, t in enumerate(toks[:-1]) if t.keyword == "GRAPH"]
    relative = tuple(t.text[1:-1] for t in toks if t.kind == "iri" and not _has_scheme(t.text[1:-1]))
    where, short = _where_brace(toks, i)
    return QueryInfo(
        text=text, form="" if update else first, update=update,
        operation=first if first in UPDATE_KEYWORDS or not update else updates[0],
        where=where, construct_where=short, federation=tuple(federation), services=tuple(services),
        from_graphs=tuple(from_graphs), from_named=tuple(from_named), graphs=tuple(graphs), has_base=has_base,
        prefixes=prefixes, relative_iris=relative,
        names_used=frozenset(t.text.partition(":")[0] for t in toks if t.kind == "pname"),
    )


def _has_scheme(iri: str) -> bool:
    """Whether ``iri`` starts with a scheme, ``[A-Za-z][A-Za-z0-9+.-]*:``
    (str methods: a cold query compiles no regex beyond the lexer).

    >>> _has_scheme("http://e/"), _has_scheme("urn:x"), _has_scheme("x"), _has_scheme("1a:b"), _has_scheme(":b")
    (True, True, False, False, False)
    """
    scheme, colon, _ = iri.partition(":")
    return bool(colon and scheme and scheme.isascii() and scheme[0].isalpha()
                and all(c.isalnum() or c in "+.-" for c in scheme))


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
    """Whether ``text`` is (or smuggles) a SPARQL Update request; also True
    for text the analyser cannot read, so that a caller using this as a gate
    lets nothing unclassified through. :func:`analyse` and
    :func:`check_policy` say why.

    >>> is_update("#x\\rDROP ALL"), is_update("ASK {}"), is_update("\\\\ DROP")
    (True, False, True)
    """
    try:
        return analyse(text).update
    except QueryRefused:
        return False
    except QuerySyntaxError:
        return True


def where_brace(text: str) -> int:
    """The offset of the ``{`` opening the outer WHERE group; -1 if none."""
    return analyse(text).where
