"""HashiCorp's canonical HCL layout, ported from hclwrite (hcl v2.24.0, the hclfmt judge).

``hclwrite.Format`` changes only the spaces between tokens: it never adds, removes or
moves a token or a newline. It lexes the source with the hclsyntax scanner, splits the
tokens into lines, and then

1. indents each line by two spaces per open bracket level (several brackets opened on
   one line count as one level);
2. sets the spaces between the tokens of a line (``a + b``, ``f(x)``, ``{ a = 1 }``,
   ``[1, 2]``, ``${x}``, no space after a unary minus, ...);
3. aligns the ``=`` of consecutive single-line attributes and the trailing comments of
   consecutive lines, counting columns in grapheme clusters.

This module does the same in pure Python. ``lex`` ports the scanner (scan_tokens.rl),
``format_source`` the whole of format.go. ``format_lines`` is the fast path used for
every rendered file: a physical line's spacing depends on that line alone, so each
distinct line is lexed once and remembered; only files with tokens that span lines
(heredocs, block comments) go through ``format_source``.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

import regex

from .textseg import columns

# Token kinds (the names of hclsyntax.TokenType).
OBRACE, CBRACE, OBRACK, CBRACK, OPAREN, CPAREN = "OBrace", "CBrace", "OBrack", "CBrack", "OParen", "CParen"
OQUOTE, CQUOTE, OHEREDOC, CHEREDOC = "OQuote", "CQuote", "OHeredoc", "CHeredoc"
STAR, SLASH, PLUS, MINUS, PERCENT = "Star", "Slash", "Plus", "Minus", "Percent"
EQUAL, EQUAL_OP, NOT_EQUAL = "Equal", "EqualOp", "NotEqual"
LESS, LESS_EQ, GREATER, GREATER_EQ = "LessThan", "LessThanEq", "GreaterThan", "GreaterThanEq"
AND, OR, BANG, DOT, COMMA, ELLIPSIS, FAT_ARROW, QUESTION, COLON = (
    "And", "Or", "Bang", "Dot", "Comma", "Ellipsis", "FatArrow", "Question", "Colon",
)
INTERP, CONTROL, SEQ_END = "TemplateInterp", "TemplateControl", "TemplateSeqEnd"
QUOTED_LIT, STRING_LIT, NUMBER_LIT, IDENT = "QuotedLit", "StringLit", "NumberLit", "Ident"
COMMENT, NEWLINE, EOF, NIL = "Comment", "Newline", "EOF", "Nil"
QUOTED_NEWLINE, INVALID = "QuotedNewline", "Invalid"
# Provider-defined functions (provider::aws::arn_parse), since hcl 2.20: "::" is one
# token, written without spaces around it.
DOUBLE_COLON = "DoubleColon"

_SELF = {
    "[": OBRACK, "]": CBRACK, "(": OPAREN, ")": CPAREN, ".": DOT, ",": COMMA, "*": STAR, "/": SLASH,
    "%": PERCENT, "+": PLUS, "-": MINUS, "=": EQUAL, "<": LESS, ">": GREATER, "!": BANG, "?": QUESTION,
    ":": COLON, "&": "BitwiseAnd", "|": "BitwiseOr", "~": "BitwiseNot", "^": "BitwiseXor",
    ";": "Semicolon", "`": "Backtick", "'": "Apostrophe",
}
_OPERATORS = {
    "==": EQUAL_OP, "!=": NOT_EQUAL, ">=": GREATER_EQ, "<=": LESS_EQ, "&&": AND, "||": OR,
    "...": ELLIPSIS, "=>": FAT_ARROW, "::": DOUBLE_COLON,
}
_OPENERS = frozenset({OBRACE, OBRACK, OPAREN, CONTROL, INTERP})
_CLOSERS = frozenset({CBRACE, CBRACK, CPAREN, SEQ_END})
_IDENT = r"[\p{ID_Start}_][\p{ID_Continue}-]*"

# The scanner's main mode. Alternatives are ordered so that the first match is also
# the longest one, as in Ragel's longest-match scanner.
_MAIN = regex.compile(
    r"(?P<space>[ \t]+)"
    r"|(?P<newline>\r?\n)"
    r"|(?P<comment>#[^\n]*\n?|//[^\n]*\n?|/\*.*?\*/)"
    rf"|(?P<heredoc><<-?{_IDENT}\r?\n)"
    r"|(?P<number>[0-9](?:(?:[0-9.]|[eE][+-]?[0-9])*(?:[0-9]|[eE][+-]?[0-9]))?)"
    rf"|(?P<ident>{_IDENT})"
    r"|(?P<operator>==|!=|>=|<=|&&|\|\||\.\.\.|=>|::)"
    r"|(?P<strip_close>~\})"
    r"|(?P<open_brace>\{)"
    r"|(?P<close_brace>\})"
    r'|(?P<quote>")'
    r"|(?P<self>[\[\]().,*/%+\-=<>!?:&|~^;`'])"
    r"|(?P<invalid>.)",
    regex.DOTALL,
)
_STRING = regex.compile(
    r"(?P<interp>\$\{~?)"
    r"|(?P<control>%\{~?)"
    r'|(?P<quote>")'
    r'|(?P<literal>\$\$\{~?|%%\{~?|\$(?=[^{])|%(?=[^{])|(?:\\[^\r\n]|[^$%"\\\r\n])+)'
    r"|(?P<newline>[\r\n]+)"
    r"|(?P<invalid>.)",
    regex.DOTALL,
)
_HEREDOC = regex.compile(
    r"(?P<interp>\$\{~?)"
    r"|(?P<control>%\{~?)"
    r"|(?P<literal>(?:\$\$\{~?|%%\{~?|\$(?=[^{])|%(?=[^{])|[^$%\r\n]+)(?P<eol>\r?\n)?|\r?\n)"
    r"|(?P<invalid>.)",
    regex.DOTALL,
)
# bytes.TrimSpace (Go's unicode.IsSpace) around a heredoc's closing marker.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


class Token:
    """One token with the number of spaces written before it."""

    __slots__ = ("kind", "spaces", "text")

    def __init__(self, kind: str, text: str, spaces: int) -> None:
        self.kind = kind
        self.text = text
        self.spaces = spaces

    def __repr__(self) -> str:
        return f"Token({self.kind}, {self.text!r}, {self.spaces})"


class Lexed(NamedTuple):
    tokens: list[Token]  # ends with EOF
    complete: bool  # False when the source ends inside a string, heredoc or interpolation


def lex(src: str) -> Lexed:
    """Tokens of *src* as hclsyntax.LexConfig produces them (the subset formatting needs)."""
    tokens: list[Token] = []
    modes = ["main"]
    braces = 0
    return_braces: list[int] = []
    heredocs: list[list[object]] = []  # [marker, start_of_line]
    position = 0
    last_end = 0
    n = len(src)

    def emit(kind: str, start: int, end: int) -> None:
        nonlocal last_end
        tokens.append(Token(kind, src[start:end], start - last_end))
        last_end = end

    while position < n:
        mode = modes[-1]
        if mode == "main":
            match = _MAIN.match(src, position)
            assert match is not None
            group = match.lastgroup
            start, end = match.span()
            position = end
            if group == "space":
                continue
            if group == "newline":
                emit(NEWLINE, start, end)
            elif group == "comment":
                emit(COMMENT, start, end)
            elif group == "heredoc":
                emit(OHEREDOC, start, end)
                marker = src[start + 2 : end].lstrip("-").rstrip("\r\n")
                heredocs.append([marker, True])
                modes.append("heredoc")
            elif group == "number":
                emit(NUMBER_LIT, start, end)
            elif group == "ident":
                emit(IDENT, start, end)
            elif group == "operator":
                emit(_OPERATORS[match.group()], start, end)
            elif group in ("close_brace", "strip_close"):
                if return_braces and return_braces[-1] == braces:
                    emit(SEQ_END, start, end)
                    braces -= 1
                    return_braces.pop()
                    modes.pop()
                else:
                    emit(CBRACE if group == "close_brace" else SEQ_END, start, end)
                    braces -= 1
            elif group == "open_brace":
                emit(OBRACE, start, end)
                braces += 1
            elif group == "quote":
                emit(OQUOTE, start, end)
                modes.append("string")
            elif group == "self":
                emit(_SELF[match.group()], start, end)
            else:
                emit(INVALID, start, end)
            continue
        match = (_STRING if mode == "string" else _HEREDOC).match(src, position)
        assert match is not None
        group = match.lastgroup
        start, end = match.span()
        position = end
        if group in ("interp", "control"):
            emit(INTERP if group == "interp" else CONTROL, start, end)
            braces += 1
            return_braces.append(braces)
            if heredocs:
                heredocs[-1][1] = False
            modes.append("main")
        elif group == "quote":
            emit(CQUOTE, start, end)
            modes.pop()
        elif group == "newline":
            emit(QUOTED_NEWLINE, start, end)
        elif group == "invalid":
            if mode == "heredoc":
                # No heredoc rule matches (a lone CR): the Ragel scanner stops and
                # the rest of the input becomes one invalid token.
                emit(INVALID, start, n)
                position = n
            else:
                emit(INVALID, start, end)
        elif mode == "string":
            emit(QUOTED_LIT, start, end)
        else:
            text = match.group()
            top = heredocs[-1]
            if text.endswith("\n"):
                if top[1] and text.strip(_GO_SPACE) == top[0]:
                    newline = 2 if text.endswith("\r\n") else 1
                    emit(CHEREDOC, start, end - newline)
                    emit(NEWLINE, end - newline, end)
                    heredocs.pop()
                    modes.pop()
                    continue
                top[1] = True
            else:
                top[1] = False
            emit(STRING_LIT, start, end)
    tokens.append(Token(EOF, "", n - last_end))
    return Lexed(tokens, len(modes) == 1)


def _bracket_change(kind: str) -> int:
    if kind in _OPENERS:
        return 1
    if kind in _CLOSERS:
        return -1
    return 0


_NIL = Token(NIL, "", 0)
_NO_SPACE_AFTER_MINUS = frozenset(
    {
        NIL, OPAREN, OBRACE, OBRACK, EQUAL, COLON, COMMA, QUESTION,
        PLUS, STAR, SLASH, PERCENT, MINUS,
        EQUAL_OP, NOT_EQUAL, GREATER, GREATER_EQ, LESS, LESS_EQ,
        AND, OR, BANG,
    }
)
_TEMPLATE_PARTS = frozenset({QUOTED_LIT, STRING_LIT, OQUOTE, OHEREDOC})
_TEMPLATE_ENDS = frozenset({QUOTED_LIT, STRING_LIT, CQUOTE, CHEREDOC})


def space_after(subject: Token, before: Token, after: Token) -> bool:
    """hclwrite's spaceAfterToken: one space between *subject* and *after*, or none."""
    s, a = subject.kind, after.kind
    if a in (NEWLINE, NIL):
        return False
    if s == IDENT and a == OPAREN:
        return False
    if s in (DOT, DOUBLE_COLON) or a in (DOT, DOUBLE_COLON):
        return False
    if a in (COMMA, ELLIPSIS):
        return False
    if s == COMMA:
        return True
    if s in _TEMPLATE_PARTS or a in _TEMPLATE_ENDS:
        return False
    if s == IDENT and subject.text == "in" and before.kind == IDENT:
        return True
    if a == OBRACK and (s in (IDENT, NUMBER_LIT) or s in _CLOSERS):
        return False
    if s == BANG:
        return False
    if s == MINUS:
        return before.kind not in _NO_SPACE_AFTER_MINUS
    if s == OBRACE or a == CBRACE:
        return not (s == OBRACE and a == CBRACE)
    if s in (INTERP, CONTROL) and a == OBRACE:
        return True
    if s == CBRACE and a == SEQ_END:
        return True
    if s == SEQ_END and a in (INTERP, CONTROL):
        return False
    if s in _OPENERS:
        return False
    return a not in _CLOSERS


class Line(NamedTuple):
    """One line after spacing, before indentation and alignment."""

    blank: bool  # only a newline: never indented
    net: int  # bracket change that drives the indentation
    lead: str  # the line up to its "=" (or all of it), without indentation
    lead_columns: int
    assign: str | None  # "= value" of an attribute whose value ends on this line
    assign_columns: int
    comment: str | None  # a trailing "#" or "//" comment, with its newline
    end: str  # the newline token ("" when the comment holds it, or at the end of input)


def _join(tokens: Sequence[Token]) -> tuple[str, int]:
    parts = [tokens[0].text]
    width = columns(tokens[0].text)
    for token in tokens[1:]:
        parts.append(" " * token.spaces + token.text)
        width += token.spaces + columns(token.text)
    return "".join(parts), width


def analyse(tokens: list[Token]) -> Line:
    """Split one line's tokens into hclwrite's cells and set the spaces between them.

    *tokens* is a whole line, ending with its newline token (a Newline, or a line
    comment that holds the newline) unless it is the last line of the input.
    """
    lead = tokens
    comment: Token | None = None
    if len(lead) > 1 and lead[-1].kind == COMMENT:
        comment = lead[-1]
        lead = lead[:-1]
    assign: list[Token] | None = None
    for i, token in enumerate(lead):
        if i > 0 and token.kind == EQUAL:
            if sum(_bracket_change(t.kind) for t in lead[i:]) == 0:
                assign = lead[i:]
                lead = lead[:i]
            break
    if lead[0].kind == NEWLINE:
        return Line(True, 0, "", 0, None, 0, None, lead[0].text)

    net = 0
    for token in lead:
        net += _bracket_change(token.kind)
        if token.kind == OHEREDOC:
            break
    for cell in (lead, assign or ()):
        for i in range(len(cell) - 1):
            before = cell[i - 1] if i > 0 else _NIL
            cell[i + 1].spaces = 1 if space_after(cell[i], before, cell[i + 1]) else 0
    end = ""
    if assign is not None:
        net += sum(_bracket_change(t.kind) for t in assign)
        if assign[-1].kind == NEWLINE:
            end = assign[-1].text
            assign = assign[:-1]
    elif lead[-1].kind == NEWLINE and len(lead) > 1:
        end = lead[-1].text
        lead = lead[:-1]
    lead_text, lead_columns = _join(lead)
    assign_text, assign_columns = _join(assign) if assign else (None, 0)
    return Line(False, net, lead_text, lead_columns, assign_text, assign_columns,
                comment.text if comment else None, end)


def split_lines(tokens: list[Token]) -> tuple[list[list[Token]], int]:
    """hclwrite's linesForFormat: lines of tokens (EOF dropped) and the spaces before EOF."""
    lines: list[list[Token]] = []
    current: list[Token] = []
    for token in tokens:
        if token.kind == EOF:
            break
        current.append(token)
        if token.kind == NEWLINE or (token.kind == COMMENT and token.text.endswith("\n")):
            lines.append(current)
            current = []
    if current:
        lines.append(current)
    return lines, tokens[-1].spaces


def layout(lines: Sequence[Line], trailer: str = "") -> str:
    """Indent and align analysed lines (formatIndent and formatCells) and join them."""
    indents: list[int] = []
    stack: list[int] = []
    for line in lines:
        if line.blank:
            indents.append(0)
            continue
        net = line.net
        if net > 0:
            indents.append(2 * len(stack))
            stack.append(net)
            continue
        closed = -net
        while closed > 0 and stack:
            if closed > stack[-1]:
                closed -= stack.pop()
            elif closed < stack[-1]:
                stack[-1] -= closed
                closed = 0
            else:
                stack.pop()
                closed = 0
        indents.append(2 * len(stack))

    count = len(lines)
    pads = [1] * count
    i = 0
    while i < count:
        if lines[i].assign is None:
            i += 1
            continue
        j = i
        widest = 0
        while j < count and lines[j].assign is not None:
            widest = max(widest, indents[j] + lines[j].lead_columns)
            j += 1
        for k in range(i, j):
            pads[k] = widest - indents[k] - lines[k].lead_columns + 1
        i = j

    comment_pads = [1] * count
    i = 0
    while i < count:
        if lines[i].comment is None:
            i += 1
            continue
        j = i
        widths = []
        while j < count and lines[j].comment is not None:
            line = lines[j]
            width = indents[j] + line.lead_columns
            if line.assign is not None:
                width += pads[j] + line.assign_columns
            widths.append(width)
            j += 1
        widest = max(widths)
        for k in range(i, j):
            comment_pads[k] = widest - widths[k - i] + 1
        i = j

    out: list[str] = []
    for k, line in enumerate(lines):
        if line.blank:
            out.append(line.end)
            continue
        parts = [" " * indents[k], line.lead]
        if line.assign is not None:
            parts += [" " * pads[k], line.assign]
        if line.comment is not None:
            parts += [" " * comment_pads[k], line.comment]
        parts.append(line.end)
        out.append("".join(parts))
    out.append(trailer)
    return "".join(out)


def tidy(lines: list[Line]) -> list[Line]:
    """Drop leading, trailing and repeated blank lines (hclfmt keeps them as they are)."""
    kept: list[Line] = []
    for line in lines:
        if line.blank and (not kept or kept[-1].blank):
            continue
        kept.append(line)
    while kept and kept[-1].blank:
        kept.pop()
    return kept


def format_source(src: str, *, tidy_blank_lines: bool = False) -> str:
    """Canonical layout of *src*: the output of hclwrite.Format (and thus of hclfmt).

    With *tidy_blank_lines*, leading, trailing and repeated blank lines are dropped too.
    """
    tokens = lex(src).tokens
    token_lines, eof_spaces = split_lines(tokens)
    lines = [analyse(line) for line in token_lines]
    if tidy_blank_lines:
        return layout(tidy(lines))
    return layout(lines, " " * eof_spaces)


_LINE_CACHE: dict[str, Line | None] = {}
_LINE_CACHE_LIMIT = 200_000


def _analyse_physical(content: str) -> Line | None:
    """The analysis of one physical line, or None when its tokens continue past it."""
    lexed = lex(content + "\n")
    tokens = lexed.tokens[:-1]
    if not lexed.complete or lexed.tokens[-1].spaces:
        return None
    if any(t.kind in (OHEREDOC, QUOTED_NEWLINE) for t in tokens):
        return None
    for previous, token in pairwise(tokens):
        if previous.kind == SLASH and token.kind == STAR and token.spaces == 0:
            return None  # "/*" opens a comment that ends on a later line
    return analyse(tokens)


def format_lines(src: str, *, tidy_blank_lines: bool = False) -> str:
    """``format_source(src)``, fast for sources made of many repeated lines."""
    if "\r" in src or not src.endswith("\n"):
        return format_source(src, tidy_blank_lines=tidy_blank_lines)
    cache = _LINE_CACHE
    analysed: list[Line] = []
    append = analysed.append
    for physical in src.split("\n")[:-1]:
        content = physical.lstrip(" \t")
        line = cache.get(content, _MISSING)
        if line is _MISSING:
            if len(cache) >= _LINE_CACHE_LIMIT:
                cache.clear()
            line = cache[content] = _analyse_physical(content)
        if line is None:
            return format_source(src, tidy_blank_lines=tidy_blank_lines)
        append(line)
    return layout(tidy(analysed) if tidy_blank_lines else analysed)


_MISSING = Line(True, 0, "", 0, None, 0, None, "")
