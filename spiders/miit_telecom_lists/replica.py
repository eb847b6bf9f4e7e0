"""MIIT notices of the 电信业务经营不良名单 / 失信名单 (telecom operators' bad-conduct / dishonesty lists), on the
replica: www.miit.gov.cn's 工作动态 column (registries.md §7.4) and the tsm.miit.gov.cn notice system the
notices point to (§3.2).

Contract, §7.4 (`[idx 51805401784]` 2026, `[idx 7786257381]` 2022, `[idx 71595435488]` 2026-10):
- the column page `/jgsj/xgj/gzdt/index.html` is an empty shell: a `unitbuild.js` script tag declares the API and
  its `queryData`; the list is filled by
  `GET /api-gateway/jpaas-publish-server/front/page/build/unit?webId=8d828e408d90447786ddbe128d495e9e
   &tplSetId=209741b2109044b5b7695700b2bec37e&pageType=column&tagId=当前栏目_list&editType=null
   &pageId=85674bba20f34e4e8db4559b89d0cf75&parseType=buildstatic&paramJson={"pageNo":N,"pageSize":"15"}`
  → `{"success": true, "data": {"html": "<div class=page-content><ul><li><a href title>…</a><span>date</span>…"}}`;
  a request without a Referer on the column page is refused with 403 (`[idx 71595435488]`: "裸请求 403").
- a notice is `/jgsj/xgj/gzdt/art/<year>/art_<32 hex>.html`, its body in `div#con_con`; attachments under
  `/cms_files/filemanager/1226211233/attach/<yyyym>/<32 hex>.<ext>` (the form of MIIT's attachment links).
§3.2: entries carry 经营者名称, 统一社会信用代码, 许可证编号, 处理日期, 列入事由, 列入单位; the format of the notices is
not established (an image in one reprint; the 2020 Q3 notice says "详细信息可登陆 https://tsm.miit.gov.cn 查询").
So the replica publishes every form: an HTML table, an .xlsx attachment, an image only, and a notice that only
points to tsm, where the lists are tables.

tsm.miit.gov.cn's notice system, from a 2020 scraper of it (`[idx 44378770038]`, licence notices):
`GET /telecom-manage/web/notice/list/1/<page>` → `ul#noticelist1 > li > a > span[onclick="…(0,<number>)"]` (the
title) and `li > span` (the date), newest first; `GET /telecom-manage/web/notice/0/<number>.html` → the notice,
its list in `table.MsoNormalTable.ke-zeroborder` (td > p > span).

The replica's guesses (nothing below was seen on the live site):
- that the 不良/失信 lists are notices in that tsm notice list (titled "<quarter>纳入电信业务经营不良名单企业名单"),
  among the licence notices, 10 a page; a page past the end is an empty list; list categories other than 1
  are empty; an unknown notice number is a 404;
- the unit API's pager: a `div.pagination` with `count` (all items) and `pageNo` attributes (the form other
  jpaas sites' clients read, `[idx 61866510366]`, `[idx 69098091952]`); link text cut to 24 characters with
  "..." (the title attribute is whole); an unknown webId/pageId/tagId or a bad paramJson answers
  `{"success": false, …}`;
- markup of a notice: title `h1#con_title`, date `span#con_time`, a Word-exported table, header row first;
- encodings: every other notice page is GBK-encoded, declared only in `<meta charset=gb2312>`;
- paging: the pages after the first start one row earlier, as when a notice is published after a crawler
  read page 1 (page 2 repeats page 1's last row).

Data the world does not mark malformed, derived here: the second entry of the earliest HTML notice (the next
clean one) is published with an impossible 处理日期 (2月30日); an entry whose licence number is a malformed
licence's is quarantined for it. A notice published only as an image is a quarantine row (not entries).
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from typing import Any

from replica.captcha import png_noise
from replica.server import Replica, Request, Response
from replica.world import REGIONS, Subject

# -- its share of the world ---------------------------------------------------------------------------
LIST_NAMES = {"bad": "不良名单", "dishonest": "失信名单"}
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
    """A quarterly MIIT notice listing entries of one list or both: its table in the page (html), an .xlsx
    attachment, an image only, or only a pointer to tsm.miit.gov.cn (tsm), where each list is a notice."""

    notice_id: str  # the CMS's 32-hex article id (art_<id>.html)
    title: str
    published_on: date
    period: str  # 2026年第一季度
    list_kinds: tuple[str, ...]
    format: str  # html | xlsx | image | tsm
    entries: list[TelecomListEntry]
    epoch_added: int = 0
    tsm_numbers: dict[str, int] = field(default_factory=dict)  # list kind → tsm notice number


def title_of(period: str, kinds: tuple[str, ...]) -> str:
    if len(kinds) == 2:
        return f"关于{period}电信业务经营不良名单和失信名单的公告"
    return f"关于{period}纳入电信业务经营{LIST_NAMES[kinds[0]]}企业的公告"


def _entries(world: Any, rng: random.Random, notice_id: str, kinds: tuple[str, ...], published: date,
             epoch: int = 0) -> list[TelecomListEntry]:
    entries = []
    companies = rng.sample(world.companies, k=sum(3 if k == "bad" else 1 for k in kinds))
    for kind in kinds:
        for company in [companies.pop() for _ in range(3 if kind == "bad" else 1)]:
            lic = company.licences[0]
            entries.append(TelecomListEntry(
                f"{notice_id}-{lic.licence_no}", kind, Subject(company.name, company.uscc, "company", company.uscc),
                lic.licence_no, published - timedelta(days=rng.randint(5, 40)), LIST_REASONS[kind],
                REGIONS[company.region][2], notice_id, epoch_added=epoch))
    return entries


def populate(world: Any, rng: random.Random) -> None:
    """Quarterly notices: 2025 Q4 points to tsm for both lists; 2026 Q1 bad list as an HTML table, Q2 as an
    .xlsx attachment plus a dishonest list as a table, Q3 as an image only; a Q4 notice appears a week later."""
    notices = world.family("telecom_notices")
    plan = [(date(2026, 1, 20), "2025年第四季度", ("bad", "dishonest"), "tsm"),
            (date(2026, 4, 20), "2026年第一季度", ("bad",), "html"),
            (date(2026, 7, 20), "2026年第二季度", ("bad",), "xlsx"),
            (date(2026, 7, 20), "2026年第二季度", ("dishonest",), "html"),
            (date(2026, 10, 20), "2026年第三季度", ("bad",), "image")]
    for n, (published, period, kinds, fmt) in enumerate(plan):
        notice_id = f"{rng.getrandbits(128):032x}"
        numbers = {kind: 2000 + 10 * n + i for i, kind in enumerate(kinds)} if fmt == "tsm" else {}
        notices.append(TelecomNotice(notice_id, title_of(period, kinds), published, period, kinds, fmt,
                                     _entries(world, rng, notice_id, kinds, published), tsm_numbers=numbers))
    notice_id = f"{rng.getrandbits(128):032x}"  # a notice published after the first crawl
    again = notices[1].entries[0]  # an operator listed again
    notices.append(TelecomNotice(
        notice_id, title_of("2026年第四季度", ("bad",)), date(2026, 11, 20), "2026年第四季度", ("bad",), "html",
        [TelecomListEntry(f"{notice_id}-{again.licence_no}", "bad", again.subject, again.licence_no,
                          date(2026, 11, 10), again.reason, again.unit, notice_id, epoch_added=1)],
        epoch_added=1))


HOST = "www.miit.gov.cn"
TSM_HOST = "tsm.miit.gov.cn"
COLUMN = "/jgsj/xgj/gzdt/"
SHELL_PATH = "/jgsj/xgj/gzdt/index.html"
UNIT_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
UNIT_QUERY = {"webId": "8d828e408d90447786ddbe128d495e9e", "tplSetId": "209741b2109044b5b7695700b2bec37e",
              "pageType": "column", "tagId": "当前栏目_list", "pageId": "85674bba20f34e4e8db4559b89d0cf75",
              "parseType": "buildstatic"}
ARTICLE = re.compile(r"/jgsj/xgj/gzdt/art/(\d{4})/art_([0-9a-f]{32})\.html")
ATTACHMENT = re.compile(r"/cms_files/filemanager/1226211233/attach/(\d{5,6})/([0-9a-f]{32})\.(xlsx|png)")
TSM_LIST = re.compile(r"/telecom-manage/web/notice/list/(\d+)/(\d+)")
TSM_NOTICE = re.compile(r"/telecom-manage/web/notice/(\d+)/(\d+)\.html")
PAGE_OVERLAP = 1  # rows repeated from the previous page (replica attribute `miit_page_overlap` overrides)
TSM_PAGE_SIZE = 10
LINK_TEXT = 24  # characters of a title shown as link text
COLUMNS = ("序号", "经营者名称", "统一社会信用代码", "许可证编号", "处理日期", "列入事由", "列入单位")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
IMAGE_REASON = "notice: entries published only as an image, not machine-readable"
IMPOSSIBLE_DATE_REASON = "decided_on: impossible date"
BAD_LICENCE_REASON = "licence_no: does not match the MIIT licence number pattern"

# Other 工作动态 of the same column: the spider must pick list notices out by title. The first one is the
# 2018 policy notice itself: it names both lists but lists nobody.
FILLERS = (
    (date(2026, 11, 5), "关于做好电信业务经营不良名单和失信名单管理工作的通知（解读）"),
    (date(2026, 9, 28), "信息通信管理局召开2026年第三季度电信市场监管工作会"),
    (date(2026, 8, 15), "关于开展2026年电信业务经营许可年报抽查工作的通知"),
    (date(2026, 6, 30), "关于进一步规范互联网数据中心业务经营行为的通知"),
    (date(2026, 3, 10), "关于2025年度电信业务经营许可年报报送情况的通报"),
    (date(2026, 1, 12), "信息通信管理局2026年工作要点"),
    (date(2025, 12, 20), "关于公布2025年第四季度电信用户申诉受理情况的通告"),
    *((date(y + (m == 12), m % 12 + 1, 16), f"{y}年{m}月电信服务质量通告")
      for y, m in [(2025, m) for m in range(1, 13)] + [(2026, m) for m in range(1, 11)]),
)
LICENCE_NOTICE = "关于{year}年第{batch}批《中华人民共和国增值电信业务经营许可证》审批结果的公示"
TSM_FILLERS = tuple(
    (day, LICENCE_NOTICE.format(year=day.year, batch=(day.timetuple().tm_yday - 1) // 7 + 1), 1000 + w)
    for w, day in enumerate(date(2025, 10, 6) + timedelta(weeks=w) for w in range(59)))


def article_id(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 (an id, not security)


def article_path(day: date, ident: str) -> str:
    return f"{COLUMN}art/{day.year}/art_{ident}.html"


def attachment_path(notice: TelecomNotice, ext: str) -> str:
    day = notice.published_on
    return f"/cms_files/filemanager/1226211233/attach/{day.year}{day.month}/{article_id(notice.notice_id + ext)}.{ext}"


# -- which notices, which entries ---------------------------------------------------------------------
def notices_at(world: Any, epoch: int) -> list[Any]:
    return sorted(world.at(epoch)["telecom_notices"], key=lambda n: (n.published_on, n.notice_id), reverse=True)


def _bad_licence(world: Any, entry: Any) -> bool:
    return any(lic.malformed and lic.licence_no == entry.licence_no for _, lic in world.licences())


def impossible_date_key(world: Any) -> str | None:
    """The entry the replica publishes with 2月30日: the second entry of the earliest HTML notice (the next one
    when that one's licence number is malformed, so that each fault has its own entry)."""
    html = sorted((n for n in world.telecom_notices if n.format == "html" and len(n.entries) > 1),
                  key=lambda n: (n.published_on, n.notice_id))
    if not html:
        return None
    entries = html[0].entries
    return next((e.key for e in entries[1:] + entries[:1] if not _bad_licence(world, e)), None)


def entry_problem(world: Any, entry: Any) -> str | None:
    """Why a crawl must quarantine `entry`, or None."""
    if entry.key == impossible_date_key(world):
        return IMPOSSIBLE_DATE_REASON
    if _bad_licence(world, entry):
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


def _page(title: str, body: str, charset: str = "utf-8", head: str = "") -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="{charset}"/>'
            f'<meta name="ArticleTitle" content="{escape(title)}"/>{head}<title>{escape(title)}_工业和信息化部</title>'
            f"</head><body>{body}</body></html>")


def _html(text: str, gbk: bool = False) -> Response:
    if gbk:
        # Declared gb2312 in the page, encoded GBK (a superset), no charset in the header: as old CMSes do.
        return Response(200, text.encode("gbk", "xmlcharrefreplace"), "text/html")
    return Response(200, text.encode("utf-8"), "text/html;charset=UTF-8")


def not_found(replica: Replica, request: Request) -> Response:
    """www.miit.gov.cn's page for a path it does not serve (the old `art/detail.html?id=` form included)."""
    return Response(404, _page("404", "<p>您访问的页面不存在</p>").encode(), "text/html;charset=UTF-8")


def shell_page(replica: Replica, request: Request) -> Response:
    # §7.4: the column page is a shell; unitbuild.js fills the list from the unit API (queryData below)
    query = {**UNIT_QUERY, "editType": "null"}
    declared = escape(str(query).replace('"', "'"), quote=False)
    body = ('<div class="lmy_main_l"><div class="lmy_main_title">工作动态</div>'
            f'<div id="当前栏目_list"><script src="/AuthorizedRead/unitbuild.js" url="{UNIT_PATH}" '
            f'queryData="{declared}" paramJson="{{\'pageNo\':1,\'pageSize\':\'15\'}}"></script></div></div>')
    return _html(_page("工作动态_信息通信管理局", body))


def _column_items(world: Any, epoch: int) -> list[tuple[date, str, str]]:
    items = [(n.published_on, n.title, article_path(n.published_on, n.notice_id)) for n in notices_at(world, epoch)]
    items += [(day, title, article_path(day, article_id(title))) for day, title in FILLERS]
    return sorted(items, key=lambda item: (item[0], item[2]), reverse=True)


def link_text(title: str) -> str:
    return title if len(title) <= LINK_TEXT else title[:LINK_TEXT] + "..."


def _unit_error(message: str) -> Response:
    return Response.json({"success": False, "code": 500, "message": message, "data": None})


def _column_referer(request: Request) -> bool:
    referer = next((v for k, v in request.headers.items() if k.lower() == "referer"), "")
    return referer.split("?", 1)[0].endswith((SHELL_PATH, COLUMN))


def unit_api(replica: Replica, request: Request) -> Response:
    # §7.4: GET build/unit → {"success": true, "data": {"html": …}}; a bare request (no Referer on the column
    # page) is refused with 403 as [idx 71595435488] reports
    if not _column_referer(request):
        return Response(403, b"<html><body><h1>403 Forbidden</h1></body></html>", "text/html")
    if any(request.query.get(k) != v for k, v in UNIT_QUERY.items()):
        return _unit_error("页面单元不存在")
    try:
        params = json.loads(request.query.get("paramJson", '{"pageNo":1,"pageSize":"15"}'))
        page, size = max(1, int(params.get("pageNo", 1))), min(max(1, int(params.get("pageSize", 15))), 50)
    except (ValueError, TypeError, AttributeError):
        return _unit_error("参数错误")
    items = _column_items(replica.world, replica.epoch)
    overlap = getattr(replica, "miit_page_overlap", PAGE_OVERLAP)
    start = max(0, (page - 1) * size - (overlap if page > 1 else 0))
    lis = "".join(
        f'<li><a href="{href}" target="_blank" title="{escape(title)}">{escape(link_text(title))}</a>'
        f"<span>{day.isoformat()}</span></li>" for day, title, href in items[start : start + size])
    html = (f'<div class="page-content"><ul>{lis}</ul></div>'
            f'<div class="pagination" count="{len(items)}" pageNo="{page}" pageSize="{size}"></div>')
    return Response.json({"success": True, "code": 200, "message": "操作成功", "data": {"html": html}})


def _table(world: Any, entries: list[Any], drifted: bool = False, css: str = "MsoNormalTable") -> str:
    header = [c.replace("经营者名称", "企业名称") for c in COLUMNS] if drifted else list(COLUMNS)
    cells = [header] + [entry_cells(world, i, e) for i, e in enumerate(entries, start=1)]
    rows = "".join("<tr>" + "".join(f'<td valign="top"><p align="center"><span>{escape(c)}</span></p></td>'
                                    for c in row) + "</tr>" for row in cells)
    return f'<table class="{css}" border="1" cellspacing="0"><tbody>{rows}</tbody></table>'


def _pointer(notice: TelecomNotice) -> str:
    counts = "；".join(f"{sum(e.list_kind == k for e in notice.entries)}家企业被纳入电信业务经营{LIST_NAMES[k]}"
                      for k in notice.list_kinds)
    return (f"<p>{notice.period}，依据《电信条例》《电信业务经营许可管理办法》等相关规定，{counts}。现予以公布，"
            f'详细信息可登陆全国电信业务市场综合管理信息系统（<a href="https://{TSM_HOST}">https://{TSM_HOST}</a>）查询。</p>')


def notice_page(replica: Replica, request: Request) -> Response:
    # §7.4: a notice, its body in div#con_con
    match = ARTICLE.fullmatch(request.path.removeprefix(f"/{HOST}"))
    assert match is not None
    year, ident = int(match.group(1)), match.group(2)
    notices = notices_at(replica.world, replica.epoch)
    notice = next((n for n in notices if n.notice_id == ident and n.published_on.year == year), None)
    if notice is None:
        filler = next(((d, t) for d, t in FILLERS if article_id(t) == ident and d.year == year), None)
        if filler is None:
            return not_found(replica, request)
        day, title = filler
        body = (f'<h1 id="con_title">{escape(title)}</h1><span id="con_time">发布时间：{day.isoformat()}</span>'
                '<div id="con_con" class="ccontent"><p>（正文略）</p></div>')
        return _html(_page(title, body))
    gbk = notices.index(notice) % 2 == 1
    drifted = replica.html_drift(request)
    lead = (f"<p>根据《关于做好电信业务经营不良名单和失信名单管理工作的通知》，"
            f"现将{escape(notice.title.removeprefix('关于').removesuffix('的公告'))}公告如下：</p>")
    if notice.format == "html":
        content = _table(replica.world, notice.entries, drifted)
    elif notice.format == "xlsx":
        content = (f'<p>附件：<a href="{attachment_path(notice, "xlsx")}">'
                   f"{escape(notice.title.removeprefix('关于').removesuffix('的公告'))}名单.xlsx</a></p>")
    elif notice.format == "image":
        content = f'<p style="text-align:center"><img src="{attachment_path(notice, "png")}" border="0" alt=""/></p>'
    else:
        lead, content = "", _pointer(notice)
    container = 'div class="article-v2"' if drifted else 'div id="con_con" class="ccontent"'
    body = (f'<div class="ctitle"><h1 id="con_title">{escape(notice.title)}</h1></div>'
            f'<div class="cinfo"><span id="con_time">发布时间：{notice.published_on.isoformat()}</span>'
            f"<span>来源：信息通信管理局</span></div><{container}>{lead}{content}</div>")
    head = f'<meta name="PubDate" content="{notice.published_on.isoformat()} 10:00"/>'
    return _html(_page(notice.title, body, "gb2312" if gbk else "utf-8", head), gbk=gbk)


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
    # an attachment or an inline image of a notice
    path = request.path.removeprefix(f"/{HOST}")
    notice = next((n for n in notices_at(replica.world, replica.epoch) for ext in ("xlsx", "png")
                   if attachment_path(n, ext) == path and (ext, n.format) in (("xlsx", "xlsx"), ("png", "image"))),
                  None)
    if notice is None:
        return not_found(replica, request)
    if path.endswith(".png"):
        return Response(200, png_noise(600, 200, seed=len(notice.entries)), "image/png")
    return Response(200, xlsx_bytes(replica.world, notice), XLSX_TYPE,
                    {"Content-Disposition": f'attachment; filename="{notice.notice_id}.xlsx"'})


# -- tsm.miit.gov.cn's notice system ------------------------------------------------------------------------
def tsm_title(notice: TelecomNotice, kind: str) -> str:
    return f"{notice.period}纳入电信业务经营{LIST_NAMES[kind]}企业名单"


def tsm_items(world: Any, epoch: int) -> list[tuple[date, str, int]]:
    """(date, title, number) of tsm's notices, newest first: licence notices and, the replica's guess, the lists."""
    items = [(n.published_on, tsm_title(n, kind), number) for n in notices_at(world, epoch)
             for kind, number in n.tsm_numbers.items()]
    return sorted(items + list(TSM_FILLERS), key=lambda item: (item[0], item[2]), reverse=True)


def _tsm_page(title: str, body: str) -> Response:
    html = (f'<!DOCTYPE html><html><head><meta charset="utf-8"/><title>{escape(title)}</title></head>'
            f"<body>{body}</body></html>")
    return Response(200, html.encode("utf-8"), "text/html;charset=UTF-8")


def tsm_list(replica: Replica, request: Request) -> Response:
    # [idx 44378770038]: GET /telecom-manage/web/notice/list/<category>/<page> → ul#noticelist1
    match = TSM_LIST.fullmatch(request.path.removeprefix(f"/{TSM_HOST}"))
    assert match is not None
    category, page = int(match.group(1)), max(1, int(match.group(2)))
    items = tsm_items(replica.world, replica.epoch) if category == 1 else []
    shown = items[(page - 1) * TSM_PAGE_SIZE : page * TSM_PAGE_SIZE]
    lis = "".join(f'<li><a href="javascript:void(0);"><span onclick="noticeDetail(0,{number})">{escape(title)}</span>'
                  f"</a><span>{day.isoformat()}</span></li>" for day, title, number in shown)
    return _tsm_page("通知公告", f'<div class="notice-list"><ul id="noticelist1">{lis}</ul></div>')


def tsm_notice(replica: Replica, request: Request) -> Response:
    # [idx 44378770038]: GET /telecom-manage/web/notice/0/<number>.html → table.MsoNormalTable.ke-zeroborder
    match = TSM_NOTICE.fullmatch(request.path.removeprefix(f"/{TSM_HOST}"))
    assert match is not None
    number = int(match.group(2))
    for notice in notices_at(replica.world, replica.epoch):
        for kind, candidate in notice.tsm_numbers.items():
            if candidate == number:
                title = tsm_title(notice, kind)
                table = _table(replica.world, [e for e in notice.entries if e.list_kind == kind],
                               css="MsoNormalTable ke-zeroborder")
                return _tsm_page(title, f'<div class="notice"><h3 class="title">{escape(title)}</h3>'
                                        f'<div class="time">{notice.published_on.isoformat()}</div>'
                                        f'<div class="content">{table}</div></div>')
    filler = next(((d, t) for d, t, n in TSM_FILLERS if n == number), None)
    if filler is None:
        return Response(404, b"<html><body><h1>404 Not Found</h1></body></html>", "text/html")
    return _tsm_page(filler[1], f'<div class="notice"><h3 class="title">{escape(filler[1])}</h3>'
                                f'<div class="content"><p>（正文略）</p></div></div>')


ROUTES = {
    ("GET", SHELL_PATH): shell_page,
    ("GET", UNIT_PATH): unit_api,
    ("GET", ARTICLE): notice_page,
    ("GET", ATTACHMENT): download,
}
OTHER_HOSTS = {TSM_HOST: {("GET", TSM_LIST): tsm_list, ("GET", TSM_NOTICE): tsm_notice}}
