"""``DictAction``: ``--cfg-options KEY=VALUE ...`` for argparse.

Grammar of VALUE (MMEngine's, plus quoted strings):

- ``1``, ``1.5``, ``1e-3`` -> numbers; ``true``/``false`` (any case) -> booleans; ``None`` -> None;
- ``'text'`` or ``"text"`` -> the string as written (quotes removed, nothing converted, commas kept);
- ``a,b,c`` -> a list; ``[a,b]`` -> a list; ``(a,b)`` -> a tuple; they nest: ``[(1,2),(3,4)]``;
- anything else is a string. Whitespace around items is ignored.

KEY=VALUE is split on the first ``=``. The shell removes one level of quotes, so ``d="(1,(2,3))"`` reaches
the parser as ``(1,(2,3))``.
"""

from __future__ import annotations

import argparse
from typing import Any

_CLOSING = {"[": "]", "(": ")"}


class OptionParseError(ValueError):
    """A ``KEY=VALUE`` option that does not parse; the message quotes it and says why."""


def _scalar(token: str) -> Any:
    if token.lower() == "true":
        return True
    if token.lower() == "false":
        return False
    if token == "None":
        return None
    try:
        return int(token)
    except ValueError:
        pass
    try:
        return float(token)
    except ValueError:
        return token


class _Parser:
    def __init__(self, text: str, option: str):
        self.text = text
        self.option = option
        self.pos = 0

    def fail(self, why: str) -> OptionParseError:
        pointer = " " * self.pos + "^"
        return OptionParseError(
            f"cannot parse {self.option!r}: {why} (at character {self.pos})\n  {self.text}\n  {pointer}"
        )

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def parse_top(self) -> Any:
        items, trailing_comma = self.parse_items(end=None)
        if self.pos != len(self.text):
            char = self.text[self.pos]
            raise self.fail(f"{char!r} closes nothing" if char in "])" else f"unexpected {char!r}")
        if len(items) == 1 and not trailing_comma:
            return items[0]
        return items

    def parse_items(self, end: str | None) -> tuple[list, bool]:
        items: list = []
        trailing_comma = False
        self.skip_space()
        if end is not None and self.pos < len(self.text) and self.text[self.pos] == end:
            return items, False
        while True:
            items.append(self.parse_item(end))
            self.skip_space()
            if self.pos < len(self.text) and self.text[self.pos] == ",":
                self.pos += 1
                self.skip_space()
                if self.pos >= len(self.text) or (end is not None and self.text[self.pos] == end):
                    trailing_comma = True
                    return items, trailing_comma
                continue
            return items, trailing_comma

    def parse_item(self, end: str | None) -> Any:
        self.skip_space()
        if self.pos >= len(self.text):
            raise self.fail("a value is missing")
        char = self.text[self.pos]
        if char in _CLOSING:
            start = self.pos
            self.pos += 1
            items, trailing = self.parse_items(_CLOSING[char])
            if self.pos >= len(self.text) or self.text[self.pos] != _CLOSING[char]:
                self.pos = start
                raise self.fail(f"{char!r} is never closed with {_CLOSING[char]!r}")
            self.pos += 1
            return items if char == "[" else tuple(items)
        if char in "'\"":
            close = self.text.find(char, self.pos + 1)
            if close < 0:
                raise self.fail(f"the quote {char} is never closed")
            value = self.text[self.pos + 1 : close]
            self.pos = close + 1
            return value
        if char in "])":
            raise self.fail(f"{char!r} closes nothing")
        start = self.pos
        stops = ",[]()"
        while self.pos < len(self.text) and self.text[self.pos] not in stops:
            self.pos += 1
        token = self.text[start : self.pos].strip()
        if self.pos < len(self.text) and self.text[self.pos] in "[(":
            raise self.fail(f"{self.text[self.pos]!r} cannot follow {token!r}; separate items with ','")
        if not token:
            raise self.fail("a value is missing")
        return _scalar(token)


def parse_value(text: str, option: str | None = None) -> Any:
    """Parse the VALUE part of ``KEY=VALUE`` (see the module docstring for the grammar)."""
    return _Parser(text, option if option is not None else text).parse_top()


def parse_option(option: str) -> tuple[str, Any]:
    """``'a.b=1,2'`` -> ``('a.b', [1, 2])``."""
    key, sep, value = option.partition("=")
    if not sep:
        raise OptionParseError(f"cannot parse {option!r}: expected KEY=VALUE, e.g. model.backbone.depth=101")
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise OptionParseError(f"cannot parse {option!r}: the key {key!r} is empty or has an empty part")
    return key, parse_value(value, option)


class DictAction(argparse.Action):
    """argparse action collecting ``KEY=VALUE`` pairs into a dict (later pairs win)."""

    def __init__(self, option_strings, dest, nargs="+", **kwargs):
        super().__init__(option_strings, dest, nargs=nargs, **kwargs)

    @staticmethod
    def _parse_iterable(value: str) -> Any:
        """MMEngine's name for parsing one VALUE."""
        return parse_value(value)

    def __call__(self, parser, namespace, values, option_string=None):
        options = dict(getattr(namespace, self.dest, None) or {})
        if isinstance(values, str):
            values = [values]
        for item in values:
            try:
                key, value = parse_option(item)
            except OptionParseError as exc:
                raise argparse.ArgumentError(self, str(exc)) from None
            options[key] = value
        setattr(namespace, self.dest, options)
