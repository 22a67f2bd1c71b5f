"""Which advisories affect a component: OSV range semantics over a prebuilt index."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any, Final, NamedTuple, cast

from portal.vulns.osv import Advisory
from portal.vulns.purls import PurlPackage, normalize_name, parse_purl
from portal.vulns.severity import Severity
from portal.vulns.versions import InvalidVersion, KeyFunction, SortKey, base_ecosystem, key_function

_INTRODUCED: Final = 0
_FIXED: Final = 1
_LAST_AFFECTED: Final = 2
_LIMIT: Final = 3
_KIND_CODES: Final = {
    "introduced": _INTRODUCED,
    "fixed": _FIXED,
    "last_affected": _LAST_AFFECTED,
    "limit": _LIMIT,
}


@dataclass(frozen=True, slots=True)
class Match:
    advisory_id: str
    aliases: tuple[str, ...]
    severity: Severity
    cvss_score: float | None
    fixed_version: str | None


class _CompiledRange(NamedTuple):  # a tuple: an index makes tens of thousands
    key_function: KeyFunction
    # sorted by version; a None key is introduced "0", before every version
    events: tuple[tuple[SortKey | None, int, str], ...]
    limits: tuple[SortKey | None, ...]  # None is the unbounded limit "*"


@dataclass(slots=True)
class _Entry:
    match: Match  # what a hit reports, but for the fixed version
    release: str | None
    ranges: tuple[_CompiledRange, ...]
    versions: frozenset[str]
    fixed_versions: tuple[str, ...]
    key_function: KeyFunction | None
    _version_keys: list[SortKey] | None = None

    def listed_version_keys(self, known: _EventKeys) -> list[SortKey]:
        # parsed on first use: most entries never need them, their raw strings already match; and parsed
        # once per index, as feeds list the same versions of a package in advisory after advisory
        if self._version_keys is None:
            keys: list[SortKey] = []
            if self.key_function is not None:
                for version in self.versions:
                    key = _event_key(self.key_function, version, known)
                    if key is not None:
                        keys.append(key)
            # sorted once, so a lookup is a binary search rather than a scan of hundreds of versions
            keys.sort()
            self._version_keys = keys
        return self._version_keys


def package_documents(advisory: Advisory) -> dict[tuple[str, str], list[Any]]:
    """(base ecosystem, normalized name) -> all that matching needs of the advisory for that package.

    JSON-ready and small: [aliases, severity, cvss score, [[ecosystem, ranges, versions, fixed], ...]],
    ranges as [[type, [[kind, value], ...]], ...] without GIT ones (never evaluated). Import stores it, so
    a scan neither re-parses the record nor rates its CVSS vector again. A withdrawn advisory has none.
    """
    if advisory.withdrawn is not None:
        return {}
    entries: dict[tuple[str, str], list[Any]] = {}
    for affected in advisory.affected:
        ecosystem = affected.base_ecosystem
        entries.setdefault((ecosystem, normalize_name(ecosystem, affected.name)), []).append(
            [
                affected.ecosystem,
                [
                    [range_.type, [[kind, value] for kind, value in range_.events]]
                    for range_ in affected.ranges
                    if range_.type != "GIT"
                ],
                list(affected.versions),
                list(affected.fixed_versions),
            ]
        )
    facts = [list(advisory.aliases), advisory.severity, advisory.cvss_score]
    return {key: [*facts, found] for key, found in entries.items()}


_UNKNOWN: Final = object()

# Parsed event versions, shared by every range of an index: feeds repeat the same bounds a great deal
# (the three fixture feeds name about 11,000 distinct versions in 72,000 events). None: unparseable.
_EventKeys = dict[tuple[KeyFunction, str], SortKey | None]


def _range_function(range_type: str, ecosystem: str) -> KeyFunction | None:
    if range_type == "GIT":
        return None
    # Go's SEMVER ranges are compared the Go way, so `go1.17.10` and `1.21rc2` place as golang/vuln does.
    return key_function("SEMVER" if range_type == "SEMVER" and ecosystem != "Go" else ecosystem)


def _compile_range(
    function: KeyFunction | None, range_events: Sequence[Sequence[str]], known: _EventKeys
) -> _CompiledRange | None:
    """The range with its event versions parsed once, or None when it cannot be evaluated."""
    if function is None:
        return None
    events: list[tuple[SortKey | None, int, str]] = []
    limits: list[SortKey | None] = []
    for kind, value in range_events:
        code = _KIND_CODES[kind]
        if code == _INTRODUCED and value == "0":
            events.append((None, code, value))
        elif code == _LIMIT and value == "*":
            limits.append(None)
        else:
            key = _event_key(function, value, known)
            if key is None:
                # one unreadable bound makes the whole range unknowable: skip it rather than guess
                return None
            if code == _LIMIT:
                limits.append(key)
            else:
                events.append((key, code, value))
    zero = [event for event in events if event[0] is None]
    rest = [event for event in events if event[0] is not None]
    # the OSV evaluation sorts events by version; at equal versions "introduced" comes first
    rest.sort(key=lambda event: (event[0], event[1]))
    return _CompiledRange(function, tuple(zero + rest), tuple(limits))


def _event_key(function: KeyFunction, value: str, known: _EventKeys) -> SortKey | None:
    cache_key = (function, value)
    if cache_key not in known:
        try:
            known[cache_key] = function(value)
        except InvalidVersion:
            known[cache_key] = None
    return known[cache_key]


def _range_fix(range_: _CompiledRange, version: SortKey) -> tuple[bool, str | None, SortKey | None]:
    """(affected, smallest fixed above version and its key) under the OSV spec's evaluation."""
    if range_.limits and not any(limit is None or version < limit for limit in range_.limits):
        return False, None, None
    affected = False
    for key, code, _ in range_.events:
        if code == _INTRODUCED:
            if key is None or version >= key:
                affected = True
        elif code == _FIXED:
            if key is not None and version >= key:
                affected = False
        elif key is not None and version > key:
            affected = False
    if not affected:
        return False, None, None
    for key, code, raw in range_.events:
        if code == _FIXED and key is not None and key > version:
            return True, raw, key
    return True, None, None


class AdvisoryIndex:
    """Advisories by (base ecosystem, normalized name); a lookup never scans unrelated advisories."""

    def __init__(self, advisories: Iterable[Advisory] = ()) -> None:
        self._entries: dict[tuple[str, str], list[_Entry]] = defaultdict(list)
        self._by_alias: dict[str, set[str]] = defaultdict(set)
        self._advisory_ids: set[str] = set()
        self._event_keys: _EventKeys = {}
        self._functions: dict[tuple[str, str], KeyFunction | None] = {}
        for advisory in advisories:
            self.add(advisory)

    @property
    def advisory_count(self) -> int:
        """How many advisories it matches against (those of packages dropped since excepted)."""
        return len({entry.match.advisory_id for entries in self._entries.values() for entry in entries})

    def drop(self, ecosystem: str, name: str) -> list[str]:
        """Forgets one package's entries (to add them again as they are now); returns their advisory ids."""
        return [entry.match.advisory_id for entry in self._entries.pop((ecosystem, name), [])]

    def packages_of(self, advisory_ids: AbstractSet[str]) -> set[tuple[str, str]]:
        """The packages it holds entries of these advisories for."""
        return {
            key
            for key, entries in self._entries.items()
            if any(entry.match.advisory_id in advisory_ids for entry in entries)
        }

    def add(self, advisory: Advisory) -> None:
        if advisory.withdrawn is not None:
            return
        self._register(advisory.id, advisory.aliases)
        for (ecosystem, name), document in package_documents(advisory).items():
            self.add_package(advisory.id, ecosystem, name, document)

    def add_package(self, advisory_id: str, ecosystem: str, name: str, document: Sequence[Any]) -> None:
        """One advisory's entries for one package, as `package_documents` made them."""
        aliases, severity, cvss_score, affected_entries = document
        self._register(advisory_id, aliases)
        match = Match(advisory_id, tuple(aliases), cast(Severity, severity), cvss_score, None)
        entries = self._entries[(ecosystem, name)]
        for entry_ecosystem, ranges, versions, fixed_versions in affected_entries:
            base, _, release = entry_ecosystem.partition(":")
            base = base.strip()
            known = self._event_keys
            compiled = [_compile_range(self._function(kind, base), events, known) for kind, events in ranges]
            entries.append(
                _Entry(
                    match=match,
                    release=release or None,
                    ranges=tuple(range_ for range_ in compiled if range_ is not None),
                    versions=frozenset(versions),
                    fixed_versions=tuple(fixed_versions),
                    key_function=self._function("ECOSYSTEM", base),
                )
            )

    def _function(self, range_type: str, ecosystem: str) -> KeyFunction | None:
        """The ordering of a range type within an ecosystem (ECOSYSTEM: the ecosystem's own), looked up
        once per index."""
        found = self._functions.get((range_type, ecosystem), _UNKNOWN)
        if found is _UNKNOWN:
            found = self._functions[(range_type, ecosystem)] = _range_function(range_type, ecosystem)
        return cast("KeyFunction | None", found)

    def _register(self, advisory_id: str, aliases: Iterable[str]) -> None:
        if advisory_id not in self._advisory_ids:
            self._advisory_ids.add(advisory_id)
            for identifier in (advisory_id, *aliases):
                self._by_alias[identifier.upper()].add(advisory_id)

    def advisory_ids_for(self, identifier: str) -> tuple[str, ...]:
        """Advisories known under an id or alias (a CVE id, say), sorted; empty when none is."""
        return tuple(sorted(self._by_alias.get(identifier.strip().upper(), ())))

    def match(self, ecosystem: str, name: str, version: str) -> list[Match]:
        """Advisories affecting `name` at `version`, one Match per advisory, sorted by advisory id.

        `ecosystem` may carry a release ("Debian:11"): entries of another release of that
        distribution are then left out.
        """
        base = base_ecosystem(ecosystem)
        entries = self._entries.get((base, normalize_name(base, name)))
        if not entries:
            return []
        _, _, release = ecosystem.partition(":")
        version = version.strip()
        keys: dict[KeyFunction, SortKey | None] = {}
        found: dict[str, tuple[Match, str | None, SortKey | None]] = {}
        for entry in entries:
            if release and entry.release and entry.release != release:
                continue
            affected, fixed, fixed_key = self._evaluate(entry, version, keys)
            if not affected:
                continue
            advisory_id = entry.match.advisory_id
            previous = found.get(advisory_id)
            # still affected after the smaller fix of one entry: the larger fix is the one that helps
            if previous is None or (
                fixed_key is not None and (previous[2] is None or fixed_key > previous[2])
            ):
                found[advisory_id] = (entry.match, fixed, fixed_key)
        return [
            Match(match.advisory_id, match.aliases, match.severity, match.cvss_score, fixed)
            for match, fixed, _ in (found[advisory_id] for advisory_id in sorted(found))
        ]

    def match_package(self, package: PurlPackage) -> list[Match]:
        """Matches for the package and, for distributions, for its source package, merged by advisory."""
        if package.version is None:
            return []
        matches = {m.advisory_id: m for m in self.match(package.osv_ecosystem, package.name, package.version)}
        if package.source_name:
            source_version = package.source_version or package.version
            for found in self.match(package.osv_ecosystem, package.source_name, source_version):
                matches.setdefault(found.advisory_id, found)
        return [matches[advisory_id] for advisory_id in sorted(matches)]

    def match_purl(self, purl: str) -> list[Match]:
        package = parse_purl(purl)
        return [] if package is None else self.match_package(package)

    def _evaluate(
        self, entry: _Entry, version: str, keys: dict[KeyFunction, SortKey | None]
    ) -> tuple[bool, str | None, SortKey | None]:
        best: tuple[str | None, SortKey | None] | None = None
        for range_ in entry.ranges:
            key = _cached_key(range_.key_function, version, keys)
            if key is None:
                continue
            affected, fixed, fixed_key = _range_fix(range_, key)
            if not affected:
                continue
            if best is None or _is_later_fix(fixed_key, best[1]):
                best = (fixed, fixed_key)
        if best is not None:
            return True, best[0], best[1]
        if entry.versions and self._listed(entry, version, keys):
            return True, *self._next_fix(entry, version, keys)
        return False, None, None

    def _listed(self, entry: _Entry, version: str, keys: dict[KeyFunction, SortKey | None]) -> bool:
        if version in entry.versions:
            return True
        # "v1.2.3" against a listed "1.2.3", "1.0" against "1.0.0": equal in the ecosystem's order
        if entry.key_function is None:
            return False
        key = _cached_key(entry.key_function, version, keys)
        if key is None:
            return False
        listed = entry.listed_version_keys(self._event_keys)
        position = bisect_left(listed, key)
        return position < len(listed) and listed[position] == key

    @staticmethod
    def _next_fix(
        entry: _Entry, version: str, keys: dict[KeyFunction, SortKey | None]
    ) -> tuple[str | None, SortKey | None]:
        if entry.key_function is None:
            return None, None
        key = _cached_key(entry.key_function, version, keys)
        if key is None:
            return None, None
        candidates: list[tuple[SortKey, str]] = []
        for fixed in entry.fixed_versions:
            try:
                fixed_key = entry.key_function(fixed)
            except InvalidVersion:
                continue
            if fixed_key > key:
                candidates.append((fixed_key, fixed))
        if not candidates:
            return None, None
        fixed_key, fixed = min(candidates, key=lambda candidate: candidate[0])
        return fixed, fixed_key


def _is_later_fix(candidate: SortKey | None, current: SortKey | None) -> bool:
    """Whether `candidate` replaces `current` as the fix to report.

    A version in several affected ranges stays affected until it passes every one of their fixes, so
    the largest known fix is the one that helps; an unknown fix never hides a known one.
    """
    if candidate is None:
        return False
    if current is None:
        return True
    try:
        return bool(candidate > current)
    except TypeError:
        # a SEMVER and an ECOSYSTEM range of one entry: their keys do not compare, keep the first
        return False


def _cached_key(
    function: KeyFunction, version: str, keys: dict[KeyFunction, SortKey | None]
) -> SortKey | None:
    if function not in keys:
        try:
            keys[function] = function(version)
        except InvalidVersion:
            # the component's version cannot be placed: no range can say it is affected
            keys[function] = None
    return keys[function]
