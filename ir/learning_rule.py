"""Learning rules as Lava-style sum-of-products strings, parsed into integer products.

Grammar (whitespace ignored)::

    rule    := ["+"|"-"] product (("+"|"-") product)*
    product := term ("*" term)*
    term    := dependency | variable | literal | "(" variable ("+"|"-") literal ")"
             | "(" literal ("+"|"-") variable ")" | "sgn(" ("w"|"d"|"t") [("+"|"-") literal] ")"
    dependency := "x0" | "y0" | "u" digits        (u<k>: 1 when (t // t_epoch) % 2**k == 0)
    variable   := "x1" | "x2" | "y1" | "y2" | "y3" | "w" | "d" | "t"
    literal    := int | int "*2^" int | "2^" int

Each product has exactly one dependency (the first one; later x0/y0 become 1-bit factors). All
literals multiply into the product's scale S = mantissa * 2**exp, normalised as Loihi stores it
(shared/reference/loihi.md §5.1): halve even mantissas while |m| > 7 and exp < 8; then
-8 <= m < 8 and -7 <= exp < 9 must hold. ``Product.stored_exp`` is exp + 7.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import IRError

DEPENDENCIES = ("x0", "y0")
TRACE_VARS = ("x1", "x2", "y1", "y2", "y3")
SYN_VARS = ("w", "d", "t")
#: factor widths in bits (Lava constants.py)
FACTOR_WIDTH = {"x0": 1, "y0": 1, "x1": 7, "x2": 7, "y1": 7, "y2": 7, "y3": 7,
                "w": 9, "d": 9, "t": 9, "C": 8}


class RuleError(IRError):
    """A learning-rule string that does not parse or does not fit Loihi's formats."""


@dataclass(frozen=True)
class Factor:
    var: str  # a variable name, "x0"/"y0" used as a factor, or "C" for a constant
    const: int | None = None
    sgn: bool = False


@dataclass(frozen=True)
class Product:
    dependency: str  # "x0" | "y0" | "u"
    mantissa: int
    exp: int
    factors: tuple[Factor, ...]

    @property
    def stored_exp(self) -> int:
        return self.exp + 7


@dataclass(frozen=True)
class ParsedRule:
    products: tuple[Product, ...]
    decimate_exponent: int | None  # k of the u<k> dependency, if any

    def traces_used(self) -> set[str]:
        return {f.var for p in self.products for f in p.factors if f.var in TRACE_VARS}


_TOKEN = re.compile(
    r"\s*(sgn\(|\d+\*2\^-?\d+|2\^-?\d+|\d+|u\d+|x0|y0|x1|x2|y1|y2|y3|[wdt]|[-+*()])")


def _tokens(text: str) -> list[str]:
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise RuleError(f"learning rule {text!r}: cannot read {text[pos:]!r} at column {pos}")
        out.append(m.group(1))
        pos = m.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return out


def _literal(tok: str) -> tuple[int, int] | None:
    """(mantissa, exponent) of a literal token, or None."""
    if re.fullmatch(r"\d+", tok):
        return int(tok), 0
    m = re.fullmatch(r"(\d+)\*2\^(-?\d+)", tok)
    if m:
        return int(m.group(1)), int(m.group(2))
    m = re.fullmatch(r"2\^(-?\d+)", tok)
    return (1, int(m.group(1))) if m else None


def _const(lit: tuple[int, int]) -> int:
    m, e = lit
    value = m * 2.0**e
    if value != int(value):
        raise RuleError(f"constant {m}*2^{e} inside brackets must be an integer")
    return int(value)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.toks, self.i = text, _tokens(text), 0

    def peek(self) -> str | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise RuleError(f"learning rule {self.text!r}: expected {expected or 'a term'}, "
                            f"got {tok or 'the end'}")
        self.i += 1
        return tok

    def bracket(self, sgn: bool) -> Factor:
        """Inside '(' or 'sgn(' : var [± lit] | lit ± var."""
        sign_v, var, const = 1, None, None
        first = self.take()
        if first in ("+", "-"):
            sign_v, first = (-1 if first == "-" else 1), self.take()
        lit = _literal(first)
        if lit is not None:
            const = _const(lit) * sign_v
            op = self.take()
            var = self.take()
            sign_v = -1 if op == "-" else 1
        else:
            var = first
            if self.peek() in ("+", "-"):
                op = self.take()
                const = _const(_literal(self.take()) or (0, 0)) * (-1 if op == "-" else 1)
        self.take(")")
        if var not in TRACE_VARS + SYN_VARS + DEPENDENCIES:
            raise RuleError(f"learning rule {self.text!r}: {var!r} cannot appear in brackets")
        if var in DEPENDENCIES and const is None:  # Lava silently drops a bare "(x0)"
            raise RuleError(f"learning rule {self.text!r}: write {var} without brackets")
        if sgn and var not in SYN_VARS:
            raise RuleError(f"learning rule {self.text!r}: sgn() takes w, d or t, not {var!r}")
        if sign_v == -1:
            raise RuleError(f"learning rule {self.text!r}: write (C - {var}) as -({var} - C)")
        return Factor(var, const, sgn)

    def product(self, sign: int) -> tuple[Product, int | None]:
        dep, decim, mant, exp, factors = None, None, sign, 0, []
        while True:
            tok = self.take()
            lit = _literal(tok)
            if lit:
                mant, exp = mant * lit[0], exp + lit[1]
            elif tok.startswith("u") and tok[1:].isdigit():
                if dep not in (None, "u"):  # Lava refuses it too; it would be silently dropped
                    raise RuleError(f"learning rule {self.text!r}: {tok} must come before "
                                    f"{dep} (a product's first dependency is its dependency)")
                decim = int(tok[1:])
                dep = "u"
            elif tok in DEPENDENCIES:
                if dep is None:
                    dep = tok
                else:
                    factors.append(Factor(tok))
            elif tok in TRACE_VARS + SYN_VARS:
                factors.append(Factor(tok))
            elif tok in ("(", "sgn("):
                factors.append(self.bracket(tok == "sgn("))
            else:
                raise RuleError(f"learning rule {self.text!r}: unexpected {tok!r}")
            if self.peek() != "*":
                break
            self.take("*")
        if dep is None:
            raise RuleError(f"learning rule {self.text!r}: a product has no dependency "
                            f"(x0, y0 or u<k>)")
        return _normalise(self.text, dep, mant, exp, tuple(factors)), decim


def _normalise(text: str, dep: str, mant: int, exp: int, factors: tuple[Factor, ...]) -> Product:
    while abs(mant) > 7 and mant % 2 == 0 and exp < 8:
        mant, exp = mant // 2, exp + 1
    if not -8 <= mant < 8:
        raise RuleError(f"learning rule {text!r}: scale mantissa {mant} outside [-8, 8)")
    if not -7 <= exp < 9:
        raise RuleError(f"learning rule {text!r}: scale exponent {exp} outside [-7, 9)")
    return Product(dep, mant, exp, factors)


def parse_rule(text: str | None) -> ParsedRule | None:
    """Parse a sum-of-products string; None or empty means no rule."""
    if text is None or not text.strip():
        return None
    p = _Parser(text)
    products, decim = [], None
    sign = 1
    if p.peek() in ("+", "-"):
        sign = -1 if p.take() == "-" else 1
    while True:
        prod, k = p.product(sign)
        if k is not None:
            if decim is not None and decim != k:
                raise RuleError(f"learning rule {text!r}: one u<k> per rule")
            decim = k
        products.append(prod)
        if p.peek() is None:
            break
        sign = -1 if p.take() == "-" else 1
    return ParsedRule(tuple(products), decim)
