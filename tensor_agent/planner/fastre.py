"""Regular expressions that start fast.

A pattern that begins with ``\\b`` or a lookbehind loses the regex engine's literal-prefix scan and
is tried at every position of the message (20x slower on CPython). `FastPattern` finds candidate
positions with a prefilter -- the same pattern without word boundaries and lookbehinds, a
superset of what it matches -- and confirms each with the full pattern at that position
(``match(s, pos)`` still sees the text before ``pos``, so ``\\b`` and lookbehinds hold). The
leftmost full match is therefore found exactly as ``re`` would find it.
"""

from __future__ import annotations

import re
from typing import Iterator


def _stored_gate(pattern: str) -> tuple[str, ...] | None:
    try:
        from tensor_agent.planner._gates import GATES
    except ImportError:  # not generated yet
        return None
    gate = GATES.get(pattern)
    return tuple(gate) if gate else None


def _strip_lookbehinds(p: str) -> str:
    out, i = [], 0
    while i < len(p):
        if p.startswith(("(?<!", "(?<="), i):
            depth, j = 0, i
            while j < len(p):
                if p[j] == "\\":
                    j += 2
                    continue
                if p[j] == "(":
                    depth += 1
                elif p[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            i = j + 1
            continue
        if p[i] == "\\" and i + 1 < len(p):
            out.append(p[i:i + 2])
            i += 2
            continue
        out.append(p[i])
        i += 1
    return "".join(out)


def _prefilter(p: str) -> str:
    p = _strip_lookbehinds(p)
    return re.sub(r"(?<!\\)\\b", "", p)


class FastPattern:
    """A pattern with `search` / `finditer` / `pattern` like `re.Pattern`, compiled on first use.

    Importing the planner compiles nothing; a message compiles the prefilters it scans and the
    full patterns of the candidates it finds (a cold `ask --dry-run` plans one message).
    """

    __slots__ = ("_full", "_pre", "pattern", "flags", "gate")

    def __init__(self, pattern: str, flags: int = 0):
        self.pattern, self.flags = pattern, flags
        self._full: re.Pattern[str] | None = None
        self._pre: re.Pattern[str] | None = None
        self.gate: tuple[str, ...] | None = None if flags else _stored_gate(pattern)

    @property
    def full(self) -> re.Pattern[str]:
        if self._full is None:
            self._full = re.compile(self.pattern, self.flags)
        return self._full

    @property
    def pre(self) -> re.Pattern[str]:
        if self._pre is None:
            try:
                self._pre = re.compile(_prefilter(self.pattern), self.flags)
            except re.error:
                self._pre = self.full
        return self._pre

    def search(self, s: str, pos: int = 0) -> re.Match[str] | None:
        if self.gate is not None and not any(lit in s for lit in self.gate):
            return None
        if self.pre is self._full:
            return self.full.search(s, pos)
        n = len(s)
        while pos <= n:
            c = self.pre.search(s, pos)
            if c is None:
                return None
            m = self.full.match(s, c.start())
            if m:
                return m
            pos = c.start() + 1
        return None

    def finditer(self, s: str) -> Iterator[re.Match[str]]:
        pos = 0
        while True:
            m = self.search(s, pos)
            if m is None:
                return
            yield m
            pos = m.end() if m.end() > m.start() else m.start() + 1


def compile_fast(pattern: str, flags: int = 0) -> FastPattern:
    return FastPattern(pattern, flags)


# --- literal gates --------------------------------------------------------------------------------
# A gate is a list of literal strings such that every match of the pattern contains one of them.
# When none of them is in the message, the pattern cannot match: it is neither compiled nor run.
# Gates are computed from the parsed pattern at build time (`python -m tensor_agent.planner.fastre`)
# and stored in `_gates.py`; a pattern without a stored gate is simply compiled and run.
def literal_gate(pattern: str) -> list[str] | None:
    """Literals one of which every match of `pattern` contains, or None when none can be told."""
    from re import _constants as C  # type: ignore[attr-defined]
    from re import _parser  # type: ignore[attr-defined]

    def req(seq) -> list[str] | None:
        best: list[str] | None = None
        run = ""

        def offer(cand: list[str] | None) -> None:
            nonlocal best
            if cand and all(cand) and (best is None or min(map(len, cand)) > min(map(len, best))):
                best = cand

        for op, av in seq:
            if op is C.LITERAL:
                run += chr(av)
                continue
            offer([run] if run else None)
            run = ""
            if op is C.SUBPATTERN:
                offer(req(av[-1]))
            elif op is C.BRANCH:
                alts = [req(b) for b in av[1]]
                offer(None if any(a is None for a in alts) else sorted({x for a in alts for x in a}))
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None)):
                lo, _hi, sub = av
                if lo >= 1:
                    offer(req(sub))
        offer([run] if run else None)
        return best

    try:
        return req(_parser.parse(pattern))
    except Exception:  # noqa: BLE001 - an unparsable pattern gets no gate (it is compiled as is)
        return None


def _all_cue_patterns() -> list[str]:
    from tensor_agent.planner import lexicon as lx

    pats = [p.pattern for table in (lx.INTENT_CUES, lx.MODALITY_CUES) for ps in table.values() for p in ps]
    pats += [p.pattern for _, p in lx.ARCH_CUES]
    return list(dict.fromkeys(pats))


def write_gates(path: str | None = None) -> int:
    """Regenerate `_gates.py` for the planner's cue patterns; returns how many patterns got a gate."""
    import pathlib

    gates = {p: g for p in _all_cue_patterns() if (g := literal_gate(p))}
    out = pathlib.Path(path or pathlib.Path(__file__).with_name("_gates.py"))
    lines = "".join(f"    {p!r}: {g!r},\n" for p, g in gates.items())
    out.write_text('"""Generated by `python -m tensor_agent.planner.fastre`: literal gates of the cue patterns."""\n'
                   "# flake8: noqa\n\nGATES: dict[str, list[str]] = {\n" + lines + "}\n", encoding="utf-8")
    return len(gates)


if __name__ == "__main__":  # pragma: no cover
    print(f"{write_gates()} gates written")
