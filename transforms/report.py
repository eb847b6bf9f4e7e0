"""The HTML monitoring report (信用监测周报): one self-contained file, charts as inline SVG.

Headline figures; records per week by type (trend); open records by type (the dishonest lists in red: 严重失信主体名单,
重大税收违法失信主体, …), by authority (作出决定机关) and by
province (core.record_provinces, from seeds.province_places); top operators; the removal (信用修复)
pipeline waiting → eligible → removed; the repair cases (修复进度, marts.repair_cases) by state, with each
case's deadline and the overdue ones first; annual reports not filed (年报预警, per report kind, the overdue in
red, and each warning with its deadline and days left); dimension 1 of the cloud credit evaluation (operators per level,
and the records that decided each level below 30, from marts.operator_risk). Every chart is an
`<svg class="chart">` followed by the table it draws. No scripts, fonts, images or links to fetch; every
piece of registry text goes through html.escape.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from spiders.source import record_types
from transforms.export import (
    DISHONEST_TYPES,
    EVERY_OPERATOR,
    LABELS,
    SUMMARY_LABELS,
    Scope,
    sheet_frame,
    sheet_queries,
    summary_frame,
)
from transforms.reporting import parse_week, trend_weeks

TOP_N = 12
PALETTE = {t.name: t.colour for t in record_types().values()}  # each record type's colour, from its source.yml
TEXT = {
    "title": ("信用监测周报", "Credit monitoring report"),
    "headline": ("概览", "Headline figures"),
    "trend": ("每周记录数（按类型，按决定/列入日期）", "Records per week by type (by decision/listing date)"),
    "types": ("在公示记录：按类型（红色为失信类名单）", "Open records by type (red: dishonest lists)"),
    "authority": ("在公示记录：按作出决定机关", "Open records by authority"),
    "province": ("在公示记录：按省份", "Open records by province"),
    "operators": ("在公示记录最多的企业", "Top operators by open records"),
    "pipeline": ("信用修复进度：等待 → 可申请 → 已撤下", "Removal pipeline: waiting → eligible → removed"),
    "week": ("周", "Week"), "type": ("类型", "Type"), "count": ("记录数", "Records"),
    "dishonest": ("其中失信类", "of which dishonest lists"), "stage": ("阶段", "Stage"),
    "waiting": ("等待中（等待期或条件未满足）", "Waiting (period or conditions)"),
    "eligible": ("可申请修复", "Eligible"), "removed": ("已撤下", "Removed"),
    "other": ("其他/全国", "Other / national"), "none": ("无数据", "No data"),
    "as_of": ("数据截至", "As of"), "company": ("企业名称", "Company"),
    "cloud": ("云服务企业信用评价 维度一：电信业务经营信用", "Cloud credit evaluation, dimension 1: telecom credit"),
    "repair": ("修复案件进度", "Repair cases"), "case": ("案件", "Case"), "state": ("状态", "State"),
    "reference": ("文书号/名单编号", "Reference"), "deadline": ("期限（工作日计）", "Due (working days)"),
    "days_left": ("距期限天数", "Days left"), "overdue": ("逾期", "Overdue"), "verified": ("核实日", "Verified on"),
    "level": ("得分", "Points"), "operators_n": ("企业数", "Companies"),
    "reasons": ("得分依据", "Records that decided it"), "to_report": ("需报备条目", "Entries to report"),
    "annual": ("年报预警：上一年度年报未报送（红色为已逾期）", "Annual reports not filed (red: past the deadline)"),
    "report_kind": ("年报类型", "Report"), "of_which_overdue": ("其中已逾期", "of which overdue"),
    "warning": ("预警", "Warning"), "due_on": ("截止日", "Due on"),
}


@dataclass(frozen=True)
class Report:
    """Everything the page shows, already counted."""

    week: str
    as_of: date
    headline: list[tuple[str, str]]
    trend_weeks: list[str]
    trend: dict[str, list[int]]  # record_type → count per week
    by_type: list[tuple[str, int, int]]  # (record type label, open records, of which dishonest)
    by_authority: list[tuple[str, int, int]]  # (authority, open records, of which dishonest)
    by_province: list[tuple[str, int, int]]
    top_operators: list[tuple[str, int, int]]
    pipeline: list[tuple[str, int]]
    cloud_levels: list[tuple[str, int, int]]  # (level, operators, of which on the dishonest list)
    cloud_below: list[tuple[str, int, str, int]]  # (company, level, reasons, entries to report), below 30
    annual_kinds: list[tuple[str, int, int]]  # (report kind, warnings, of which overdue)
    annual_warnings: list[tuple[str, str, str, int]]  # (company, warning, due on, days left)
    repair_states: list[tuple[str, int, int]] = ()  # (state label, cases, of which overdue), in state order
    # (case, company, reference, state, due, days left, overdue, verified)
    repair_cases: list[tuple[object, ...]] = ()


def _t(key: str, lang: str) -> str:
    return TEXT[key][0 if lang == "zh" else 1]


def _trend(con: duckdb.DuckDBPyConnection, as_of: date, scope: Scope) -> tuple[list[str], dict[str, list[int]]]:
    """Records on the scope's operators per reporting week of event_on (marts.records_per_week), last weeks."""
    weeks = trend_weeks(as_of)
    rows = con.execute(
        f"SELECT record_type, reporting_week, sum(records)::BIGINT FROM marts.records_per_week "
        f"WHERE list_contains($weeks, reporting_week) {scope.sql()} GROUP BY ALL",
        {"weeks": weeks, **({"operators": list(scope.operators)} if scope.is_watchlist else {})}).fetchall()
    trend: dict[str, list[int]] = {}
    position = {w: i for i, w in enumerate(weeks)}
    for record_type, week, count in rows:
        trend.setdefault(record_type, [0] * len(weeks))[position[week]] = count
    return weeks, dict(sorted(trend.items()))


def _grouped(pairs: list[tuple[str, bool]], limit: int) -> list[tuple[str, int, int]]:
    """(label, is_dishonest) pairs → (label, count, dishonest count), largest first, at most `limit`."""
    counts: dict[str, list[int]] = {}
    for label, dishonest in pairs:
        entry = counts.setdefault(label, [0, 0])
        entry[0] += 1
        entry[1] += int(dishonest)
    ordered = sorted(counts.items(), key=lambda item: (-item[1][0], item[0]))
    return [(label, total, bad) for label, (total, bad) in ordered[:limit]]


def collect_report(con: duckdb.DuckDBPyConnection, week: str, lang: str = "zh",
                   scope: Scope = EVERY_OPERATOR) -> Report:
    """Count everything the report shows, from the same mart rows as the export (so the figures agree)."""
    # Only the tables the report draws from, and of the open records only the columns it counts: at 10M
    # records the week-1 changes and the open records are millions of rows (the export streams them).
    queries = {q.sheet.key: q for q in sheet_queries(con, week, scope)}
    summary = summary_frame(con, list(queries.values()), week, scope)
    frames = {key: sheet_frame(con, queries[key]) for key in ("cloud_rating", "annual_report_warnings", "repair_cases")}
    opened = queries["open_records"]
    open_ = con.execute(f"SELECT record_type, authority, province, operator_name, removal_status FROM ({opened.sql})",
                        opened.params).df()
    [(as_of,)] = con.execute("SELECT coalesce(max(as_of), current_date) FROM marts.operator_risk").fetchall()
    labels = {"zh": 0, "en": 1}[lang]
    headline = [(SUMMARY_LABELS[m][labels], v) for m, v in summary.itertuples(index=False)
                if m not in ("week", "as_of", "scope")]
    dishonest = open_["record_type"].isin(DISHONEST_TYPES).tolist()
    authorities = [a or "—" for a in open_["authority"].tolist()]
    provinces = [p if isinstance(p, str) and p else _t("other", lang) for p in open_["province"].tolist()]
    weeks, trend = _trend(con, as_of, scope)
    waiting = int(open_["removal_status"].isin(["waiting", "conditions_unmet"]).sum())
    eligible = int((open_["removal_status"] == "eligible").sum())
    [(removed,)] = con.execute(
        "SELECT count(DISTINCT record_id) FROM marts.weekly_changes WHERE change = 'removed' "
        f"AND link_status = 'linked' {scope.sql()}",
        {"operators": list(scope.operators)} if scope.is_watchlist else {}).fetchall()
    return Report(
        week=week, as_of=as_of, headline=headline, trend_weeks=weeks, trend=trend,
        by_type=_grouped([(_type_label(t, lang), d) for t, d in zip(open_["record_type"], dishonest, strict=True)],
                         TOP_N),
        by_authority=_grouped(list(zip(authorities, dishonest, strict=True)), TOP_N),
        by_province=_grouped(list(zip(provinces, dishonest, strict=True)), TOP_N),
        top_operators=_grouped(list(zip(open_["operator_name"].tolist(), dishonest, strict=True)), 10),
        pipeline=[(_t("waiting", lang), waiting), (_t("eligible", lang), eligible), (_t("removed", lang), removed)],
        **_cloud(frames["cloud_rating"]),
        **_annual(frames["annual_report_warnings"], lang),
        **_repair(frames["repair_cases"], lang),
    )


def _annual(warnings: pd.DataFrame, lang: str) -> dict[str, list]:
    """Annual reports not filed: per report kind (count, overdue), and every warning nearest deadline first."""
    index = 0 if lang == "zh" else 1
    # every report kind has its bar, none filed-late included: the chart says "0" rather than vanish
    counts = {k: [labels[index], 0, 0] for k, labels in LABELS["report_kind"].items()}
    for kind, overdue in zip(warnings["report_kind"].tolist(), warnings["overdue"].tolist(), strict=True):
        entry = counts.setdefault(kind, [kind, 0, 0])
        entry[1] += 1
        entry[2] += int(bool(overdue))
    text = warnings["warning_zh" if lang == "zh" else "warning"].tolist()
    rows = [(name, message, str(due), int(days)) for name, message, due, days in zip(
        warnings["operator_name"].tolist(), text, warnings["due_on"].tolist(), warnings["days_left"].tolist(),
        strict=True)]
    return {"annual_kinds": [(name, n, late) for name, n, late in counts.values()], "annual_warnings": rows}



def _repair(cases: pd.DataFrame, lang: str) -> dict[str, list]:
    """Cases per state (every state shown, zeros included) and one row per case, overdue first."""
    index = 0 if lang == "zh" else 1
    labels = LABELS["state"]
    overdue = cases["overdue"].fillna(False).astype(bool)
    states = [(labels[state][index], int((cases["state"] == state).sum()),
               int(((cases["state"] == state) & overdue).sum())) for state in labels]
    word = _t("overdue", lang)
    rows = [(r.case_id, r.operator_name, r.reference, labels.get(r.state, (r.state, r.state))[index],
             r.deadline or r.deadline_note or "", "" if pd.isna(r.days_to_deadline) else int(r.days_to_deadline),
             word if r.overdue else "", r.verified_on or "") for r in cases.itertuples(index=False)]
    return {"repair_states": states, "repair_cases": rows}


def _cloud(cloud: pd.DataFrame) -> dict[str, list]:
    """Operators per dimension-1 level (30 → 0) and those below 30 with the records that decided it."""
    counts: dict[int, int] = {}
    below = []
    columns = ["operator_name", "cloud_rating_dimension1", "cloud_rating_dimension1_reasons",
               "cloud_rating_entries_for_review"]
    for name, level, reasons, to_report in cloud[columns].itertuples(index=False):
        counts[int(level)] = counts.get(int(level), 0) + 1
        if int(level) < 30:
            below.append((name, int(level), reasons, int(to_report)))
    levels = [(str(level), n, n if level == 0 else 0) for level, n in sorted(counts.items(), reverse=True)]
    return {"cloud_levels": levels, "cloud_below": below}


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def hbar_svg(rows: list[tuple[str, int, int]], label: str) -> str:
    """Horizontal bars, one per row (total, with the dishonest-list share in red)."""
    bar_h, gap, left, width = 22, 6, 260, 720
    height = max(len(rows), 1) * (bar_h + gap) + 20
    top = max((r[1] for r in rows), default=0) or 1
    parts = [f'<svg class="chart" role="img" aria-label="{_e(label)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
             f'<line class="axis" x1="{left}" y1="4" x2="{left}" y2="{height - 12}" stroke="#999"/>']
    span = width - left - 60
    for i, (name, total, bad) in enumerate(rows):
        y = 6 + i * (bar_h + gap)
        w = max(total / top * span, 1)
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="12">{_e(name)}</text>')
        parts.append(f'<rect class="mark" x="{left}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#4e79a7">'
                     f'<title>{_e(name)}: {total}</title></rect>')
        if bad:
            parts.append(f'<rect class="mark" x="{left}" y="{y}" width="{max(bad / top * span, 1):.1f}" '
                         f'height="{bar_h}" fill="#e15759"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="12">{total}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_svg(weeks: list[str], trend: dict[str, list[int]], lang: str, label: str) -> str:
    """Stacked columns: records per week, one colour per record type, with a legend."""
    width, height, left, bottom, top_pad = 960, 300, 40, 60, 10
    totals = [sum(series[i] for series in trend.values()) for i in range(len(weeks))]
    peak = max(totals, default=0) or 1
    slot = (width - left - 10) / max(len(weeks), 1)
    plot_h = height - bottom - top_pad
    parts = [f'<svg class="chart" role="img" aria-label="{_e(label)}" width="{width}" height="{height + 24}" '
             f'viewBox="0 0 {width} {height + 24}" xmlns="http://www.w3.org/2000/svg">',
             f'<line class="axis" x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" '
             f'stroke="#999"/>',
             f'<text x="{left - 4}" y="{top_pad + 10}" text-anchor="end" font-size="11">{peak}</text>']
    for i, week in enumerate(weeks):
        x = left + i * slot + 2
        base = height - bottom
        for record_type, series in trend.items():
            if series[i]:
                h = series[i] / peak * plot_h
                base -= h
                parts.append(f'<rect class="mark" x="{x:.1f}" y="{base:.1f}" width="{slot - 4:.1f}" '
                             f'height="{h:.1f}" fill="{PALETTE.get(record_type, "#bab0ac")}">'
                             f'<title>{_e(week)} {_e(_type_label(record_type, lang))}: {series[i]}</title></rect>')
        if i % 4 == 0:
            parts.append(f'<text x="{x:.1f}" y="{height - bottom + 14}" font-size="10">{_e(week)}</text>')
    for n, record_type in enumerate(trend):
        x = left + n * 150
        parts.append(f'<rect x="{x}" y="{height - 22}" width="10" height="10" '
                     f'fill="{PALETTE.get(record_type, "#bab0ac")}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 13}" font-size="11">'
                     f'{_e(_type_label(record_type, lang))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def pipeline_svg(stages: list[tuple[str, int]], label: str) -> str:
    """Three boxes joined by arrows, each with a bar proportional to its count."""
    width, height, box_w = 900, 150, 240
    peak = max((n for _, n in stages), default=0) or 1
    colours = ("#f28e2b", "#59a14f", "#bab0ac")
    parts = [f'<svg class="chart" role="img" aria-label="{_e(label)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">']
    for i, ((name, count), colour) in enumerate(zip(stages, colours, strict=False)):
        x = 10 + i * (box_w + 60)
        parts.append(f'<rect class="mark" x="{x}" y="10" width="{box_w}" height="60" rx="6" fill="none" '
                     f'stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{x + 10}" y="34" font-size="13">{_e(name)}</text>')
        parts.append(f'<text x="{x + 10}" y="58" font-size="18" font-weight="bold">{count}</text>')
        parts.append(f'<rect class="mark" x="{x}" y="90" width="{max(count / peak * box_w, 1):.1f}" height="24" '
                     f'fill="{colour}"/>')
        if i < len(stages) - 1:
            ax = x + box_w + 8
            parts.append(f'<path class="mark" d="M{ax} 40 L{ax + 40} 40 M{ax + 32} 32 L{ax + 40} 40 L{ax + 32} 48" '
                         f'stroke="#666" stroke-width="2" fill="none"/>')
    parts.append("</svg>")
    return "".join(parts)


def _type_label(record_type: str, lang: str) -> str:
    labels = LABELS["record_type"].get(record_type)
    return labels[0 if lang == "zh" else 1] if labels else record_type


def table_html(headers: list[str], rows: list[tuple[object, ...]]) -> str:
    """A plain table, every cell escaped."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


STYLE = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:22px}h2{font-size:17px;margin-top:32px;border-bottom:1px solid #ddd}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #ccd;border-radius:6px;padding:8px 12px;min-width:130px}
.card b{display:block;font-size:22px}table{border-collapse:collapse;font-size:12px;margin-top:6px}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}th{background:#eef}
"""


def render_report(report: Report, lang: str = "zh") -> str:
    """The HTML page: headline cards, then each chart followed by its table."""
    count, dishonest = _t("count", lang), _t("dishonest", lang)
    cards = "".join(f'<div class="card">{_e(name)}<b>{_e(value)}</b></div>' for name, value in report.headline)
    trend_rows = [(week, *(series[i] for series in report.trend.values()))
                  for i, week in enumerate(report.trend_weeks) if any(s[i] for s in report.trend.values())]
    sections = [
        ("trend", trend_svg(report.trend_weeks, report.trend, lang, _t("trend", lang)),
         table_html([_t("week", lang), *(_type_label(t, lang) for t in report.trend)], trend_rows)),
        ("types", hbar_svg(report.by_type, _t("types", lang)),
         table_html([_t("type", lang), count, dishonest], report.by_type)),
        ("authority", hbar_svg(report.by_authority, _t("authority", lang)),
         table_html([_t("authority", lang).split("：")[-1], count, dishonest], report.by_authority)),
        ("province", hbar_svg(report.by_province, _t("province", lang)),
         table_html([_t("province", lang).split("：")[-1], count, dishonest], report.by_province)),
        ("operators", hbar_svg(report.top_operators, _t("operators", lang)),
         table_html([_t("company", lang), count, dishonest], report.top_operators)),
        ("pipeline", pipeline_svg(report.pipeline, _t("pipeline", lang)),
         table_html([_t("stage", lang), count], report.pipeline)),
        ("annual", hbar_svg(report.annual_kinds, _t("annual", lang)),
         table_html([_t("report_kind", lang), count, _t("of_which_overdue", lang)], report.annual_kinds)
         + table_html([_t("company", lang), _t("warning", lang), _t("due_on", lang), _t("days_left", lang)],
                      report.annual_warnings)),
        ("repair", hbar_svg(report.repair_states, _t("repair", lang)),
         table_html([_t("state", lang), count, _t("overdue", lang)], report.repair_states)
         + table_html([_t("case", lang), _t("company", lang), _t("reference", lang), _t("state", lang),
                     _t("deadline", lang), _t("days_left", lang), _t("overdue", lang), _t("verified", lang)],
                    report.repair_cases)),
        ("cloud", hbar_svg(report.cloud_levels, _t("cloud", lang)),
         table_html([_t("level", lang), _t("operators_n", lang), dishonest], report.cloud_levels)
         + table_html([_t("company", lang), _t("level", lang), _t("reasons", lang), _t("to_report", lang)],
                      report.cloud_below)),
    ]
    body = "".join(f'<section id="{key}"><h2>{_e(_t(key, lang))}</h2>{chart}{table}</section>'
                   for key, chart, table in sections)
    title = f"{_t('title', lang)} {report.week}"
    return (f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{_e(title)}</title><style>{STYLE}</style></head><body><h1>{_e(title)}</h1>"
            f"<p>{_e(_t('as_of', lang))} {_e(report.as_of)}</p><section id=\"headline\"><h2>"
            f"{_e(_t('headline', lang))}</h2><div class=\"cards\">{cards}</div></section>{body}</body></html>")


def write_report(con: duckdb.DuckDBPyConnection, out_path: Path, week: str, lang: str = "zh",
                 scope: Scope = EVERY_OPERATOR) -> Path:
    """Write the report for `week` and `scope` to `out_path` (atomically); ValueError for a bad week or
    language."""
    if lang not in ("zh", "en"):
        raise ValueError(f"unknown report language {lang!r}: use zh or en")
    parse_week(week)
    page = render_report(collect_report(con, week, lang, scope), lang)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_text(page, "utf-8")
    tmp.replace(out_path)
    return out_path
