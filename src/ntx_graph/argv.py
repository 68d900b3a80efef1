"""A small command-line parser driven by a table of options, for the CLI.

Hand-written because the cold-start budget forbids ``argparse``: importing
it (with ``gettext`` and ``shutil``) and building the subcommands' parsers
cost a cold query about 5 ms, a fifth of its budget. It reads what argparse
reads, as the CLI uses it: ``--opt value``, ``--opt=value``, ``-o value``,
``-ovalue``, unique prefixes of long options, ``--`` ending the options,
positional arguments anywhere, repeatable options, ``--x/--no-x`` switches,
required and mutually exclusive options; ``-h``/``--help`` prints help built
from the same table. Usage errors are one line, in argparse's words, with
exit status 2.

>>> spec = (Option("--format", "-f", choices=("csv", "tsv"), help="the format"),
...         Option("--param", "-p", action="append", help="a parameter"), Option("name", action="?", help="a name"))
>>> ns = parse(spec, ["q", "-fcsv", "--par=a=1", "-p", "b=2"], prog="demo")
>>> ns.name, ns.format, ns.param
('q', 'csv', ['a=1', 'b=2'])
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing costs the CLI's start-up ~3 ms
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn

#: Actions: ``store`` (one value), ``append`` (repeatable), ``store_true``
#: (a flag), ``switch`` (``--x`` / ``--no-x``, default None); for positional
#: arguments ``one`` (required), ``?`` (optional) and ``*`` (any number).
ACTIONS = ("store", "append", "store_true", "switch", "one", "?", "*")


class Option:
    """One option or positional argument of a command (argparse's
    ``add_argument``, as data)."""

    __slots__ = ("action", "choices", "convert", "default", "dest", "exclusive", "flags", "group", "help", "metavar",
                 "required")

    def __init__(self, *flags: str, action: str = "store", help: str, metavar: str | None = None,
                 default: Any = None, choices: Sequence[str] | None = None, convert: Callable[[str], Any] | None = None,
                 required: bool = False, group: str | None = None, exclusive: str | None = None) -> None:
        assert action in ACTIONS, action
        self.flags, self.action, self.help, self.default = flags, action, help, default
        self.choices, self.convert, self.required = choices, convert, required
        self.group, self.exclusive = group, exclusive
        first = next((f for f in flags if f.startswith("--")), flags[0])
        self.dest = first.lstrip("-").replace("-", "_")
        self.metavar = metavar or (self.dest.upper() if flags[0].startswith("-") else self.dest)

    @property
    def positional(self) -> bool:
        return not self.flags[0].startswith("-")

    @property
    def takes_value(self) -> bool:
        return self.action in ("store", "append")

    @property
    def shown(self) -> str:
        """The name in messages: ``--format/-f``, or a positional's metavar."""
        return self.metavar if self.positional else "/".join(self.flags)

    def value_shown(self) -> str:
        return "{" + ",".join(self.choices) + "}" if self.choices and self.metavar == self.dest.upper() \
            else self.metavar


class Namespace:
    """The parsed arguments, as attributes (argparse's Namespace)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:  # for mypy: any attribute may be read
        raise AttributeError(name)

    def __setattr__(self, name: str, value: Any) -> None:  # and set
        self.__dict__[name] = value

    def __repr__(self) -> str:
        return "Namespace(" + ", ".join(f"{k}={v!r}" for k, v in sorted(self.__dict__.items())) + ")"


class HelpRequested(Exception):
    """``-h``/``--help`` was given."""


def usage_error(message: str, prog: str) -> NoReturn:
    """Write the one-line usage error and exit with status 2."""
    sys.stderr.write(f"ntx-graph: error: {message} (see '{prog} --help')\n")
    raise SystemExit(2)


def _is_number(text: str) -> bool:
    """``-1``, ``-0.5``: a value, not an option (argparse's rule)."""
    body = text[1:]
    return bool(body) and body.replace(".", "", 1).isdigit() and not body.endswith(".")


def _long(spec: Sequence[Option], name: str, prog: str) -> tuple[Option | None, str]:
    """The option a long flag names (``--help``: None), exactly or by a unique prefix."""
    flags: dict[str, Option | None] = {"--help": None}
    for option in spec:
        for flag in option.flags:
            if flag.startswith("--"):
                flags[flag] = option
                if option.action == "switch":
                    flags["--no-" + flag[2:]] = option
    if name in flags:
        return flags[name], name
    matches = [flag for flag in flags if flag.startswith(name)]
    if len(matches) == 1:
        return flags[matches[0]], matches[0]
    if matches:
        usage_error(f"ambiguous option: {name} could match {', '.join(matches)}", prog)
    return None, ""


def parse(spec: Sequence[Option], argv: Sequence[str], *, prog: str) -> Namespace:
    """The arguments ``argv`` read by ``spec``; usage errors exit with status
    2 (see :func:`usage_error`); HelpRequested for ``-h``/``--help``."""
    values: dict[str, Any] = {}
    for option in spec:
        values[option.dest] = [] if option.action in ("append", "*") else (
            False if option.action == "store_true" else option.default)
    loose: list[str] = []
    unknown: list[str] = []
    seen: dict[str, Option] = {}
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            loose += args[i:]
            break
        if not arg.startswith("-") or arg == "-" or _is_number(arg):
            loose.append(arg)
            continue
        explicit: str | None = None
        if arg.startswith("--"):
            name, equals, rest = arg.partition("=")
            explicit = rest if equals else None
            if name == "--":  # "--=x"
                unknown.append(arg)
                continue
            named, flag = _long(spec, name, prog)
            if named is None and flag == "--help":
                raise HelpRequested
            if named is None:
                unknown.append(arg)
                continue
            option = named
        else:
            flag = arg[:2]
            if flag == "-h":
                raise HelpRequested
            found = [o for o in spec if flag in o.flags]
            if not found:
                unknown.append(arg)
                continue
            option = found[0]
            if len(arg) > 2:
                explicit = arg[3:] if arg[2] == "=" else arg[2:]
        if option.exclusive is not None:
            other = next((o for o in seen.values() if o.exclusive == option.exclusive and o is not option), None)
            if other is not None:
                usage_error(f"argument {option.shown}: not allowed with argument {other.shown}", prog)
        seen[option.dest] = option
        if not option.takes_value:
            if explicit is not None:
                usage_error(f"argument {option.shown}: ignored explicit argument {explicit!r}", prog)
            values[option.dest] = not flag.startswith("--no-") if option.action == "switch" else True
            continue
        if explicit is None:
            if i >= len(args) or (args[i].startswith("-") and args[i] != "-" and not _is_number(args[i])):
                usage_error(f"argument {option.shown}: expected one argument", prog)
            explicit = args[i]
            i += 1
        value = _convert(option, explicit, prog)
        if option.action == "append":
            values[option.dest].append(value)
        else:
            values[option.dest] = value
    for option in spec:
        if not option.positional:
            continue
        if option.action == "*":
            values[option.dest] = [_convert(option, v, prog) for v in loose]
            loose = []
        elif loose:
            values[option.dest] = _convert(option, loose.pop(0), prog)
            seen[option.dest] = option
    unknown += loose
    if unknown:
        usage_error(f"unrecognized arguments: {' '.join(unknown)}", prog)
    missing = [o.shown for o in spec if (o.required or o.action == "one") and o.dest not in seen]
    if missing:
        usage_error(f"the following arguments are required: {', '.join(missing)}", prog)
    return Namespace(**values)


def _convert(option: Option, text: str, prog: str) -> Any:
    value: Any = text
    if option.convert is not None:
        try:
            value = option.convert(text)
        except (TypeError, ValueError):
            name = getattr(option.convert, "__name__", "")
            usage_error(f"argument {option.shown}: invalid {name} value: {text!r}", prog)
    if option.choices is not None and value not in option.choices:
        shown = ", ".join(repr(c) for c in option.choices)
        usage_error(f"argument {option.shown}: invalid choice: {value!r} (choose from {shown})", prog)
    return value


# -- help -------------------------------------------------------------------------------


def width() -> int:
    """The terminal's width less 2, as argparse takes it (COLUMNS, else the terminal, else 80)."""
    try:
        return int(os.environ.get("COLUMNS", "")) - 2
    except ValueError:
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns - 2  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 78


def wrap(text: str | Sequence[str], width: int, indent: str = "", first: str | None = None) -> list[str]:
    """``text``'s words (or the given items) in lines of at most ``width``
    characters after ``first`` (default: ``indent``), then ``indent``; a
    longer word stands alone."""
    lines: list[str] = []
    line = indent if first is None else first
    placed = False
    for word in text.split() if isinstance(text, str) else text:
        if placed and len(line) + 1 + len(word) > width:
            lines.append(line)
            line, placed = indent, False
        line += word if not line or line.endswith(" ") else " " + word
        placed = True
    lines.append(line)
    return lines


def _invocation(option: Option) -> str:
    if option.positional:
        return option.metavar
    flags = list(option.flags)
    if option.action == "switch":
        flags += ["--no-" + f[2:] for f in option.flags if f.startswith("--")]
    return ", ".join(flags) + (" " + option.value_shown() if option.takes_value else "")


def _usage_item(option: Option) -> str:
    if option.positional:
        return {"one": option.metavar, "?": f"[{option.metavar}]", "*": f"[{option.metavar} ...]"}[option.action]
    flag = option.flags[0]
    if option.action == "switch":
        return f"[{flag} | --no-{flag[2:]}]"
    shown = flag + (" " + option.value_shown() if option.takes_value else "")
    return shown if option.required else f"[{shown}]"


def help_text(prog: str, spec: Sequence[Option], description: str, epilog: str, *, tail: str = "",
              sections: Sequence[tuple[str, Sequence[tuple[str, str]]]] = ()) -> str:
    """The ``--help`` text: usage (ending with ``tail``), description, the
    arguments (grouped as ``spec`` says; ``sections`` adds lists such as the
    commands), epilog."""
    cols = max(width(), 40)
    items = ["[-h]", *(_usage_item(o) for o in spec if not o.positional),
             *(_usage_item(o) for o in spec if o.positional), *([tail] if tail else [])]
    usage = wrap(items, cols, " " * (len(prog) + 8), f"usage: {prog} ")
    out = [*usage, ""]
    if description:
        out += [*wrap(description, cols), ""]
    help_at = 24
    groups: list[tuple[str, list[tuple[str, str]]]] = [(title, list(rows)) for title, rows in sections]
    positionals = [(_invocation(o), o.help) for o in spec if o.positional]
    if positionals:
        groups.append(("positional arguments", positionals))
    groups.append(("options", [("-h, --help", "show this help message and exit")]))
    for option in spec:
        if option.positional:
            continue
        title = option.group or "options"
        rows = next((rows for name, rows in groups if name == title), None)
        if rows is None:
            rows = []
            groups.append((title, rows))
        rows.append((_invocation(option), option.help))
    for title, rows in groups:
        out.append(f"{title}:")
        for name, text in rows:
            head = "  " + name
            if len(head) <= help_at - 2:
                out += wrap(text, cols, " " * help_at, head.ljust(help_at))
            else:
                out.append(head)
                out += wrap(text, cols, " " * help_at)
        out.append("")
    if epilog:
        out.append(epilog)
    return "\n".join(out).rstrip("\n") + "\n"
