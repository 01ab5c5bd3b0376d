"""URL rules and the map, with a fast matcher in front of Werkzeug's.

Werkzeug's state-machine matcher costs several microseconds per request.
``QuaverMap.fast_match`` answers the common cases from an index built once
per set of rules; it returns None whenever its answer might differ from
Werkzeug's (redirects, 404/405, ambiguous rules, path converters, ...), and
the caller then asks Werkzeug, so routing behaves exactly as in Flask.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from werkzeug.routing import BaseConverter, IntegerConverter, Map, MapAdapter, Rule, ValidationError
from werkzeug.routing.rules import RulePart


class QuaverRule(Rule):
    """A URL rule; ``websocket=True`` makes it match websocket requests only."""

    #: Answer OPTIONS for this rule with its allowed methods (set by ``add_url_rule``).
    provide_automatic_options = False

    def __init__(self, string: str, *args: Any, provide_automatic_options: bool = False, **kwargs: Any) -> None:
        super().__init__(string, *args, **kwargs)
        self.provide_automatic_options = provide_automatic_options


#: A rule, its converters' names and their to_python functions.
_Target = tuple[Rule, list[str], list[Callable[[str], Any]]]


class _Candidate:
    """Rules sharing one dynamic pattern, as Werkzeug's matcher keeps them in one state."""

    __slots__ = ("matchers", "targets", "slash", "whole")

    def __init__(self, matchers: list[Any]) -> None:
        self.matchers = matchers  # per path segment: a str to compare, or a compiled regex
        #: The segments joined into one regex over the whole path, or None.
        #: Paths reach a candidate only with its number of segments, so each
        #: literal "/" meets one of the path's and no group can take a "/".
        self.whole = _join_segments(matchers)
        #: (rule, converter names, their to_python functions), in registration order.
        self.targets: list[_Target] = []
        #: A rule is this pattern plus a trailing slash: without a fitting
        #: target here, Werkzeug may answer with a redirect to it.
        self.slash = False


_NAMED_GROUP = re.compile(r"\(\?P<__werkzeug_\d+>")


def _join_segments(matchers: list[Any]) -> re.Pattern[str] | None:
    parts = []
    for matcher in matchers:
        if isinstance(matcher, str):
            parts.append(re.escape(matcher))
            continue
        pattern = matcher.pattern
        if not pattern.endswith("\\Z"):
            return None
        parts.append(_NAMED_GROUP.sub("(", pattern[:-2]))
    try:
        whole = re.compile("/".join(parts) + "\\Z")
    except re.error:
        return None
    expected = sum(0 if isinstance(m, str) else m.groups for m in matchers)
    return whole if whole.groups == expected else None


def _match_segments(candidate: _Candidate, path: str, segments: list[str]) -> Any:
    """The converter values if ``path`` fits ``candidate``'s pattern, else None."""
    whole = candidate.whole
    if whole is not None:
        found = whole.match(path)
        return found.groups() if found is not None else None
    groups: list[str] = []
    # zip() without strict=: equal lengths by construction, and a keyword makes zip() twice as slow.
    for segment, matcher in zip(segments, candidate.matchers):  # noqa: B905
        if matcher.__class__ is str:
            if segment != matcher:
                return None
        else:
            found = matcher.match(segment)
            if found is None:
                return None
            groups.extend(found.groups())
    return groups


def _to_python(converter: BaseConverter) -> Callable[[str], Any]:
    """The converter's ``to_python``, or ``int`` where that is all it does."""
    if (
        type(converter) is IntegerConverter
        and not converter.fixed_digits
        and converter.min is None
        and converter.max is None
    ):
        return int
    return converter.to_python


def _only_converter_groups(pattern: re.Pattern[str]) -> bool:
    """True if every group is a converter's, so ``groups()`` lists their values in order."""
    names = sorted(pattern.groupindex, key=pattern.groupindex.__getitem__)
    return pattern.groups == len(names) and all(name.startswith("__werkzeug_") for name in names)


class _FastIndex:
    """Rules indexed for ``fast_match``: built from the map's rules once."""

    def __init__(self, url_map: Map) -> None:
        self.static: dict[str, list[Rule | None]] = {}
        self.dynamic: dict[int, list[_Candidate]] = {}
        self.blockers: dict[str, list[tuple[str, ...]]] = {}
        #: Static paths already matched, by (path, method, websocket): bounded by the static rules.
        self.static_hits: dict[tuple[str, str, bool], Rule] = {}
        self._by_pattern: dict[tuple[int, str], _Candidate] = {}
        # With host matching every rule has a host part; the index knows paths only.
        self.disabled = url_map.host_matching
        rules = [rule for rule in url_map._rules if not rule.build_only]
        with_defaults = {rule.endpoint for rule in rules if rule.defaults}
        for rule in rules:
            self._add(rule, rule.endpoint in with_defaults)
        del self._by_pattern

    def _block(self, prefix: list[str]) -> None:
        """Leave paths starting with ``prefix`` to Werkzeug (all paths if it is empty)."""
        if len(prefix) < 2:
            self.disabled = True
        else:
            self.blockers.setdefault(prefix[1], []).append(tuple(prefix))

    def _candidate(self, path_parts: list[RulePart], matchers: list[str | re.Pattern[str]]) -> _Candidate:
        """The candidate for this exact pattern (same parts and weights), made on first use."""
        key = (len(matchers), repr(path_parts))
        candidate = self._by_pattern.get(key)
        if candidate is None:
            candidate = self._by_pattern[key] = _Candidate(matchers)
            self.dynamic.setdefault(len(matchers), []).append(candidate)
        return candidate

    def _add(self, rule: Rule, has_defaults: bool) -> None:
        parts = rule._parts
        domain, path_parts = parts[0], parts[1:]
        if not (domain.static and domain.content == ""):
            self.disabled = True
            return
        if len(path_parts) > 2 and _may_be_empty(path_parts[1]):
            # Werkzeug strips leading slashes from the path ("//a" is "/a"),
            # so a rule whose first segment may be empty needs it to decide.
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
            if len(prefix) == len(path_parts) > 1 and prefix[-1] == "":
                # A static rule ending in a slash: Werkzeug answers the path
                # without that slash from it too (a redirect, or a match
                # where slashes are not strict), ahead of dynamic rules.
                self._block(prefix[:-1])
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
        converters = rule._converters
        self._candidate(path_parts, matchers).targets.append(
            (rule, list(converters), [_to_python(converter) for converter in converters.values()])
        )
        if trailing_slash:
            self._candidate(path_parts[:-1], matchers[:-1]).slash = True


def _may_be_empty(part: RulePart) -> bool:
    """True if a rule part can match an empty path segment."""
    if part.static:
        return part.content == ""
    return re.compile(part.content).match("") is not None


#: What a query string keeps as it is in a redirect's Location (as Werkzeug's get_current_url).
_QUERY_SAFE = "!$&'()*+,/:;=?@%"
_QUERY_UNSAFE = re.compile(r"[^A-Za-z0-9_.~!$&'()*+,/:;=?@%-]")


def _quote_query(query: str) -> str:
    """``query`` with what may not stand in a URL percent-encoded.

    The app passes the raw query string decoded as latin-1, so each character
    is one byte of the request and is encoded back to that byte; a CR or LF
    sent by a client must not reach the Location header (Werkzeug refuses
    it there: a 500).
    """
    if _QUERY_UNSAFE.search(query) is None:
        return query
    try:
        return quote(query, safe=_QUERY_SAFE, encoding="latin-1")
    except UnicodeEncodeError:  # given by hand, beyond latin-1: UTF-8 as usual
        return quote(query, safe=_QUERY_SAFE)


def host_subdomain(host: str, server_name: str) -> str | None:
    """The subdomain ``host`` has under ``server_name``: ``""`` for the name
    itself, None for a host outside it. Ports and case do not count."""
    host = host.lower().partition(":")[0]
    name = server_name.lower().partition(":")[0]
    if host == name:
        return ""
    if host.endswith("." + name):
        return host[: -len(name) - 1]
    return None


def _normalise_host(scheme: str, host: str) -> str:
    """``host`` without the port its scheme has by default."""
    if scheme in ("http", "ws") and host.endswith(":80"):
        return host[:-3]
    if scheme in ("https", "wss") and host.endswith(":443"):
        return host[:-4]
    return host


class QuaverMap(Map):
    """Werkzeug's Map with an index for fast matching."""

    _fast_index: _FastIndex | None = None

    def add(self, rulefactory: Any) -> None:
        super().add(rulefactory)
        self._fast_index = None

    def bind(
        self,
        server_name: str,
        script_name: str | None = None,
        subdomain: str | None = None,
        url_scheme: str = "http",
        default_method: str = "GET",
        path_info: str | None = None,
        query_args: Any = None,
    ) -> MapAdapter:
        """Werkzeug's ``bind``; a query string for redirects is percent-encoded where it must be."""
        if query_args.__class__ is str and query_args:
            query_args = _quote_query(query_args)
        return super().bind(server_name, script_name, subdomain, url_scheme, default_method, path_info, query_args)

    def bind_to_request(
        self, request: Any, subdomain: str | None, server_name: str | None, *, strict: bool = True
    ) -> MapAdapter:
        """Bind the map to ``request`` (Quart's method, what the app binds with).

        Without a ``subdomain`` and with a ``server_name`` the subdomain is
        the part of the request's host before that name (ports aside). A
        host outside it warns and gets a subdomain no rule matches, so a 404
        (``strict``, as in Quart and with ``subdomain_matching``), or without
        ``strict`` the default subdomain: served as any other, as in Flask 3.1.
        """
        scheme = request.scheme
        host = _normalise_host(scheme, (server_name or request.host).lower())
        if subdomain is None and server_name and not self.host_matching:
            subdomain = host_subdomain(request.host, host)
            if subdomain is None:
                if strict:
                    warnings.warn(
                        f"Current server name {request.host!r} doesn't match configured server name {host!r}",
                        stacklevel=2,
                    )
                    subdomain = "<invalid>"
                else:
                    subdomain = self.default_subdomain or ""
        return self.bind(
            host,
            request.root_path or None,
            subdomain,
            scheme,
            request.method,
            request.path,
            request.query_string.decode("latin-1"),
        )

    def fast_match(self, path: str, method: str, websocket: bool) -> tuple[Rule, dict[str, Any]] | None:
        """Match ``path`` where the answer is certain; None means "ask Werkzeug"."""
        index = self._fast_index
        if index is None:
            self.update()
            index = self._fast_index = _FastIndex(self)
        key = (path, method, websocket)
        rule = index.static_hits.get(key)
        if rule is not None:
            return rule, {}
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
            # Werkzeug tries static parts first: the first rule here that takes
            # the method wins; if none does, it may answer 405 or redirect.
            for rule in static:
                if rule is None:
                    continue
                if (rule.methods is None or method in rule.methods) and rule.websocket == websocket:
                    index.static_hits[key] = rule
                    return rule, {}
            return None
        candidates = index.dynamic.get(len(segments))
        if candidates is None:
            return None
        matched: _Target | None = None
        values: Sequence[str] = ()
        for candidate in candidates:
            whole = candidate.whole  # _match_segments' common case, inline: this runs on every dynamic route
            if whole is not None:
                found = whole.match(path)
                groups = found.groups() if found is not None else None
            else:
                groups = _match_segments(candidate, path, segments)
            if groups is not None:
                for target in candidate.targets:
                    rule = target[0]
                    if (rule.methods is None or method in rule.methods) and rule.websocket == websocket:
                        break
                else:
                    if candidate.slash:
                        return None
                    continue  # Werkzeug too moves on to the other rules
                if matched is not None:
                    return None  # which one Werkzeug prefers is its business
                matched, values = target, groups
        if matched is None:
            return None
        rule, names, to_python = matched
        try:
            if len(names) == 1:  # the usual one converter, without a comprehension's function call
                return rule, {names[0]: to_python[0](values[0])}
            # zip() without strict=, as in _match_segments: this runs on every dynamic route's request.
            return rule, {name: convert(value) for name, convert, value in zip(names, to_python, values)}  # noqa: B905
        except ValidationError:
            return None

