"""alerts.yaml: which watchlists send which events to which channels (see alerts.example.yaml).

    settings:                     # optional
      licence_expiry_days: 90     # licence_expiring: a licence expiring within this many days of the as-of date
      max_age_days: 14            # only events that happened within this many days of the newest run are sent
    channels:                     # named Apprise URLs; secrets as ${ENV_VAR} or ${secret:prefect-block-name}
      compliance-wecom: "wecombot://${WECOM_KEY}"
    watchlists:
      - file: group.csv           # name,uscc — linked with the same linker as the export's --watchlist
        channels: [compliance-wecom, "mailtos://…"]   # a channel name, or an Apprise URL inline
        min_severity: info        # info (everything) | warning | critical
      - group: 星辰               # every licensed operator whose trade name (字号) is 星辰, in any region
      - all_licensed: true        # every licensed operator
    operations:                   # the schedule's operator: source incomplete twice, run failed
      channels: [ops-feishu]
      min_severity: warning

A URL is a template: ${NAME} is an environment variable, ${secret:NAME} a Prefect Secret block, resolved
only when sending, so the file holds no secret and can be committed. A URL that carries a secret
literally (Apprise marks the part private) is refused. Every error names the file, the line and the key.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apprise
import yaml

from pipelines.uscc import InvalidUSCC, validate_uscc
from transforms.alerts.events import SEVERITIES, load_kinds
from transforms.export import WatchlistEntry, WatchlistError, read_watchlist

DEFAULT_LICENCE_EXPIRY_DAYS = 90
DEFAULT_MAX_AGE_DAYS = 14
ALL_LICENSED_NAME = "全部持证经营者"
CHANNEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# ${NAME} → environment variable; ${secret:NAME} → Prefect Secret block NAME.
PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
SECRET_NAME = re.compile(r"secret:([a-z0-9][a-z0-9-]*)")
# Stand-ins for a placeholder's value while checking a URL: a token (keys, passwords) or a number (a port).
_SAMPLE_VALUES = ("cwsample0", "10000")


class AlertsConfigError(ValueError):
    """alerts.yaml cannot be used; the message names the file, the line and the key."""


@dataclass(frozen=True)
class Channel:
    """Where a digest goes: an Apprise URL template (wecombot://${WECOM_KEY}, mailtos://…, json://…)."""

    name: str
    url: str
    line: int

    @property
    def scheme(self) -> str:
        return self.url.split("://", 1)[0].lower()

    def placeholders(self) -> list[str]:
        return PLACEHOLDER.findall(self.url)


@dataclass(frozen=True)
class Group:
    """"All of group X": licensed operators whose 字号 is `trade_name`, plus `members` (name,uscc), minus `exclude`."""

    trade_name: str | None
    members: tuple[WatchlistEntry, ...] = ()
    exclude: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Watchlist:
    """A scope (a file of companies, a group, every licensed operator) routed to channels."""

    name: str
    channels: tuple[str, ...]
    min_severity: str
    line: int
    kinds: frozenset[str] | None = None  # None = every kind
    entries: tuple[WatchlistEntry, ...] | None = None  # file watchlists
    group: Group | None = None
    all_licensed: bool = False


@dataclass(frozen=True)
class Operations:
    channels: tuple[str, ...]
    min_severity: str
    line: int


@dataclass(frozen=True)
class Settings:
    licence_expiry_days: int = DEFAULT_LICENCE_EXPIRY_DAYS
    max_age_days: int = DEFAULT_MAX_AGE_DAYS


@dataclass(frozen=True)
class AlertsConfig:
    path: Path
    settings: Settings
    channels: dict[str, Channel]
    watchlists: tuple[Watchlist, ...]
    operations: Operations | None = None
    used: tuple[str, ...] = field(default=())  # channels some watchlist or operations sends to, in order

    def channel(self, name: str) -> Channel:
        if name not in self.channels:
            known = ", ".join(self.channels) or "none"
            raise AlertsConfigError(f"{self.path}: no channel {name!r} (channels: {known})")
        return self.channels[name]


class _Doc:
    """The parsed YAML and the line of every key and item, for errors that point at the line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines: dict[tuple, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            self.data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f"line {mark.line + 1}: " if mark else ""
            raise AlertsConfigError(f"{path}: {where}not valid YAML ({getattr(error, 'problem', error)})") from None
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                self.lines[(*path, key.value)] = key.start_mark.line + 1
                self._walk(value, (*path, key.value))
                self.lines[(*path, key.value)] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                self._walk(item, (*path, index))

    def error(self, path: tuple, message: str) -> AlertsConfigError:
        probe = path
        while probe and probe not in self.lines:
            probe = probe[:-1]
        line = self.lines.get(probe, 1)
        dotted = "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))
        return AlertsConfigError(f"{self.path}: line {line}: {dotted or 'top level'}: {message}")


def _mapping(doc: _Doc, value: Any, path: tuple, allowed: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise doc.error(path, f"expected a mapping of {', '.join(sorted(allowed))}")
    unknown = sorted(str(k) for k in value if k not in allowed)
    if unknown:
        expected = ", ".join(sorted(allowed))
        raise doc.error((*path, unknown[0]), f"unknown key {unknown[0]!r}; expected one of {expected}")
    return value


def _int(doc: _Doc, value: Any, path: tuple, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise doc.error(path, f"{value!r} is not a whole number of days between {low} and {high}")
    return value


def _severity(doc: _Doc, value: Any, path: tuple, default: str) -> str:
    if value is None:
        return default
    if value not in SEVERITIES:
        raise doc.error(path, f"unknown severity {value!r}; use {', '.join(SEVERITIES)}")
    return value


@contextmanager
def _quiet_apprise() -> Iterator[None]:
    # Apprise logs an error for a URL it cannot parse; we raise our own, clearer one.
    logger = logging.getLogger("apprise")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def sample_plugin(url: str) -> Any:
    """The Apprise plugin for a URL template, its placeholders filled with stand-ins; None if none fits."""
    with _quiet_apprise():
        for value in _SAMPLE_VALUES:
            plugin = apprise.Apprise.instantiate(PLACEHOLDER.sub(value, url))
            if plugin is not None:
                return plugin
    return None


def check_url(doc: _Doc, url: Any, path: tuple) -> str:
    """The URL template, if Apprise understands it and it carries no secret literally."""
    if not isinstance(url, str) or "://" not in url:
        raise doc.error(path, f"{url!r} is not an Apprise URL (e.g. wecombot://${{WECOM_KEY}}, "
                              "mailtos://user:${SMTP_PASSWORD}@smtp.example.com?to=team@example.com)")
    for inner in PLACEHOLDER.findall(url):
        if not (ENV_NAME.fullmatch(inner) or SECRET_NAME.fullmatch(inner)):
            raise doc.error(path, f"${{{inner}}}: write ${{ENV_VAR}} for an environment variable or "
                                  "${secret:block-name} for a Prefect Secret block")
    plugin = sample_plugin(url)
    if plugin is None:
        raise doc.error(path, f"Apprise does not understand {url!r} (scheme {url.split('://', 1)[0]!r}); "
                              "see https://github.com/caronc/apprise/wiki for the URL of each service")
    if not PLACEHOLDER.search(url) and plugin.url(privacy=True) != plugin.url(privacy=False):
        raise doc.error(path, f"{plugin.service_name} URL carries its secret in the file; put the secret in an "
                              "environment variable and write ${NAME} in its place")
    return url


def _channels(doc: _Doc, value: Any) -> dict[str, Channel]:
    path = ("channels",)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise doc.error(path, "expected a mapping of channel name → Apprise URL")
    channels = {}
    for name, spec in value.items():
        where = (*path, name)
        if not isinstance(name, str) or not CHANNEL_NAME.fullmatch(name):
            raise doc.error(where, f"channel name {name!r}: use letters, digits, '-', '_' or '.'")
        url = _mapping(doc, spec, where, {"url"}).get("url") if isinstance(spec, dict) else spec
        channels[name] = Channel(name, check_url(doc, url, (*where, "url") if isinstance(spec, dict) else where),
                                 doc.lines.get(where, 1))
    return channels


def _channel_refs(doc: _Doc, value: Any, path: tuple, channels: dict[str, Channel]) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise doc.error(path, "expected a list of channel names or Apprise URLs")
    names = []
    for index, item in enumerate(value):
        where = (*path, index)
        if isinstance(item, str) and "://" in item:  # an inline URL is a channel named by its template
            if item not in channels:
                channels[item] = Channel(item, check_url(doc, item, where), doc.lines.get(where, 1))
        elif item not in channels:
            known = ", ".join(c for c in channels if "://" not in c) or "none defined"
            raise doc.error(where, f"no channel {item!r} under channels: ({known})")
        names.append(item)
    return tuple(dict.fromkeys(names))


def _entries(doc: _Doc, value: Any, path: tuple, base: Path) -> tuple[WatchlistEntry, ...]:
    if not isinstance(value, str) or not value.strip():
        raise doc.error(path, "expected the path of a CSV file (name,uscc)")
    file = (base / value).resolve()
    if not file.exists():
        raise doc.error(path, f"no watchlist file {file}")
    try:
        return tuple(read_watchlist(file))
    except WatchlistError as error:
        raise doc.error(path, str(error)) from None


def _group(doc: _Doc, value: Any, path: tuple, base: Path) -> Group:
    if isinstance(value, str):
        value = {"trade_name": value}
    spec = _mapping(doc, value, path, {"trade_name", "members", "exclude"})
    trade = spec.get("trade_name")
    if trade is not None and (not isinstance(trade, str) or not trade.strip()):
        raise doc.error((*path, "trade_name"), "expected the group's trade name (字号), e.g. 星辰")
    members = _entries(doc, spec["members"], (*path, "members"), base) if "members" in spec else ()
    if not trade and not members:
        raise doc.error(path, "a group needs trade_name (字号) or members (a name,uscc file), or both")
    exclude = spec.get("exclude") or []
    if not isinstance(exclude, list):
        raise doc.error((*path, "exclude"), "expected a list of USCCs (统一社会信用代码)")
    codes = set()
    for index, code in enumerate(exclude):
        try:
            codes.add(validate_uscc(str(code)))
        except InvalidUSCC as error:
            raise doc.error((*path, "exclude", index), str(error)) from None
    return Group(trade.strip() if trade else None, members, frozenset(codes))


def _watchlist(doc: _Doc, value: Any, index: int, channels: dict[str, Channel], kinds: set[str],
               base: Path) -> Watchlist:
    path = ("watchlists", index)
    spec = _mapping(doc, value, path, {"name", "file", "group", "all_licensed", "channels", "min_severity", "kinds"})
    scopes = [k for k in ("file", "group", "all_licensed") if k in spec]
    if len(scopes) != 1:
        raise doc.error(path, "give exactly one of file: (a name,uscc CSV), group: (a trade name 字号) "
                              "or all_licensed: true")
    if "channels" not in spec:
        raise doc.error(path, "no channels: where should its alerts go?")
    entries, group, everyone = None, None, False
    if scopes[0] == "file":
        entries = _entries(doc, spec["file"], (*path, "file"), base)
        default_name = Path(spec["file"]).stem
    elif scopes[0] == "group":
        group = _group(doc, spec["group"], (*path, "group"), base)
        default_name = group.trade_name or "group"
    else:
        if spec["all_licensed"] is not True:
            raise doc.error((*path, "all_licensed"), "write all_licensed: true (or remove the watchlist)")
        everyone, default_name = True, ALL_LICENSED_NAME
    chosen = None
    if "kinds" in spec:
        chosen = spec["kinds"] if isinstance(spec["kinds"], list) else [spec["kinds"]]
        for k, kind in enumerate(chosen):
            if kind not in kinds:
                raise doc.error((*path, "kinds", k), f"unknown event kind {kind!r}; kinds: {', '.join(sorted(kinds))}")
        chosen = frozenset(chosen)
    name = spec.get("name", default_name)
    if not isinstance(name, str) or not name.strip():
        raise doc.error((*path, "name"), "expected a name for the watchlist")
    return Watchlist(name.strip(), _channel_refs(doc, spec["channels"], (*path, "channels"), channels),
                     _severity(doc, spec.get("min_severity"), (*path, "min_severity"), "info"),
                     doc.lines.get(path, 1), chosen, entries, group, everyone)


def parse_config(text: str, path: Path) -> AlertsConfig:
    doc = _Doc(path, text)
    top = _mapping(doc, doc.data, (), {"settings", "channels", "watchlists", "operations"})
    raw_settings = _mapping(doc, top.get("settings"), ("settings",), {"licence_expiry_days", "max_age_days"})
    settings = Settings(
        licence_expiry_days=_int(doc, raw_settings.get("licence_expiry_days", DEFAULT_LICENCE_EXPIRY_DAYS),
                                 ("settings", "licence_expiry_days"), 1, 3650),
        max_age_days=_int(doc, raw_settings.get("max_age_days", DEFAULT_MAX_AGE_DAYS),
                          ("settings", "max_age_days"), 1, 365),
    )
    channels = _channels(doc, top.get("channels"))
    kinds = set(load_kinds())
    raw_lists = top.get("watchlists") or []
    if not isinstance(raw_lists, list):
        raise doc.error(("watchlists",), "expected a list of watchlists (each starting with '- ')")
    watchlists = tuple(_watchlist(doc, item, i, channels, kinds, path.parent) for i, item in enumerate(raw_lists))
    names = [w.name for w in watchlists]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise doc.error(("watchlists", i, "name"), f"watchlist name {name!r} used twice; give each a name:")
    operations = None
    if top.get("operations") is not None:
        ops = _mapping(doc, top["operations"], ("operations",), {"channels", "min_severity"})
        if "channels" not in ops:
            raise doc.error(("operations",), "no channels: where should the operator's alerts go?")
        operations = Operations(_channel_refs(doc, ops["channels"], ("operations", "channels"), channels),
                                _severity(doc, ops.get("min_severity"), ("operations", "min_severity"), "warning"),
                                doc.lines.get(("operations",), 1))
    if not watchlists and operations is None:
        raise doc.error((), "nothing to send: add watchlists: or operations:")
    used = [c for w in watchlists for c in w.channels] + list(operations.channels if operations else ())
    return AlertsConfig(path, settings, channels, watchlists, operations, tuple(dict.fromkeys(used)))


def load_config(path: Path) -> AlertsConfig:
    """Read and check alerts.yaml; AlertsConfigError naming the file, line and key for anything wrong."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise AlertsConfigError(f"no alerts config at {path} (see alerts.example.yaml)") from None
    except UnicodeDecodeError:
        raise AlertsConfigError(f"{path}: not UTF-8 text") from None
    return parse_config(text, path.resolve())
