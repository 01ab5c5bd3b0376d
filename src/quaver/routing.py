"""URL rules and the map, with a fast matcher in front of Werkzeug's.

Werkzeug's state-machine matcher costs several microseconds per request.
``QuaverMap.fast_match`` answers the common cases from an index built once
per set of rules; it returns None whenever its answer might differ from
Werkzeug's (redirects, 404/405, ambiguous rules, path converters, ...), and
the caller then asks Werkzeug, so routing behaves exactly as in Flask.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.routing import Map, Rule
from werkzeug.routing import ValidationError


class QuaverRule(Rule):
    """A URL rule; ``websocket=True`` makes it match websocket requests only."""

    def __init__(self, string: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(string, *args, **kwargs)


class _Candidate:
    __slots__ = ("rule", "matchers", "names", "sentinel")

    def __init__(self, rule: Rule | None, matchers: list[Any], names: list[str], sentinel: bool) -> None:
        self.rule = rule
        self.matchers = matchers  # per path segment: a str to compare, or a compiled regex
        self.names = names
        self.sentinel = sentinel  # True: a match here means "let Werkzeug decide"


def _only_converter_groups(pattern: re.Pattern[str]) -> bool:
    """True if every group is a converter's, so ``groups()`` lists their values in order."""
    names = sorted(pattern.groupindex, key=pattern.groupindex.__getitem__)
    return pattern.groups == len(names) and all(name.startswith("__werkzeug_") for name in names)


class _FastIndex:
    """Rules indexed for ``fast_match``: built from the map's rules once."""

    def __init__(self, rules: list[Rule]) -> None:
        self.static: dict[str, list[Rule | None]] = {}
        self.dynamic: dict[int, list[_Candidate]] = {}
        self.blockers: dict[str, list[tuple[str, ...]]] = {}
        self.disabled = False
        with_defaults = {rule.endpoint for rule in rules if rule.defaults}
        for rule in rules:
            self._add(rule, rule.endpoint in with_defaults)

    def _block(self, prefix: list[str]) -> None:
        """Leave paths starting with ``prefix`` to Werkzeug (all paths if it is empty)."""
        if len(prefix) < 2:
            self.disabled = True
        else:
            self.blockers.setdefault(prefix[1], []).append(tuple(prefix))

    def _add(self, rule: Rule, has_defaults: bool) -> None:
        parts = rule._parts  # type: ignore[attr-defined]
        domain, path_parts = parts[0], parts[1:]
        if not (domain.static and domain.content == ""):
            self.disabled = True
            return
        prefix: list[str] = []
        for part in path_parts:
            if not part.static:
                break
            prefix.append(part.content)
        eligible = not (
            has_defaults
            or rule.redirect_to is not None
            or rule.alias
            or not rule.strict_slashes
            or any(part.final or part.suffixed for part in path_parts)
        )
        if not eligible:
            self._block(prefix)
            return
        trailing_slash = len(path_parts) > 1 and path_parts[-1].static and path_parts[-1].content == ""
        if len(prefix) == len(path_parts):
            self.static.setdefault("/".join(prefix), []).append(rule)
            if trailing_slash:
                self.static.setdefault("/".join(prefix[:-1]), []).append(None)
            return
        matchers = [part.content if part.static else re.compile(part.content) for part in path_parts]
        if not all(isinstance(m, str) or _only_converter_groups(m) for m in matchers):
            self._block(prefix)
            return
        names = list(rule._converters)  # type: ignore[attr-defined]
        self.dynamic.setdefault(len(matchers), []).append(_Candidate(rule, matchers, names, False))
        if trailing_slash:
            self.dynamic.setdefault(len(matchers) - 1, []).append(
                _Candidate(None, matchers[:-1], names, True)
            )


class QuaverMap(Map):
    """Werkzeug's Map with an index for fast matching."""

    _fast_index: _FastIndex | None = None

    def add(self, rulefactory: Any) -> None:
        super().add(rulefactory)
        self._fast_index = None

    def fast_match(self, path: str, method: str, websocket: bool) -> tuple[Rule, dict[str, Any]] | None:
        """Match ``path`` where the answer is certain; None means "ask Werkzeug"."""
        index = self._fast_index
        if index is None:
            self.update()
            index = self._fast_index = _FastIndex(list(self._rules))
        if index.disabled:
            return None
        segments = path.split("/")
        if len(segments) > 1 and index.blockers:
            prefixes = index.blockers.get(segments[1])
            if prefixes is not None:
                for prefix in prefixes:
                    if tuple(segments[: len(prefix)]) == prefix:
                        return None
        static = index.static.get(path)
        if static is not None:
            found = None
            for rule in static:
                if rule is None:
                    return None
                if (rule.methods is None or method in rule.methods) and rule.websocket == websocket:
                    if found is not None:
                        return None
                    found = rule
            return (found, {}) if found is not None else None
        candidates = index.dynamic.get(len(segments))
        if candidates is None:
            return None
        matched: _Candidate | None = None
        values: list[str] = []
        for candidate in candidates:
            groups: list[str] = []
            for segment, matcher in zip(segments, candidate.matchers):
                if matcher.__class__ is str:
                    if segment != matcher:
                        break
                else:
                    found_groups = matcher.match(segment)
                    if found_groups is None:
                        break
                    groups.extend(found_groups.groups())
            else:
                if matched is not None:
                    return None
                matched, values = candidate, groups
        if matched is None or matched.sentinel:
            return None
        rule = matched.rule
        if (rule.methods is not None and method not in rule.methods) or rule.websocket != websocket:  # type: ignore[union-attr]
            return None
        converters = rule._converters  # type: ignore[union-attr]
        try:
            return rule, {name: converters[name].to_python(value) for name, value in zip(matched.names, values)}  # type: ignore[return-value]
        except ValidationError:
            return None
