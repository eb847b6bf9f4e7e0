"""MIIT notices of the 电信业务经营不良名单 / 失信名单 (telecom operators' bad-conduct / dishonesty lists).

Contract (registries.md §3.2): quarterly notices on www.miit.gov.cn; each entry carries 经营者名称,
统一社会信用代码, 许可证编号, 处理日期, 列入事由, 列入单位. The reference could NOT establish the notices'
format: one reprint shows the list as an embedded image, others point to tsm.miit.gov.cn, no attachment
was seen. So the replica serves all three (world.TelecomNotice.format): an HTML table, an .xlsx
attachment, an image only.

The replica's guesses (nothing here was seen on the live site):
- paths: the section list `/jgsj/xgj/gzdt/index.html?page=N` (newest first, PAGE_SIZE a page, unrelated
  工作动态 mixed in), a notice `/jgsj/xgj/gzdt/art/detail.html?id=<notice id>` (the live CMS writes
  `art/<year>/art_<id>.html`; the replica's router matches exact paths, so the id goes in the query),
  attachments and images `/cms_files/filemanager/download.html?id=<notice id>&ext=xlsx|png`;
- markup: list `ul#list > li > a` + `span.date`, pager `div.page[data-total]`; notice title `h1#con_title`,
  date `span#con_time`, body `div#con_con` (Word-exported table, header row first);
- encodings: every other notice page is GBK-encoded, declared only in a `<meta charset=gb2312>` (no
  charset in the Content-Type header), as older government CMS pages are;
- paging: each page after the first repeats the last row of the page before, as when a notice is
  published while a crawler pages (so the oldest row spills past the last announced page).

Data the world does not mark malformed, derived here: the second entry of the earliest HTML notice is
published with an impossible 处理日期 (2月30日); an entry whose licence number is a malformed licence's
must be quarantined for it. A notice published only as an image is a quarantine row (not entries).
"""

from __future__ import annotations

import hashlib
import io
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from replica.captcha import png_noise
from replica.server import Replica, Request, Response
from replica.world import REGIONS, Subject

# -- its share of the world ---------------------------------------------------------------------------
LIST_REASONS = {"bad": "未按规定报告年报信息，经责令限期改正后仍未履行", "dishonest": "被吊销电信业务经营许可证"}


@dataclass
class TelecomListEntry:
    """电信业务经营不良名单 (list bad) / 失信名单 (list dishonest) entry, published in MIIT notices."""

    key: str
    list_kind: str  # bad | dishonest
    subject: Subject
    licence_no: str | None
    decided_on: date
    reason: str  # 列入事由
    unit: str  # 列入单位
    notice_id: str
    epoch_added: int = 0
    epoch_removed: int | None = None


@dataclass
class TelecomNotice:
    """A quarterly MIIT notice listing entries, published as an HTML table, an XLSX or an image."""

    notice_id: str
    title: str
    published_on: date
    list_kind: str
    format: str  # html | xlsx | image
    entries: list[TelecomListEntry]
    epoch_added: int = 0


def populate(world: Any, rng: random.Random) -> None:
    """Quarterly notices of 2026: Q1 bad list as an HTML table, Q2 as an .xlsx attachment plus a dishonest
    list, Q3 as an image only; a Q4 notice appears between the two crawls."""
    notices = world.family("telecom_notices")
    quarters = [(date(2026, 4, 20), "一"), (date(2026, 7, 20), "二"), (date(2026, 10, 20), "三")]
    formats = ["html", "xlsx", "image"]
    for q, ((published, label), fmt) in enumerate(zip(quarters, formats, strict=True)):
        for list_kind, list_name in (("bad", "不良名单"), ("dishonest", "失信名单")):
            if list_kind == "dishonest" and q != 1:
                continue
            notice_id = f"n{published:%Y%m}{list_kind}"
            entries = []
            for company in rng.sample(world.companies, k=3 if list_kind == "bad" else 1):
                lic = company.licences[0]
                entries.append(TelecomListEntry(
                    f"{notice_id}-{lic.licence_no}", list_kind,
                    Subject(company.name, company.uscc, "company", company.uscc), lic.licence_no,
                    published - timedelta(days=rng.randint(5, 40)), LIST_REASONS[list_kind],
                    REGIONS[company.region][2], notice_id))
            title = f"关于{published.year}年第{label}季度纳入电信业务经营{list_name}企业的公告"
            notices.append(TelecomNotice(notice_id, title, published, list_kind,
                                         fmt if list_kind == "bad" else "html", entries))
    extra = notices[0].entries  # a notice published after the first crawl
    notices.append(TelecomNotice(
        "n202611bad", "关于2026年第四季度纳入电信业务经营不良名单企业的公告", date(2026, 11, 20), "bad", "html",
        [TelecomListEntry(f"n202611bad-{e.licence_no}", "bad", e.subject, e.licence_no, date(2026, 11, 10),
                          e.reason, e.unit, "n202611bad", epoch_added=1) for e in extra[:1]],
        epoch_added=1))


HOST = "www.miit.gov.cn"
LIST_PATH = "/jgsj/xgj/gzdt/index.html"
NOTICE_PATH = "/jgsj/xgj/gzdt/art/detail.html"
FILE_PATH = "/cms_files/filemanager/download.html"
PAGE_SIZE = 5
PAGE_OVERLAP = 1  # rows repeated from the previous page (replica attribute `miit_page_overlap` overrides)
COLUMNS = ("序号", "经营者名称", "统一社会信用代码", "许可证编号", "处理日期", "列入事由", "列入单位")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMAGE_REASON = "notice: entries published only as an image, not machine-readable"
IMPOSSIBLE_DATE_REASON = "decided_on: impossible date"
BAD_LICENCE_REASON = "licence_no: does not match the MIIT licence number pattern"

# Other 工作动态 of the same section: the spider must pick list notices out by title. The first one is
# the 2018 policy notice itself: it names both lists but lists nobody.
FILLERS = (
    (date(2026, 11, 5), "关于做好电信业务经营不良名单和失信名单管理工作的通知（解读）"),
    (date(2026, 9, 28), "信息通信管理局召开2026年第三季度电信市场监管工作会"),
    (date(2026, 8, 15), "关于开展2026年电信业务经营许可年报抽查工作的通知"),
    (date(2026, 6, 30), "关于进一步规范互联网数据中心业务经营行为的通知"),
    (date(2026, 5, 21), "2026年一季度电信服务质量通告"),
    (date(2026, 3, 10), "关于2025年度电信业务经营许可年报报送情况的通报"),
    (date(2026, 1, 12), "信息通信管理局2026年工作要点"),
    (date(2025, 12, 20), "关于公布2025年第四季度电信用户申诉受理情况的通告"),
)


# -- which notices, which entries ---------------------------------------------------------------------
def notices_at(world: Any, epoch: int) -> list[Any]:
    return sorted(world.at(epoch)["telecom_notices"], key=lambda n: (n.published_on, n.notice_id), reverse=True)


def impossible_date_key(world: Any) -> str | None:
    """The entry the replica publishes with 2月30日: the second entry of the earliest HTML notice."""
    html = sorted((n for n in world.telecom_notices if n.format == "html" and len(n.entries) > 1),
                  key=lambda n: (n.published_on, n.notice_id))
    return html[0].entries[1].key if html else None


def entry_problem(world: Any, entry: Any) -> str | None:
    """Why a crawl must quarantine `entry`, or None."""
    if entry.key == impossible_date_key(world):
        return IMPOSSIBLE_DATE_REASON
    if any(lic.malformed and lic.licence_no == entry.licence_no for _, lic in world.licences()):
        return BAD_LICENCE_REASON
    return None


def ground_truth(world, epoch: int = 0) -> dict[str, dict]:  # noqa: ANN001 (World; avoids an import cycle)
    records: set[str] = set()
    quarantined: dict[str, str] = {}
    for notice in notices_at(world, epoch):
        if notice.format == "image":
            quarantined[notice.notice_id] = IMAGE_REASON
            continue
        for entry in notice.entries:
            problem = entry_problem(world, entry)
            if problem:
                quarantined[entry.key] = problem
            else:
                records.add(entry.key)
    return {"miit_telecom_lists": {"records": records, "quarantined": quarantined}}


# -- rendering ------------------------------------------------------------------------------------------
def _cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def entry_cells(world: Any, index: int, entry: Any) -> list[str]:
    """One entry's cells in COLUMNS order, as the notice prints them."""
    decided = "2026年2月30日" if entry.key == impossible_date_key(world) else _cn_date(entry.decided_on)
    return [str(index), entry.subject.name, entry.subject.uscc or "", entry.licence_no or "", decided,
            entry.reason, entry.unit]


def _drifted(replica: Replica, request: Request) -> bool:
    """The server drifts JSON keys only; for HTML pages the site module renders the 'redesign' itself."""
    rate = replica.faults.layout_drift
    if rate <= 0:
        return False
    key = f"html-drift|{replica.world.seed}|{request.path}|{sorted(request.query.items())}"
    return int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < rate


def _page(title: str, body: str, charset: str = "utf-8") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"/>'
            f'<meta name="ArticleTitle" content="{escape(title)}"/><title>{escape(title)}_工业和信息化部</title>'
            f"</head><body>{body}</body></html>")


def _html(text: str, gbk: bool = False) -> Response:
    if gbk:
        # Declared gb2312 in the page, encoded GBK (a superset), no charset in the header: as old CMSes do.
        return Response(200, text.encode("gbk", "xmlcharrefreplace"), "text/html")
    return Response(200, text.encode("utf-8"), "text/html;charset=UTF-8")


def list_page(replica: Replica, request: Request) -> Response:
    world = replica.world
    items = [(n.published_on, n.title, f"{NOTICE_PATH}?id={n.notice_id}") for n in notices_at(world, replica.epoch)]
    items += [(day, title, f"{NOTICE_PATH}?id=f{day:%Y%m%d}") for day, title in FILLERS]
    items.sort(key=lambda item: item[0], reverse=True)
    try:
        page = max(1, int(request.param("page", "1")))
    except ValueError:
        return _html(_page("参数错误", "<p>参数错误</p>"))
    overlap = getattr(replica, "miit_page_overlap", PAGE_OVERLAP)
    start = max(0, (page - 1) * PAGE_SIZE - (overlap if page > 1 else 0))
    rows = items[start : start + PAGE_SIZE]
    pages = max(1, -(-len(items) // PAGE_SIZE))
    lis = "".join(f'<li><a href="{href}" target="_blank" title="{escape(title)}">{escape(title)}</a>'
                  f'<span class="date">{day.isoformat()}</span></li>' for day, title, href in rows)
    following = f'<a href="{LIST_PATH}?page={page + 1}">下一页</a>' if page < pages else ""
    if _drifted(replica, request):
        body = f'<div class="news-v2">{lis.replace("<li>", "<div class=item>").replace("</li>", "</div>")}</div>'
    else:
        body = (f'<div class="lmy_main_l"><ul class="page-list" id="list">{lis}</ul>'
                f'<div class="page" data-total="{len(items)}" data-pages="{pages}">共{len(items)}条 '
                f"第{page}/{pages}页 {following}</div></div>")
    return _html(_page("工作动态_信息通信管理局", body))


def _table(world: Any, notice: Any, drifted: bool) -> str:
    header = [c.replace("经营者名称", "企业名称") for c in COLUMNS] if drifted else list(COLUMNS)
    cells = [header] + [entry_cells(world, i, e) for i, e in enumerate(notice.entries, start=1)]
    rows = "".join("<tr>" + "".join(f'<td valign="top"><p align="center"><span>{escape(c)}</span></p></td>'
                                    for c in row) + "</tr>" for row in cells)
    return f'<table class="MsoNormalTable" border="1" cellspacing="0"><tbody>{rows}</tbody></table>'


def notice_page(replica: Replica, request: Request) -> Response:
    notice_id = request.param("id")
    notices = notices_at(replica.world, replica.epoch)
    notice = next((n for n in notices if n.notice_id == notice_id), None)
    if notice is None:
        filler = next(((d, t) for d, t in FILLERS if f"f{d:%Y%m%d}" == notice_id), None)
        if filler is None:
            return Response(404, _page("404", "<p>您访问的页面不存在</p>").encode(), "text/html;charset=UTF-8")
        day, title = filler
        body = (f'<h1 id="con_title">{escape(title)}</h1><span id="con_time">发布时间：{day.isoformat()}</span>'
                '<div id="con_con" class="ccontent"><p>（正文略）</p></div>')
        return _html(_page(title, body))
    gbk = notices.index(notice) % 2 == 1
    drifted = _drifted(replica, request)
    lead = (f"<p>根据《关于做好电信业务经营不良名单和失信名单管理工作的通知》，"
            f"现将{escape(notice.title.removeprefix('关于').removesuffix('的公告'))}公告如下：</p>")
    if notice.format == "html":
        content = _table(replica.world, notice, drifted)
    elif notice.format == "xlsx":
        content = (f'<p>附件：<a href="{FILE_PATH}?id={notice.notice_id}&amp;ext=xlsx">'
                   f"{escape(notice.title)}名单.xlsx</a></p>")
    else:
        content = (f'<p style="text-align:center"><img src="{FILE_PATH}?id={notice.notice_id}&amp;ext=png" '
                   'border="0" alt=""/></p>')
    container = 'div class="article-v2"' if drifted else 'div id="con_con" class="ccontent"'
    body = (f'<div class="ctitle"><h1 id="con_title">{escape(notice.title)}</h1></div>'
            f'<div class="cinfo"><span id="con_time">发布时间：{notice.published_on.isoformat()}</span>'
            f"<span>来源：信息通信管理局</span></div><{container}>{lead}{content}</div>")
    return _html(_page(notice.title, body, "gb2312" if gbk else "utf-8"), gbk=gbk)


def xlsx_bytes(world: Any, notice: Any) -> bytes:
    """The attachment: a title row, the header row, one row per entry; 处理日期 as real date cells."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Sheet1")
    dated = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.merge_range(0, 0, 0, len(COLUMNS) - 1, notice.title.removeprefix("关于").removesuffix("的公告"))
    sheet.write_row(1, 0, COLUMNS)
    for row, entry in enumerate(notice.entries, start=2):
        cells = entry_cells(world, row - 1, entry)
        sheet.write_number(row, 0, row - 1)
        sheet.write_row(row, 1, cells[1:4])
        sheet.write_datetime(row, 4, datetime.combine(entry.decided_on, datetime.min.time()), dated)
        sheet.write_row(row, 5, cells[5:])
    book.close()
    return out.getvalue()


def download(replica: Replica, request: Request) -> Response:
    notice = next((n for n in notices_at(replica.world, replica.epoch) if n.notice_id == request.param("id")), None)
    ext = request.param("ext")
    if notice is None or (ext, notice.format) not in (("xlsx", "xlsx"), ("png", "image")):
        return Response(404, _page("404", "<p>文件不存在</p>").encode(), "text/html;charset=UTF-8")
    if ext == "png":
        return Response(200, png_noise(600, 200, seed=len(notice.entries)), "image/png")
    name = f"{notice.notice_id}.xlsx"
    return Response(200, xlsx_bytes(replica.world, notice), XLSX_TYPE,
                    {"Content-Disposition": f'attachment; filename="{name}"'})


ROUTES = {
    ("GET", LIST_PATH): list_page,
    ("GET", NOTICE_PATH): notice_page,
    ("GET", FILE_PATH): download,
}
