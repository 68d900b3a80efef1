"""Property tests of Turtle loaded in blocks (:func:`ntx_graph.rdf_io.load_plain`): for random Turtle text
from a grammar-aware generator, and for broken variants of it, loading in blocks of any size, in memory
and on disk, gives the graph and the prefixes of one full parse by pyoxigraph, or fails as it does (a
full parse's SyntaxError, and a DataError naming the same line and column); never a silent load."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyoxigraph import CanonicalizationAlgorithm, Dataset, RdfFormat, Store, parse

from ntx_graph import rdf_io
from ntx_graph.errors import DataError
from ntx_graph.rdf_io import load_plain, read_rdf, syntax_message

Draw = st.DrawFn

# -- the generator: a document is a list of tokens and separators, joined ------------------------------

#: Prefix names, some declared twice (a redefinition) with other IRIs; all lowercase ASCII apart from é.
_NAMES = ("ex", "", "e.x", "e-1", "é")
_NAMESPACES = ("http://example.org/", "http://one.example/a/", "http://two.example/p.q/", "rel/", "../up/", "?q=",
               "http://example.org/with%20space/", "http://example.org/it's/")
_LOCALS = ("a", "b1", "1a", "a.b", "a\\.b", "a\\#", "it\\'s", "a%20b", "a\\~", "a:b", "a-b", "_x", "a\\.", "x\\,y",
           "\\(a\\)", "é", "", "s\\;", "a\\/b", "a\\?b")
_IRIS = ("<http://example.org/a#b.c>", "<http://example.org/x.>", "<rel.>", "<#frag>", "<>", "<../up.ttl>",
         "<http://example.org/it's>", "<http://example.org/\\u0041.>", "<http://example.org/a?q=1#.>",
         "<//host.example/p>", "<?q.>", "<urn:x:y.>")
_STRING_CHARS = st.sampled_from((".", "#", "'", '"', '\\"', "\\\\", "\\n", "\\t", "\\u00e9", "<", ">", ";", ",", " ",
                                 "a", "é", "x.", " . ", "# .", "[", "(", "{|", "\\'", "@"))
_LONG_CHARS = st.sampled_from((".", "#", "'", '"', '""', "\n", "\r\n", " .\n", "a", "\\\"", "<x>", " ", "\\n"))
_NUMBERS = ("1", "-1", "+7", "1.5", ".5", "-.5", "1e5", "1.E-5", "0.0", "12", "1.0e0")
_COMMENTS = st.sampled_from((".", "#", '"', "'", "<", ">", "x", "end.", "<http://a/>", '"str', ";", "\\", "(", " ",
                             "'''", "}", "]"))
_TERMINATOR_SEPARATORS = (" ", "", "\n", "\t")


@dataclass(frozen=True)
class Options:
    """What a document may hold."""

    long_strings: bool = False  # "...""" with line breaks in them
    carriage_returns: bool = True  # a lone CR as a line break (it also ends a comment)
    gaps: bool = False  # 4 KiB of comment lines inside a directive (a head once ended there)


def _separator(draw: Draw, options: Options) -> str:
    """Whitespace between two tokens: spaces, line breaks of both kinds, comments (that end with a
    dot, hold quotes or '<'); at least one character."""
    choices = [" ", "  ", "\n", "\r\n", "\t", "\n\n    "]
    if options.carriage_returns:
        choices.append("\r")
    kind = draw(st.sampled_from([*choices, "comment", "comment"]))
    if kind != "comment":
        return kind
    text = _no_long_quote("".join(draw(st.lists(_COMMENTS, max_size=5))))
    end = draw(st.sampled_from(["\n", "\r\n", "\r"] if options.carriage_returns else ["\n", "\r\n"]))
    return draw(st.sampled_from([" ", "\n", ""])) + "#" + text + end


def _no_long_quote(text: str) -> str:
    """``text`` without three quotes in a row (a file holding them is loaded whole, not in blocks)."""
    for quotes in ("'''", '"""'):
        while quotes in text:
            text = text.replace(quotes, quotes[:2] + " " + quotes[0])
    return text


class _Doc:
    """Tokens drawn in order, with the prefixes declared so far (a name used is one declared)."""

    def __init__(self, draw: Draw, options: Options) -> None:
        self.draw, self.options = draw, options
        self.tokens: list[str] = []
        self.declared: list[str] = []

    def add(self, *tokens: str) -> None:
        for token in tokens:
            if self.tokens and not self.tokens[-1].isspace() and not self.tokens[-1].startswith(("#", " #", "\n#")):
                self.tokens.append(_separator(self.draw, self.options))
            self.tokens.append(token)

    def glued(self, token: str) -> None:
        """A token written right after the previous one, without a separator (a terminator after a number
        or a name: ``1.``, ``ex:a.``)."""
        self.tokens.append(token)

    # terms
    def iri(self) -> str:
        draw = self.draw
        named: bool = draw(st.booleans())
        if self.declared and named:
            return f"{draw(st.sampled_from(self.declared))}:{draw(st.sampled_from(_LOCALS))}"
        return draw(st.sampled_from(_IRIS))

    def literal(self, short: bool = False) -> str:
        """A string, maybe with a language tag or a datatype; long strings (with line breaks) if the
        options allow them and not ``short`` (pyoxigraph 0.5 refuses them in a triple term)."""
        draw = self.draw
        long = self.options.long_strings and not short
        quote = draw(st.sampled_from(['"', "'", '"""', "'''"] if long else ['"', "'"]))
        pieces = draw(st.lists(_LONG_CHARS if len(quote) == 3 else _STRING_CHARS, max_size=6))
        if len(quote) == 1:  # the quote itself escaped, the other one as it is
            body = _no_long_quote("".join("\\" + quote if piece == quote else piece for piece in pieces))
        else:  # no three quotes in a row inside, none at the end
            body = re.sub(quote[0] + "{3,}", lambda run: "".join("\\" + quote[0] if i % 3 == 2 else quote[0]
                                                              for i in range(len(run[0]))), "".join(pieces))
            body += " " if body.endswith(quote[0]) else ""
        suffix = draw(st.sampled_from(["", "", "@en", "@en-US", "^^<http://www.w3.org/2001/XMLSchema#string>",
                                       "^^name"]))
        if suffix == "^^name":
            suffix = f"^^{self.iri()}"
        return quote + body + quote + suffix

    def subject(self, depth: int, reified: bool = False) -> None:
        """A subject; in a reified triple ``<< ... >>`` only an IRI, ``[]`` or another reified triple."""
        kinds = ["iri", "iri", "anon", "reified"] if reified else ["iri", "iri", "anon", "list", "collection",
                                                                   "reified"]
        kind = self.draw(st.sampled_from(kinds if depth < 2 else ["iri", "anon"]))
        if kind == "iri":
            self.add(self.iri())
        elif kind == "anon":
            self.add("[]")
        elif kind == "list":
            self.add("[")
            self.predicate_objects(depth + 1)
            self.add("]")
        elif kind == "collection":
            self.add("(")
            for _ in range(self.draw(st.integers(0, 3))):
                self.object(depth + 1, annotated=False)
            self.add(")")
        else:
            self.add("<<")
            self.subject(depth + 1, reified=True)
            self.add(self.iri())
            self.object(depth + 1, reified=True, annotated=False)
            if self.draw(st.booleans()):
                self.add("~", self.iri())
            self.add(">>")

    def object(self, depth: int, *, reified: bool = False, annotated: bool = True) -> None:
        """An object; an annotation ``{| ... |}`` after it in a statement's object list only."""
        kinds = ["iri", "iri", "literal", "literal", "number", "bool"]
        if depth < 2:
            kinds += ["anon", "triple term", "reified"] + ([] if reified else ["list", "collection"])
        kind = self.draw(st.sampled_from(kinds))
        if kind == "iri":
            self.add(self.iri())
        elif kind == "literal":
            self.add(self.literal(short=reified))
        elif kind == "number":
            self.add(self.draw(st.sampled_from(_NUMBERS)))
        elif kind == "bool":
            self.add(self.draw(st.sampled_from(["true", "false"])))
        elif kind == "triple term":
            self.add("<<(", self.iri(), self.iri())
            self.add(self.draw(st.sampled_from([self.iri(), self.literal(short=True), "1"])), ")>>")
        else:
            self.subject(depth, reified)  # [], [ ... ], ( ... ), << ... >>: the same forms as a subject's
        if annotated and self.draw(st.integers(0, 5)) == 0:
            if self.draw(st.booleans()):
                self.add("~", self.iri())
            if self.draw(st.integers(0, 3)):
                self.add("{|")
                self.predicate_objects(depth + 1)
                self.add("|}")

    def predicate_objects(self, depth: int) -> None:
        for index in range(self.draw(st.integers(1, 3))):
            if index:
                self.add(";")
            self.add(self._verb())
            for number in range(self.draw(st.integers(1, 3))):
                if number:
                    self.add(",")
                self.object(depth)
        if self.draw(st.integers(0, 3)) == 0:
            self.add(";")

    def _verb(self) -> str:
        return "a" if self.draw(st.integers(0, 4)) == 0 else self.iri()

    def statement(self) -> None:
        """A statement: a subject and its predicates and objects; a ``[ ... ]`` or ``<< ... >>`` alone."""
        draw = self.draw
        start = len(self.tokens)
        self.subject(0)
        alone = self.tokens[start] in ("[", "<<") and self.tokens[start:] != ["[]"]
        if not alone or draw(st.booleans()):
            self.predicate_objects(0)
        if draw(st.booleans()):
            self.glued(".")  # 1. or ex:a. or true. : the dot ends the statement, not the number or the name
        else:
            self.add(".")
        if draw(st.booleans()):  # most often a statement ends its line (there a block may end)
            self.glued(draw(st.sampled_from(["\n", "\r\n"])))

    def directive(self) -> None:
        """``@prefix``/``PREFIX``/``@base``/``BASE`` (two cases for the SPARQL forms), maybe a redefinition,
        or ``VERSION``; maybe (with the ``gaps`` option) with 4 KiB of comment lines between two tokens."""
        draw = self.draw
        name = draw(st.sampled_from(_NAMES))
        kind = draw(st.sampled_from(["@prefix", "PREFIX", "prefix", "@base", "BASE", "base", "VERSION"]))
        iri = f"<{draw(st.sampled_from(_NAMESPACES))}>"
        if kind == "VERSION":  # RDF 1.2's directive without a directive's word: no state, may stand anywhere
            self.add(kind, draw(st.sampled_from(['"1.2"', "'1.2-basic'"])))
            return
        tokens = [kind, f"{name}:", iri] if kind.endswith(("prefix", "PREFIX")) else [kind, iri]
        if len(tokens) == 3:
            self.declared.append(name)
        if kind.startswith("@"):
            tokens.append(".")
        gap = draw(st.integers(0, len(tokens) - 1)) if self.options.gaps and draw(st.booleans()) else 0
        for index, token in enumerate(tokens):
            if index and index == gap:
                self.add("\n")
                self.glued(_GAP)
            self.add(token)


#: Comment lines of 4.3 KB with no directive's word in them.
_GAP = "".join(f"# line {i} of a long comment.\n" for i in range(150))


def _filler(index: int) -> str:
    """A statement of 4.2 KB, with no directive's word in it, to push what follows past the head (which
    runs 4 KiB past the last 'prefix' or 'base'); one line, so that tiny blocks stay few."""
    return f'<http://filler.example/s{index}> <http://filler.example/p> "{"filler . # " * 380}" .\n'


@st.composite
def documents(draw: Draw, options: Options = Options()) -> list[str]:
    """A Turtle document as tokens: a head of directives and statements, then statements, with fillers
    that push them past the head, and maybe a later directive (with a filler after it too)."""
    doc = _Doc(draw, options)
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.integers(0, 3)):
            doc.directive()
        else:
            doc.statement()
    for part in range(draw(st.integers(1, 2))):
        if part and draw(st.booleans()):
            doc.directive()
        if draw(st.sampled_from([True, True, True, False])):
            doc.add("\n")
            doc.glued(_filler(part))
        for _ in range(draw(st.integers(1, 8))):
            doc.statement()
    doc.add("\n")
    return doc.tokens


def _broken(tokens: list[str], draw: Callable[[st.SearchStrategy[Any]], Any]) -> list[str]:
    """``tokens`` with one mistake: a token deleted, a string or an IRI left open, a stray dot or bracket,
    a terminator dropped, an undeclared prefix."""
    places = [i for i, token in enumerate(tokens) if token and not token.isspace() and "#" not in token[:2]]
    if not places:
        return [*tokens, "."]
    index = draw(st.sampled_from(places[len(places) // 2:] if draw(st.booleans()) else places))  # often late
    token = tokens[index]
    kind = draw(st.sampled_from(["delete", "open", "stray dot", "stray bracket", "undeclared", "doubled"]))
    changed = list(tokens)
    if kind == "delete":
        changed[index] = ""
    elif kind == "open":
        if token[:1] in "\"'<":
            changed[index] = token[:-1] if token[-1:] in "\"'>" else token[1:]
        else:
            changed[index] = draw(st.sampled_from(['"open', "<http://open.example/", "'open", '"""open']))
    elif kind == "stray dot":
        changed[index] = token + draw(st.sampled_from([" .", ".", " . ."]))
    elif kind == "stray bracket":
        changed[index] = token + draw(st.sampled_from([" ]", " [", " )", " (", " |}", " >>", " <<"]))
    elif kind == "undeclared":
        changed[index] = "nobody:here"
    else:
        changed[index] = token + " " + token
    return changed


# -- the check -----------------------------------------------------------------------------------------

def _canonical(dataset: Dataset) -> set[str]:
    dataset.canonicalize(CanonicalizationAlgorithm.UNSTABLE)
    return {str(quad) for quad in dataset}


def _full_parse(path: Path) -> tuple[set[str], dict[str, str]] | SyntaxError:
    """The graph (in a store, which writes numbers in their canonical form: ``+7`` as ``7``) and the
    prefixes of one full parse of ``path``, or its error."""
    parser = parse(path=path, format=RdfFormat.TURTLE, base_iri=path.resolve().as_uri())
    store = Store()
    try:
        store.extend(parser)
    except SyntaxError as error:
        return error
    return _canonical(Dataset(store)), {str(k): str(v) for k, v in (parser.prefixes or {}).items()}


def check_blocks(text: bytes, block: int, bulk: bool) -> str:
    """Load ``text`` with :func:`load_plain` in blocks of ``block`` bytes (``block`` is a Turtle block:
    the N-Triples one is ``TURTLE_DENSITY`` times it) and compare with one full parse; what happened."""
    size = block * rdf_io.TURTLE_DENSITY
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp, \
            mock.patch.object(rdf_io, "LOAD_BLOCK_BYTES", size), mock.patch.object(rdf_io, "BULK_BLOCK_BYTES", size):
        path = Path(tmp) / "data.ttl"
        path.write_bytes(text)
        return _compare(path, Path(tmp) / "store" if bulk else None, block)


def _compare(path: Path, directory: Path | None, block: int) -> str:
    """Load ``path`` as :func:`ntx_graph.rdf_io.load_file` does, into an on-disk store in ``directory``
    (with the bulk loader) or in memory, and compare with one full parse (the store is dropped on return,
    before its directory is removed)."""
    text, expected = path.read_bytes(), _full_parse(path)
    store = Store(str(directory)) if directory else Store()
    try:
        with read_rdf(path) as rdf:
            loaded = load_plain(store, rdf, path, bulk=directory is not None)
            if loaded is None:  # left to the parser, as load_file leaves it
                store.extend(rdf.quads)
            found = rdf.prefixes if loaded is None else loaded.prefixes
    except DataError as error:
        assert isinstance(expected, SyntaxError), f"{text!r}: a valid file failed in blocks: {error}"
        # the same words at the same place (see test_an_iri_or_a_string_left_open_before_a_statement_end...)
        assert str(error) == f"{path}: {syntax_message(expected)}", f"{text!r}: another error"
        return "both failed"
    assert not isinstance(expected, SyntaxError), f"{text!r}: an invalid file loaded in blocks: {expected}"
    graph, prefixes = expected
    got = _canonical(Dataset(store))
    assert got == graph, f"{text!r}: in blocks only {sorted(got - graph)}, in one parse only {sorted(graph - got)}"
    assert found == prefixes, f"{text!r}: other prefixes"
    if loaded is None:  # on disk, a file within one block or with a long string is left to the parser
        assert directory and (len(text) <= block or b'"""' in text or b"'''" in text)
        return "left to the parser"
    return "loaded"


_EXAMPLES = settings(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


def _check_sizes(text: bytes, bulk_block: int) -> None:
    """``text`` loaded in memory in blocks of every size, and on disk in blocks of ``bulk_block`` bytes
    (a store on disk costs some 20 ms; one in memory, 2)."""
    for block in (4, 64, 5000):
        check_blocks(text, block, bulk=False)
    check_blocks(text, bulk_block, bulk=True)


_BULK_BLOCKS = st.sampled_from([4, 16, 64, 300, 1024, 5000, 1 << 20])


@settings(_EXAMPLES, max_examples=40)
@given(documents(), _BULK_BLOCKS)
def test_random_turtle_loads_in_blocks_as_one_full_parse(tokens: list[str], block: int) -> None:
    _check_sizes("".join(tokens).encode(), block)


@settings(_EXAMPLES, max_examples=20)
@given(documents(Options(long_strings=True)), _BULK_BLOCKS)
def test_random_turtle_with_long_strings_loads_as_one_full_parse(tokens: list[str], block: int) -> None:
    _check_sizes("".join(tokens).encode(), block)


@settings(_EXAMPLES, max_examples=40)
@given(st.data(), documents(), _BULK_BLOCKS)
def test_broken_turtle_never_loads_silently(data: st.DataObject, tokens: list[str], block: int) -> None:
    _check_sizes("".join(_broken(tokens, data.draw)).encode(), block)


@settings(_EXAMPLES, max_examples=20)
@given(documents(Options(gaps=True)), _BULK_BLOCKS)
def test_random_turtle_with_gaps_in_directives_loads_as_one_full_parse(tokens: list[str], block: int) -> None:
    _check_sizes("".join(tokens).encode(), block)


# -- counter-examples the tests above found, reduced (fixed since) ------------------------------------

#: 4 KiB of blank lines: no token, no directive's word.
_BLANK = "\n" * 4200
#: Statements after the directive, past the first block (which reads on by the head's size at a time).
_LATER = "".join(f"ex:s ex:p ex:o{i} .\n" for i in range(600))


@pytest.mark.parametrize("bulk", [False, True], ids=["in memory", "on disk"])
def test_a_prefix_redefined_with_its_iri_4_kib_after_its_name_holds_in_later_blocks(bulk: bool) -> None:
    """A directive spread over 4 KiB of lines lies in the head whole: the later blocks get the second
    binding of ``ex:`` (a head cut 4 KiB past the last 'prefix' kept the first one, and their triples
    silently took the wrong IRI)."""
    text = "@prefix ex: <http://one.example/> .\n@prefix ex:" + _BLANK + "<http://two.example/> .\n" + _LATER
    assert check_blocks(text.encode(), 1024, bulk) == "loaded"


@pytest.mark.parametrize("bulk", [False, True], ids=["in memory", "on disk"])
def test_a_prefix_with_its_iri_4_kib_after_its_name_is_declared_in_later_blocks(bulk: bool) -> None:
    """The same with a single ``PREFIX`` (a head cut inside it failed a valid file: 'The prefix ex: has
    not been declared')."""
    assert check_blocks(("PREFIX ex:" + _BLANK + "<http://two.example/>\n" + _LATER).encode(), 1024, bulk) == "loaded"


@pytest.mark.parametrize("bulk", [False, True], ids=["in memory", "on disk"])
def test_a_base_4_kib_after_its_keyword_resolves_later_blocks(bulk: bool) -> None:
    """The same with ``@base`` (a head cut inside it resolved the later blocks' ``<o>`` against the
    file's IRI)."""
    later = "".join(f"<s> <p> <o{i}> .\n" for i in range(600))
    assert check_blocks(("@base" + _BLANK + "<http://two.example/> .\n" + later).encode(), 1024, bulk) == "loaded"


def test_a_directive_spread_past_the_head_at_the_default_block_size() -> None:
    """The same at the default block size (the bug was not an artefact of tiny blocks): 0.6 MB, loaded
    in memory."""
    body = "".join(f"ex:s{i} ex:p ex:o{i} .\n" for i in range(30000))
    text = "@prefix ex: <http://one.example/> .\n@prefix ex:" + _BLANK + "<http://two.example/> .\n" + body
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.ttl"
        path.write_text(text, encoding="utf-8")
        assert path.stat().st_size > rdf_io.LOAD_BLOCK_BYTES // rdf_io.TURTLE_DENSITY
        assert _compare(path, None, rdf_io.LOAD_BLOCK_BYTES // rdf_io.TURTLE_DENSITY) == "loaded"


@pytest.mark.parametrize("bulk", [False, True], ids=["in memory", "on disk"])
def test_an_error_after_a_lone_carriage_return_in_an_earlier_block_names_its_line(bulk: bool) -> None:
    """The parser counts a lone CR as a line break (it ends a comment there too), and so do the lines
    of the blocks before an error (counted by LF alone, the error named a line too early)."""
    text = b'<http://e/s> <http://e/p> 1 .\r<http://e/s> <http://e/p> 2 .\n<http://e/s> <http://e/p> "open .\n'
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp, \
            mock.patch.object(rdf_io, "LOAD_BLOCK_BYTES", 16), mock.patch.object(rdf_io, "BULK_BLOCK_BYTES", 16):
        path = Path(tmp) / "data.ttl"
        path.write_bytes(text)
        error = _full_parse(path)
        assert isinstance(error, SyntaxError) and error.lineno == 3
        store = Store(str(Path(tmp) / "store")) if bulk else Store()
        with pytest.raises(DataError) as raised, read_rdf(path) as rdf:
            load_plain(store, rdf, path, bulk=bulk)
        del store
        assert str(raised.value) == f"{path}: {syntax_message(error)}"


def test_ntriples_lines_ended_by_a_lone_carriage_return_count_their_triples() -> None:
    """N-Triples ends a line at CR as well as LF (EOL ::= [#xD#xA]+): two triples on one LF-ended line
    are two triples, as the store shows."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.nt"
        path.write_bytes(b"<http://e/a> <http://e/p> <http://e/b> .\r<http://e/a> <http://e/p> <http://e/c> .\n")
        store = Store()
        with read_rdf(path) as rdf:
            loaded = load_plain(store, rdf, path)
        assert loaded is not None and loaded.triples == len(store) == 2


_LEFT_OPEN = {  # the text, and one full parse's error
    "an IRI": (b"<http://e/s> <http://e/p> <http://e/o .\n.\n<http://e/s> <http://e/p> <http://e/o> .\n",
               "syntax error at line 1, column 27: Invalid IRI code point ' '"),
    "a string": (b'<http://e/s> <http://e/p> "open\n.\n<http://e/s> <http://e/p> "o" .\n',
                 "syntax error at line 1, column 32: Line jumps are not allowed in string literals, use \\n"),
}


@pytest.mark.parametrize("bulk", [False, True], ids=["in memory", "on disk"])
@pytest.mark.parametrize("case", _LEFT_OPEN)
def test_an_iri_or_a_string_left_open_before_a_statement_end_fails_on_its_line(case: str, bulk: bool) -> None:
    """Regression: an IRI or a string left open, then a line that ends with ``.``, where a block ends.
    Loading the block, the parser reads on to the block's end and says 'Unexpected end of file' at
    the IRI's or string's start; the file is then parsed on from that block, so that the error is one
    full parse's, words and column: 'Invalid IRI code point' or 'Line jumps are not allowed'."""
    text, message = _LEFT_OPEN[case]
    assert check_blocks(text, 4, bulk) == "both failed"
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp:
        path = Path(tmp) / "data.ttl"
        path.write_bytes(text)
        error = _full_parse(path)
        assert isinstance(error, SyntaxError) and syntax_message(error) == message


@pytest.mark.parametrize("bulk", [False, True], ids=["in memory", "on disk"])
def test_a_lenient_load_reports_the_lenient_parsers_error(bulk: bool) -> None:
    """Regression: the file parsed on after a failed block is read as leniently as the load, so an IRI
    the lenient load accepts (``%zz``) is not reported in place of the error one full lenient parse
    reports (the lenient parser reads a string across lines)."""
    text = (b"<http://e/s> <http://e/p> <http://e/%zz> .\n" * 40
            + b'<http://e/s> <http://e/p> "open\n.\n<http://e/s> <http://e/p> "o" .\n')
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as tmp, \
            mock.patch.object(rdf_io, "LOAD_BLOCK_BYTES", 64), mock.patch.object(rdf_io, "BULK_BLOCK_BYTES", 64):
        path = Path(tmp) / "data.ttl"
        path.write_bytes(text)
        with pytest.raises(SyntaxError) as full:
            list(parse(path=path, format=RdfFormat.TURTLE, base_iri=path.resolve().as_uri(), lenient=True))
        assert full.value.lineno == 41
        store = Store(str(Path(tmp) / "store")) if bulk else Store()
        with pytest.raises(DataError) as raised, read_rdf(path, lenient=True) as rdf:
            load_plain(store, rdf, path, bulk=bulk, lenient=True)
        del store
        assert str(raised.value) == f"{path}: {syntax_message(full.value)}"
