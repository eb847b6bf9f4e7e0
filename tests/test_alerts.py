"""Alerts, the pure part (issue 16): events computed from history, alerts.yaml, routing, the digest."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.alerts_history import (
    AS_OF,
    BRANCH,
    CLEAN,
    NAMES,
    STAR_BJ,
    STAR_SH,
    WEEK2_EVENTS,
    apply,
    copy_warehouse,
    members_file,
    record_payment,
    removal_dates,
    rid,
    write_runs,
)
from tests.helpers import write_run
from transforms.alerts.config import AlertsConfigError, load_config, parse_config
from transforms.alerts.digest import (
    PLATFORM_LIMITS,
    DigestError,
    Limit,
    build_digest,
    channel_limit,
    format_entry,
)
from transforms.alerts.events import Event, EventQueryError, compute_events, event_key, load_kinds
from transforms.alerts.labels import listing_types, record_type_label
from transforms.alerts.routing import route
from warehouse.db import connect

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("alerts")
    r1, r2 = write_runs(root / "runs")
    after_r1 = root / "after_r1" / "creditwatch.duckdb"
    apply(after_r1, r1)
    after_r2 = copy_warehouse(after_r1, root / "after_r2")
    record_payment(after_r2, root)
    apply(after_r2, r2)
    return {"root": root, "r1": r1, "r2": r2, "after_r1": after_r1, "after_r2": after_r2}


def events_of(warehouse: Path, **kwargs) -> list[Event]:
    con = connect(warehouse, read_only=True)
    try:
        return compute_events(con, licence_expiry_days=kwargs.pop("licence_expiry_days", 90),
                              max_age_days=kwargs.pop("max_age_days", 14), **kwargs)
    finally:
        con.close()


# -------------------------------------------------------------------------------------------- events


def test_week_two_gives_exactly_what_happened_and_week_one_nothing(history) -> None:
    # Week 1 is every source's first complete crawl: the starting state, not news.
    assert events_of(history["after_r1"]) == []
    events = events_of(history["after_r2"])
    assert {(e.kind, e.subject) for e in events} == WEEK2_EVENTS
    assert len(events) == len(WEEK2_EVENTS) == len({e.key for e in events})
    by_kind = {(e.kind, e.subject): e for e in events}
    listed = by_kind[("listed", rid("miit_telecom_lists", "bad-1"))]
    assert (listed.severity, listed.operator_id, listed.company, listed.record_type) == (
        "critical", STAR_SH, NAMES[STAR_SH], "telecom_bad_list")
    branch = by_kind[("record_new", rid("creditchina_penalties", "P-branch"))]
    assert (branch.operator_id, branch.company, branch.party) == (STAR_BJ, NAMES[STAR_BJ], BRANCH)
    member = by_kind[("record_new", rid("creditchina_penalties", "P-member"))]
    assert member.operator_id is None  # holds no licence: only a watchlist naming it routes it
    changed = by_kind[("record_changed", rid("creditchina_penalties", "P-keep"))]
    assert changed.detail == "变更：content 罚款人民币5000元 → 罚款人民币8000元；fine_yuan 5000 → 8000"
    removed = by_kind[("record_removed", rid("creditchina_penalties", "P-old"))]
    assert (removed.severity, removed.operator_id) == ("info", CLEAN)
    eligible = by_kind[("repair_eligible", rid("creditchina_penalties", "P-paid"))]
    # The dates the removal rules gave it (their own tests check the legal periods).
    early, auto = removal_dates(history["after_r2"], "P-paid")
    assert early < AS_OF < auto and (eligible.early_removal_from, eligible.auto_removal_on) == (early, auto)
    licence = by_kind[("licence_expiring", "B1-20240004")]
    assert licence.event_on == date(2027, 1, 31) and "剩 69 天" in licence.detail
    incomplete = by_kind[("source_incomplete", "court_dishonest")]
    assert incomplete.scope == "operations" and "连续 2 次运行未抓取完整" in incomplete.detail
    # Most severe first.
    assert [e.severity for e in events] == sorted((e.severity for e in events),
                                                  key=["critical", "warning", "info"].index)


def test_keys_are_stable_and_an_unchanged_week_adds_nothing(history, tmp_path: Path) -> None:
    before = {e.key: (e.kind, e.subject) for e in events_of(history["after_r2"])}
    assert before == {e.key: (e.kind, e.subject) for e in events_of(history["after_r2"])}
    assert before[event_key("listed", rid("miit_telecom_lists", "bad-1"), "")][0] == "listed"
    # Week 3: every source crawled again, nothing changed (the court still incomplete: the same streak).
    warehouse = copy_warehouse(history["after_r2"], tmp_path / "wh")
    r3 = shutil.copytree(history["r2"], tmp_path / "runs" / "r3")
    for manifest in r3.glob("*.manifest.json"):
        manifest.write_text(manifest.read_text("utf-8").replace('"r2"', '"r3"').replace(
            "2026-11-20T06:00:00", "2026-11-21T06:00:00"), "utf-8")
    apply(warehouse, r3)
    con = connect(warehouse, read_only=True)
    try:
        assert con.execute("SELECT list(run_id ORDER BY run_id) FROM ops.runs").fetchone()[0] == ["r1", "r2", "r3"]
    finally:
        con.close()
    after = {e.key: (e.kind, e.subject) for e in events_of(warehouse)}
    assert after == before


def test_events_older_than_the_window_are_not_news(history, tmp_path: Path) -> None:
    # A month later, a quiet complete crawl: week 2's events fall out of the 14-day window.
    warehouse = copy_warehouse(history["after_r2"], tmp_path / "wh")
    write_run(tmp_path / "runs", "r9", "miit_telecom_lists", {}, finished_at="2026-12-20T06:00:00+00:00",
              record_type="telecom_list_entry")
    apply(warehouse, tmp_path / "runs" / "r9")
    kinds = {e.kind for e in events_of(warehouse)}
    assert "record_new" not in kinds and "listed" not in kinds and "repair_eligible" not in kinds
    assert {("record_removed", rid("miit_telecom_lists", "bad-0"))} <= {(e.kind, e.subject) for e in
                                                                       events_of(warehouse)}
    assert {e.kind for e in events_of(warehouse, max_age_days=60)} >= {"record_new", "listed"}


def test_a_new_event_kind_is_one_query_and_one_row(history, tmp_path: Path) -> None:
    """The hook for the annual-report warning (issue 15) and the repair case overdue (issue 17)."""
    kinds_dir = tmp_path / "alerts"
    shutil.copytree(REPO / "transforms" / "alerts" / "queries", kinds_dir / "queries")
    rows = (REPO / "transforms" / "alerts" / "kinds.csv").read_text("utf-8")
    (kinds_dir / "kinds.csv").write_text(
        rows + 'annual_report_warning,warning,operator,年报未报预警,Annual report warning,"test"\n', "utf-8")
    (kinds_dir / "queries" / "annual_report_warning.sql").write_text(
        "SELECT operator_id AS subject, '2025' AS discriminator, TIMESTAMP '2026-11-20 06:00' AS occurred_at,\n"
        "       operator_id, name AS company, '2025 年度报告未报送' AS detail\n"
        "FROM core.licensed_operators WHERE name LIKE '%清朗%'", "utf-8")
    kinds = load_kinds(kinds_dir / "kinds.csv", kinds_dir / "queries")
    events = events_of(history["after_r2"], kinds=kinds)
    [warning] = [e for e in events if e.kind == "annual_report_warning"]
    assert (warning.operator_id, warning.scope, warning.severity) == (CLEAN, "operator", "warning")
    config = parse_config("channels:\n  c: json://127.0.0.1:9/x\nwatchlists:\n  - all_licensed: true\n"
                          "    channels: [c]\n", tmp_path / "alerts.yaml")
    con = connect(history["after_r2"], read_only=True)
    try:
        assert warning.key in {d.event.key for d in route(con, events, config)}
    finally:
        con.close()


@pytest.mark.parametrize(("row", "query", "message"), [
    ("odd,loud,record,x,x,x", None, "severity 'loud'"),
    ("odd,info,planet,x,x,x", None, "scope 'planet'"),
    ("odd,info,record,x,x,x", None, "kind 'odd' has no query"),
    ("odd,info,record,x,x,x", "SELECT 'a' AS subject, '' AS discriminator, now() AS occurred_at, 1 AS colour",
     "unknown column(s) colour"),
    ("odd,info,record,x,x,x", "SELECT 'a' AS subject", "missing column(s) discriminator, occurred_at"),
    ("odd,info,record,x,x,x", "SELECT * FROM core.nowhere", "odd.sql: Catalog Error"),
])
def test_a_broken_kind_names_its_file(history, tmp_path: Path, row: str, query: str | None, message: str) -> None:
    (tmp_path / "queries").mkdir()
    (tmp_path / "kinds.csv").write_text("kind,severity,scope,label_zh,label_en,what\n" + row + "\n", "utf-8")
    if query:
        (tmp_path / "queries" / "odd.sql").write_text(query, "utf-8")
    with pytest.raises(EventQueryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        events_of(history["after_r2"], kinds=load_kinds(tmp_path / "kinds.csv", tmp_path / "queries"))


def test_every_kind_has_its_query_and_labels() -> None:
    kinds = load_kinds()
    assert set(kinds) == {p.stem for p in (REPO / "transforms/alerts/queries").glob("[!_]*.sql")}
    assert all(k.label_zh and k.label_en for k in kinds.values())


def test_labels_come_from_one_place() -> None:
    assert record_type_label("penalty") == "行政处罚"
    assert record_type_label("telecom_bad_list") == "电信业务经营不良名单"
    assert record_type_label("something_new") == "something_new"
    assert set(listing_types()) == {"telecom_bad_list", "telecom_dishonest_list", "serious_illegal_list",
                                    "court_dishonest", "serious_dishonest_list", "tax_major_violation"}


# -------------------------------------------------------------------------------------------- config


def write_config(folder: Path, text: str) -> Path:
    path = folder / "alerts.yaml"
    path.write_text(text, "utf-8")
    return path


def test_the_example_config_is_valid(tmp_path: Path) -> None:
    shutil.copy(REPO / "alerts.example.yaml", tmp_path / "alerts.yaml")
    (tmp_path / "watchlist.csv").write_text(f"name,uscc\n{NAMES[STAR_BJ]},\n", "utf-8")
    members_file(tmp_path).rename(tmp_path / "star-members.csv")
    config = load_config(tmp_path / "alerts.yaml")
    assert config.used == ("compliance-wecom", "compliance-mail", "compliance-dingtalk", "compliance-feishu",
                           "ops-webhook")
    assert [w.name for w in config.watchlists] == ["集团公司", "星辰集团", "全部持证经营者"]
    assert config.settings.licence_expiry_days == 90 and config.operations.min_severity == "warning"


BASE = "channels:\n  wecom: \"wecombot://${WECOM_KEY}\"\n"


@pytest.mark.parametrize(("text", "message"), [
    (BASE + "watchlists:\n  - all_licensed: true\n    channels: [wecom]\n    min_severity: high\n",
     r"line 6: watchlists\[0\]\.min_severity: unknown severity 'high'; use info, warning, critical"),
    (BASE + "watchlists:\n  - all_licensed: true\n    channels: [wechat]\n",
     r"line 5: watchlists\[0\]\.channels\[0\]: no channel 'wechat' under channels: \(wecom\)"),
    (BASE + "watchlists:\n  - all_licensed: true\n    chanels: [wecom]\n",
     r"line 5: watchlists\[0\]\.chanels: unknown key 'chanels'"),
    ("channels:\n  wecom: wecombot://0123abcd\nwatchlists:\n  - all_licensed: true\n    channels: [wecom]\n",
     r"line 2: channels\.wecom: WeCom Bot URL carries its secret in the file"),
    ("channels:\n  wecom: wecombot://${WECOM KEY}\nwatchlists: []\n",
     r"line 2: channels\.wecom: \$\{WECOM KEY\}: write \$\{ENV_VAR\}"),
    ("channels:\n  pager: pagerx://${KEY}\nwatchlists: []\n",
     r"line 2: channels\.pager: Apprise does not understand 'pagerx://\$\{KEY\}'"),
    (BASE + "watchlists:\n  - file: nowhere.csv\n    channels: [wecom]\n",
     r"line 4: watchlists\[0\]\.file: no watchlist file .*nowhere\.csv"),
    (BASE + "watchlists:\n  - all_licensed: true\n    group: 星辰\n    channels: [wecom]\n",
     r"line 4: watchlists\[0\]: give exactly one of file:"),
    (BASE + "watchlists:\n  - group: {trade_name: 星辰, exclude: [91110000ABC]}\n    channels: [wecom]\n",
     r"line 4: watchlists\[0\]\.group\.exclude\[0\]: "),
    (BASE + "settings:\n  max_age_days: 0\nwatchlists:\n  - all_licensed: true\n    channels: [wecom]\n",
     r"line 4: settings\.max_age_days: 0 is not a whole number of days between 1 and 365"),
    (BASE + "watchlists:\n  - all_licensed: true\n    channels: [wecom]\n    kinds: [listd]\n",
     r"line 6: watchlists\[0\]\.kinds\[0\]: unknown event kind 'listd'"),
    (BASE + "watchlists:\n  - all_licensed: true\n    channels: [wecom]\n  - all_licensed: true\n"
            "    channels: [wecom]\n", r"line 6: watchlists\[1\]\.name: watchlist name '全部持证经营者' used twice"),
    (BASE, r"line 1: top level: nothing to send"),
    ("channels: [\n", r"line 2: not valid YAML"),
])
def test_config_errors_name_the_line_and_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(AlertsConfigError, match=message):
        load_config(write_config(tmp_path, text))


def test_a_bad_watchlist_file_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "group.csv").write_text("name,uscc\n北京星辰云计算科技有限公司,91110000NOTVALID0\n", "utf-8")
    with pytest.raises(AlertsConfigError, match=r"line 4: watchlists\[0\]\.file: watchlist .*group\.csv: line 2"):
        load_config(write_config(tmp_path, BASE + "watchlists:\n  - file: group.csv\n    channels: [wecom]\n"))


def test_inline_urls_and_three_lines_to_a_wecom_bot(tmp_path: Path) -> None:
    (tmp_path / "group.csv").write_text(f"name,uscc\n{NAMES[STAR_BJ]},{STAR_BJ}\n", "utf-8")
    # The README's three lines, as the README prints them.
    readme = (REPO / "README.md").read_text("utf-8")
    block = readme.split("three lines of `alerts.yaml`:", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert len(block.strip().splitlines()) == 3
    config = load_config(write_config(tmp_path, block))
    [watchlist] = config.watchlists
    assert watchlist.name == "group" and watchlist.channels == ("wecombot://${WECOM_KEY}",)
    assert config.channel("wecombot://${WECOM_KEY}").scheme == "wecombot"


# ------------------------------------------------------------------------------------------- routing


def routed(history, tmp_path: Path, text: str) -> dict[str, set[tuple[str, str]]]:
    members_file(tmp_path)
    (tmp_path / "group.csv").write_text(f"name,uscc\n{NAMES[STAR_BJ]},\n", "utf-8")
    config = load_config(write_config(tmp_path, text))
    con = connect(history["after_r2"], read_only=True)
    try:
        events = compute_events(con, licence_expiry_days=90, max_age_days=14)
        out: dict[str, set[tuple[str, str]]] = {}
        for delivery in route(con, events, config):
            out.setdefault(delivery.channel, set()).add((delivery.event.kind, delivery.event.subject))
        return out
    finally:
        con.close()


CHANNELS = "channels:\n" + "".join(f"  {c}: json://127.0.0.1:9/{c}\n" for c in "abcdef")


def test_each_watchlist_gets_its_own_events(history, tmp_path: Path) -> None:
    got = routed(history, tmp_path, CHANNELS + """
watchlists:
  - file: group.csv            # 北京星辰 by name: its records, its branch's
    channels: [a]
  - group: {trade_name: 星辰, members: star_members.csv}
    channels: [b]
  - all_licensed: true
    channels: [c]
  - all_licensed: true
    name: critical only
    min_severity: critical
    channels: [d]
  - group: 星辰
    name: new records only
    kinds: [record_new]
    channels: [e]
operations:
  channels: [f]
""")
    new, branch, member = (rid("creditchina_penalties", k) for k in ("P-new", "P-branch", "P-member"))
    assert got["a"] == {("record_new", new), ("record_new", branch)}
    assert got["b"] == {("record_new", new), ("record_new", branch), ("record_new", member),
                        ("listed", rid("miit_telecom_lists", "bad-1")),
                        ("repair_eligible", rid("creditchina_penalties", "P-paid"))}
    assert got["c"] == {pair for pair in WEEK2_EVENTS if pair[1] not in (member, "court_dishonest")}
    assert got["d"] == {("listed", rid("miit_telecom_lists", "bad-1"))}
    assert got["e"] == {("record_new", new), ("record_new", branch)}
    assert got["f"] == {("source_incomplete", "court_dishonest")}


def test_a_group_excludes_and_one_event_goes_once_per_channel(history, tmp_path: Path) -> None:
    got = routed(history, tmp_path, CHANNELS + f"""
watchlists:
  - group: {{trade_name: 星辰, exclude: [{STAR_SH}]}}
    channels: [a]
  - file: group.csv
    channels: [a]
""")
    assert got["a"] == {("record_new", rid("creditchina_penalties", "P-new")),
                        ("record_new", rid("creditchina_penalties", "P-branch"))}


# -------------------------------------------------------------------------------------------- digest


def event(n: int, summary_chars: int = 40, severity: str = "warning") -> Event:
    return Event(key=event_key("record_new", f"r{n}", ""), kind="record_new", severity=severity, scope="record",
                 subject=f"r{n}", occurred_at=datetime(2026, 11, 20, 6), operator_id="X", record_id=f"r{n}",
                 company=f"北京星辰云计算科技有限公司{n}", record_type="penalty", reference=f"京通管罚〔2026〕{n}号",
                 authority="北京市通信管理局", event_on=date(2026, 10, 1), summary="罚" * summary_chars,
                 early_removal_from=date(2027, 1, 1), auto_removal_on=date(2027, 10, 1),
                 url=f"https://www.creditchina.gov.cn/xyxx/{n}", detail=None)


def test_an_entry_shows_the_columns_a_compliance_reader_needs() -> None:
    text = format_entry(event(1), {"record_new": "新增记录"})
    assert text.splitlines() == [
        "【重要】新增记录", "企业：北京星辰云计算科技有限公司1", "记录类型：行政处罚",
        "文书号/名单：京通管罚〔2026〕1号",
        "决定机关：北京市通信管理局", "日期：2026-10-01", "处罚内容摘要：" + "罚" * 40,
        "可移除日期：2027-01-01 起可申请信用修复；2027-10-01 到期停止公示",
        "链接：https://www.creditchina.gov.cn/xyxx/1", f"事件编号：{event(1).key}"]


@settings(max_examples=40, deadline=None)
@given(count=st.integers(1, 60), summary=st.integers(0, 400),
       scheme=st.sampled_from(["wecombot", "dingtalk", "feishu", "json"]))
def test_a_digest_splits_between_events_never_inside_one(count: int, summary: int, scheme: str) -> None:
    events = [event(n, summary) for n in range(count)]
    limit = channel_limit(scheme, 32768)
    messages = build_digest(events, "星辰集团", date(2026, 11, 21), limit, title_in_body=scheme != "json")
    assert [k for m in messages for k in m.event_keys] == [e.key for e in events]  # each once, in order
    for number, message in enumerate(messages, start=1):
        assert limit.size(message.body) <= limit.maximum
        assert message.title.startswith(f"creditwatch 信用提醒｜星辰集团｜2026-11-21｜共 {count} 条")
        assert (f"（第 {number}/{len(messages)} 段）" in message.title) == (len(messages) > 1)
        for key in message.event_keys:  # the whole entry is in this message, its key once in the digest
            assert message.body.count(f"事件编号：{key}") == 1
            assert sum(m.body.count(key) for m in messages) == 1


def test_wecom_counts_bytes_and_long_summaries_are_abbreviated_not_split() -> None:
    limit = PLATFORM_LIMITS["wecombot"]
    assert limit.size("企业") == 6
    [message] = build_digest([event(1, 5000)], "x", date(2026, 11, 21), limit, title_in_body=True)
    assert len(message.body.encode()) <= 2048 and "…" in message.body and event(1).key in message.body
    with pytest.raises(DigestError, match="does not fit"):
        build_digest([event(1)], "x", date(2026, 11, 21), Limit(100, "chars", "tiny"), title_in_body=True)


def test_payload_round_trip() -> None:
    original = event(3)
    assert Event.from_payload(original.to_payload()) == original
    assert Event.from_payload({**original.to_payload(), "added_later": 1}) == original


def test_window_follows_the_data_clock(history) -> None:
    # Computed now or in a year, the same history gives the same events.
    later = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=365)
    assert {e.key for e in events_of(history["after_r2"], now=later)} == {e.key for e in
                                                                       events_of(history["after_r2"])}


def test_the_doctor_checks_the_alerts_and_names_the_command(tmp_path: Path, monkeypatch) -> None:
    """doctor: a config that does not read, a channel secret not set, alerts still waiting: each a finding
    with the command to run; alerts off or all well is ok."""
    from flows.alerts import doctor_findings
    from warehouse.db import connect

    monkeypatch.delenv("CREDITWATCH_ALERTS", raising=False)
    monkeypatch.chdir(tmp_path)
    warehouse = tmp_path / "w.duckdb"
    connect(warehouse).close()
    assert [(f.level, f.message[:10]) for f in doctor_findings(warehouse)] == [("ok", "alerts off")]
    config = tmp_path / "alerts.yaml"
    config.write_text("channels:\n  ops: json://127.0.0.1:9/${DOCTOR_TEST_KEY}\nwatchlists:\n  - all_licensed: true\n"
                      "    channels: [ops]\n", "utf-8")
    monkeypatch.delenv("DOCTOR_TEST_KEY", raising=False)
    [unset] = doctor_findings(warehouse, config)
    assert unset.level == "error" and "ops ${DOCTOR_TEST_KEY}" in unset.message
    assert unset.fix == "creditwatch alerts check"
    monkeypatch.setenv("DOCTOR_TEST_KEY", "k")
    assert [f.level for f in doctor_findings(warehouse, config)] == ["ok"]
    con = connect(warehouse)
    con.execute("INSERT INTO ops.alert_outbox (event_key, channel, kind, severity, watchlists, payload, status, "
                "created_at) VALUES ('e1', 'ops', 'record_new', 'warning', ['全部持证经营者'], '{}', 'pending', "
                "now()::TIMESTAMP)")
    con.close()
    [waiting] = doctor_findings(warehouse, config)
    assert waiting.level == "warn" and waiting.message.startswith("1 alerts not delivered")
    assert waiting.fix == "creditwatch alerts list --pending"
    config.write_text("channels:\n  ops: nosuchscheme://x\n", "utf-8")
    [broken] = doctor_findings(warehouse, config)
    assert broken.level == "error" and broken.fix == "creditwatch alerts check" and "alerts.yaml" in broken.message
