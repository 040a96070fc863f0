"""Formulas of the study docstrings as math on the study pages.

The study modules write formulas as ``literals`` in plain ASCII (``eplt describe`` prints
them as they are): ``t* = t_twirl + ln(1/gamma)/r``, ``gamma^(2 - c) - gamma/2``,
``omega = |0><0|``. :func:`math_roles` turns each literal that is a formula into
``:math:`...``` with LaTeX (Greek letter names, subscripts, ``(x)`` as a tensor product,
``sqrt(..)``, bras and kets, ``<=``), and leaves code, names and file names as literals.
"""

from __future__ import annotations

import re

__all__ = ["is_formula", "math_roles", "to_latex"]

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "kappa", "lambda",
    "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "phi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}  # fmt: skip
_WORDS = {"eps": r"\epsilon", "inf": r"\infty", "hbar": r"\hbar"}
_FUNCS = {"ln", "exp", "log", "sqrt", "max", "min", "sin", "cos", "Tr", "det", "sum"}
_TOKEN = re.compile(
    r"\s+|\d+(?:\.\d+)?(?:e-?\d+)?|[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*|\(x\)|<=|>=|->|!=|\S"
)


def is_formula(text: str) -> bool:
    """Whether a literal reads as a formula (not code, a name, a path or a command).

    Examples
    --------
    >>> [is_formula(t) for t in ("t* = t_twirl + ln(1/gamma)/r", "omega = |0><0|",
    ...  "eplt run speedup", "t_twirl", "eplt.dynamics.lt_error", "kappa_ratios", "p_min")]
    [True, True, False, False, False, False, True]
    >>> [is_formula(t) for t in ("r", "E_gamma(rho0)", "e^{-r t}", "r (tau Tr - id)", "lt_error()")]
    [True, True, True, True, False]
    """
    if any(c in text for c in "\"'`:;[]\\$#@") or re.search(r"[A-Za-z]\.[A-Za-z]", text):
        return False
    if text.count("{") != text.count("}"):
        return False
    if text.startswith(("eplt ", "python", "--")) or "--" in text:
        return False
    if re.fullmatch(r"[A-Za-z_]+=[A-Za-z_0-9.,]+", text):  # a setting: input=random
        return False
    if re.fullmatch(r"[A-Za-z]+(_[A-Za-z0-9]+)+", text):  # a name like t_twirl, except symbols
        head, *subs = text.split("_")
        return len(subs) == 1 and (head in _GREEK or len(head) == 1) and len(subs[0]) <= 3
    ops = ("=", "^", "(x)", "sqrt", "ln(", "exp(", "<=", ">=", "|", "/", "*", "+", " - ")
    if re.fullmatch(r"[A-Za-z]", text):  # a symbol: r, U, N
        return True
    m = re.fullmatch(r"([A-Za-z]+)(?:_[A-Za-z0-9]+)?\(.*\)", text)  # E_gamma(rho0), N(rho)
    if m and (m.group(1) in _GREEK or len(m.group(1)) == 1):
        return True
    if re.fullmatch(r"[A-Za-z0-9_]+", text):
        return text in _GREEK or text in _WORDS
    return any(o in text for o in ops)


def _word(w: str) -> str:
    if w in _GREEK:
        return "\\" + w
    if w in _WORDS:
        return _WORDS[w]
    if w in _FUNCS:
        return "\\" + w if w not in ("Tr", "det") else rf"\mathrm{{{w}}}"
    if len(w) == 1:
        return w
    m = re.fullmatch(r"([A-Za-z]+)(\d+)", w)  # rho0 -> rho_0, p1 -> p_1
    if m and (m.group(1) in _GREEK or len(m.group(1)) == 1):
        return f"{_word(m.group(1))}_{{{m.group(2)}}}"
    return rf"\mathrm{{{w}}}"


def _ident(tok: str) -> str:
    head, *subs = tok.split("_")
    if not subs:
        return _word(head)
    if head == "sum":
        return rf"\sum_{{{','.join(subs)}}}"
    sub = ",".join(
        _word(s) if (s in _GREEK or s in _WORDS or len(s) == 1) else rf"\mathrm{{{s}}}"
        for s in subs
    )
    h = _word(head)
    if h.startswith(r"\mathrm"):  # a multi-letter name: upright with its underscores
        escaped = tok.replace("_", "\\_")
        return rf"\mathrm{{{escaped}}}"
    return f"{h}_{{{sub}}}"


def _group(tokens: list[str], i: int) -> tuple[list[str], int]:
    """Tokens inside the parentheses opening at ``tokens[i] == '('``; index after ')'."""
    depth, j = 0, i
    while j < len(tokens):
        depth += tokens[j] == "("
        depth -= tokens[j] == ")"
        if depth == 0:
            return tokens[i + 1 : j], j + 1
        j += 1
    return tokens[i + 1 :], len(tokens)


def _latex(tokens: list[str]) -> str:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if t == "sqrt" and nxt == "(":
            inner, i = _group(tokens, i + 1)
            out.append(rf"\sqrt{{{_latex(inner)}}}")
            continue
        if t == "^" and nxt == "(":
            inner, i = _group(tokens, i + 1)
            out.append(f"^{{{_latex(inner)}}}")
            continue
        if t == "^" and nxt == "(x)":  # omega^(x)n: n-fold tensor power
            after = tokens[i + 2] if i + 2 < len(tokens) else ""
            power = _word(after) if re.match(r"[A-Za-z0-9]", after) else ""
            out.append(f"^{{\\otimes {power}}}")
            i += 3 if power else 2
            continue
        if t == "^" and re.match(r"[A-Za-z]", nxt):  # E^GHZ_gamma, t_eps^rho0
            head, *subs = nxt.split("_")
            out.append(f"^{{{_word(head)}}}")
            if subs:
                out.append("_{" + ",".join(_word(x) for x in subs) + "}")
            i += 2
            continue
        if t.isspace():
            out.append(" ")
        elif t == "(x)":  # a tensor product between spaces; f(x) is a function of x
            prev = tokens[i - 1] if i else ""
            out.append(r"\otimes " if (not prev or prev.isspace()) else "(x)")
        elif t in ("<=", ">=", "->", "!="):
            out.append({"<=": r"\le ", ">=": r"\ge ", "->": r"\to ", "!=": r"\ne "}[t])
        elif t == "<":  # a bra opens, or a comparison between spaces
            out.append("< " if (not nxt or nxt.isspace()) else r"\langle ")
        elif t == ">":
            prev = tokens[i - 1] if i else ""
            out.append(" >" if (not prev or prev.isspace()) else r"\rangle ")
        elif t == "*" and i and tokens[i - 1] == "^":
            out.append("*")
        elif t == "*":
            prev = tokens[i - 1] if i else ""
            tight = prev and not prev.isspace() and (not nxt or not re.match(r"[A-Za-z0-9(]", nxt))
            out.append("^*" if tight else r"\, ")
        elif t in "+-" and i and tokens[i - 1] in _GREEK and (not nxt or nxt in " |)>,"):
            out.append(f"^{t}")  # Phi+, Psi-
        elif t == "~":
            out.append(r"\sim ")
        elif t in "%&":
            out.append("\\" + t)
        elif re.match(r"[A-Za-z]", t):
            out.append(_ident(t))
        else:
            out.append(t)
        i += 1
    text = re.sub(r" +", " ", "".join(out)).strip()
    # TeX drops spaces in math: keep the one between two upright words ("no tick")
    return re.sub(r"(\\mathrm\{[^}]*\}) (?=\\mathrm\{)", r"\1\\ ", text)


def to_latex(text: str) -> str:
    r"""LaTeX of one plain-ASCII formula.

    Examples
    --------
    >>> print(to_latex("t* = t_twirl + ln(1/gamma)/r"))
    t^* = t_{\mathrm{twirl}} + \ln(1/\gamma)/r
    >>> print(to_latex("N(t*) = max(0, gamma^(2 - c) - gamma/2)"))
    N(t^*) = \max(0, \gamma^{2 - c} - \gamma/2)
    >>> print(to_latex("omega = |0><0|"))
    \omega = |0\rangle \langle 0|
    >>> print(to_latex("lt_error = sqrt(gamma)/2"))
    \mathrm{lt\_error} = \sqrt{\gamma}/2
    >>> print(to_latex("P(no tick) = gamma"))
    P(\mathrm{no}\ \mathrm{tick}) = \gamma
    >>> print(to_latex("E_gamma(Phi+) = gamma T(rho) + (1 - gamma) omega (x) omega"))
    E_{\gamma}(\Phi^+) = \gamma T(\rho) + (1 - \gamma) \omega \otimes \omega
    """
    return _latex(_TOKEN.findall(text))


_LITERAL = re.compile(r"``([^`]+?)``")


def math_roles(rst: str) -> str:
    """Every formula literal of ``rst`` as ``:math:`` (see :func:`is_formula`)."""

    def sub(m: re.Match) -> str:
        text = m.group(1)
        return f":math:`{to_latex(text)}`" if is_formula(text) else m.group(0)

    return _LITERAL.sub(sub, rst)
