"""失信被执行人 (zxgk, under /gkw/, registries.md §7.5): a crawl of the replica (faults on, repeated rows across
pages) equals its ground truth; the 2023 `.do` requests fail; plain HTTP gets the 瑞数 412 and a session that never
loaded the page gets it too; a slider captcha is passed by a person in the browser page (the replica's hook or a
test standing in), refused at a terminal, and with no solver ends the source incomplete naming the command to run;
ID numbers are masked."""

from __future__ import annotations

import asyncio
import contextlib
import http.cookiejar
import io
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyarrow.parquet as pq
import pytest
from scrapy import Request
from scrapy.http import HtmlResponse, TextResponse
from scrapy.utils.test import get_crawler
from twisted.internet.error import TimeoutError as DownloadTimeout
from twisted.python.failure import Failure

from flows.stages import crawl_source, load, transform
from pipelines.run_folder import RunFolder
from replica.server import Faults, Replica
from replica.world import World
from spiders import captcha as handoff
from spiders.captcha import SLIDER, BrowserPersonSolver, CaptchaChallenge, ReplicaHookSolver, SliderPass
from spiders.court_dishonest import replica as zxgk
from spiders.court_dishonest.replica import court_masked
from spiders.court_dishonest.spider import (
    MAX_CAPTCHA_TRIES,
    CourtDishonestSpider,
    captcha_type,
    passed_in_page,
    refused,
    split_card_num,
)
from spiders.settings import REPLICA
from spiders.source import sources
from tests.helpers import assert_incomplete_because

SOURCE = "court_dishonest"
FIXTURES = sources()[SOURCE].fixtures
LIVE = "https://zxgk.court.gov.cn"
PERSONAL_ID = "310104199609088933"  # the synthetic number quoted in fixtures/detail_person.json


def crawl(replica: Replica, run_dir: Path, solver: str = "replica", **kwargs: Any) -> dict[str, Any]:
    return crawl_source(SOURCE, run_dir, replica_url=replica.base_url, solver=solver, **kwargs)


def rows(folder: RunFolder, quarantine: bool = False) -> list[dict[str, Any]]:
    return pq.read_table(folder.quarantine(SOURCE) if quarantine else folder.records(SOURCE)).to_pylist()


def assert_matches_truth(folder: RunFolder, truth: dict[str, Any]) -> None:
    keys = [r["natural_key"] for r in rows(folder)]
    assert len(keys) == len(set(keys))
    assert set(keys) == truth["records"]
    quarantined = rows(folder, quarantine=True)
    assert {q["natural_key"] for q in quarantined} == set(truth["quarantined"])
    for q in quarantined:
        assert q["field"] == truth["quarantined"][q["natural_key"]].split(":")[0]


@contextlib.contextmanager
def granted(world: World, faults: Faults | None = None) -> Iterator[Replica]:
    """The replica serving as though the session's browser ran the 瑞数 script (as a browser session would)."""
    with Replica(world, faults if faults is not None else Faults.none()) as replica:
        zxgk.browser_session(replica)
        yield replica


@pytest.fixture(scope="module")
def crawled(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunFolder, dict[str, Any]]]:
    run_dir = tmp_path_factory.mktemp("runs") / "20261123T000000Z-court"
    with granted(world, Faults()) as replica:  # the replica's default faults on
        yield RunFolder(run_dir), crawl(replica, run_dir)


# -- a crawl of the replica ---------------------------------------------------------------------------
def test_every_case_once_and_the_malformed_one_quarantined(crawled, world: World) -> None:
    folder, manifest = crawled
    assert manifest.complete, manifest.incomplete_reasons
    assert_matches_truth(folder, world.ground_truth(0)[SOURCE])
    # 公司 spans two pages of 5 and page 2 repeats page 1's last row: every row announced was still received
    assert manifest.expected_rows >= len(world.ground_truth(0)[SOURCE]["records"])


def test_fields_are_typed_and_split_codes_from_id_numbers(crawled, world: World) -> None:
    folder, _ = crawled
    cases = {c.case_code: c for c in world.court_dishonest}
    people = 0
    for row in rows(folder):
        fields = json.loads(row["fields_json"])
        case = cases[row["natural_key"]]
        assert fields["subject_name"] == case.subject.name.strip()
        assert fields["published_on"] == case.published_on.isoformat()
        assert fields["registered_on"] == case.registered_on.isoformat()
        assert row["url"].endswith("/gkw/sx/disDetailNew?" + urlencode(
            {"id": zxgk.record_id(case.case_code), "caseCode": case.case_code, "pCode": "", "captchaId": ""}))
        if case.subject.person_id:
            people += 1
            pid = case.subject.person_id
            assert fields["subject_id_number"] == pid[:3] + "*" * 13 + pid[-2:]
            assert fields["subject_uscc"] is None
        else:
            assert fields["subject_id_number"] is None
            assert fields["subject_uscc_raw"] == case.subject.uscc
    assert people >= 1


def test_no_id_number_leaves_the_archive_unmasked(crawled, world: World) -> None:
    folder, _ = crawled
    ids = [c.subject.person_id for c in world.court_dishonest if c.subject.person_id]
    assert ids
    text = json.dumps(rows(folder) + rows(folder, quarantine=True), ensure_ascii=False)
    for pid in ids:
        assert pid not in text  # the replica quotes it in full inside `duty`
        assert court_masked(pid) not in text  # the court's own mask keeps the birth year: ours does not
        assert pid[:3] + "*" * 13 + pid[-2:] in text


def test_staging_types_the_cases(crawled, tmp_path: Path) -> None:
    folder, _ = crawled
    warehouse = tmp_path / "w.duckdb"
    load(warehouse, folder.path)
    built = transform(warehouse, targets=["staging.stg_court__dishonest"])
    assert built["rows"]["staging.stg_court__dishonest"] == len(rows(folder))
    from warehouse.db import connect

    con = connect(warehouse)
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = 'stg_court__dishonest'").fetchall())
    masked = con.execute("SELECT count(*) FROM staging.stg_court__dishonest "
                         "WHERE subject_id_number LIKE '___*************__'").fetchone()[0]
    con.close()
    assert types["published_on"] == "DATE" and types["registered_on"] == "DATE"
    assert masked >= 1


def test_epoch_one_drops_the_removed_case(world: World, tmp_path: Path) -> None:
    with granted(world) as replica:
        replica.epoch = 1
        manifest = crawl(replica, tmp_path / "run")
    assert manifest.complete, manifest.incomplete_reasons
    truth = world.ground_truth(1)[SOURCE]
    assert_matches_truth(RunFolder(tmp_path / "run"), truth)
    gone = world.ground_truth(0)[SOURCE]["records"] - truth["records"]
    assert gone == {c.case_code for c in world.court_dishonest if c.epoch_removed == 1}


def test_the_terms_argument_searches_only_those_names(world: World, tmp_path: Path) -> None:
    with granted(world) as replica:
        manifest = crawl(replica, tmp_path / "run", spider_args={"terms": "服务部"})
    assert manifest.complete, manifest.incomplete_reasons
    assert replica.hits[f"/{zxgk.HOST}/gkw/sx/captchaNew"] == 1  # one term, one slider
    wanted = {c.case_code for c in zxgk.records_at(world, 0) if "服务部" in c.subject.name}
    assert wanted
    got = {r["natural_key"] for r in rows(RunFolder(tmp_path / "run"))}
    assert got == wanted - set(world.ground_truth(0)[SOURCE]["quarantined"])


# -- the slider captcha and the 瑞数 firewall ----------------------------------------------------------------
def test_plain_http_is_refused_412_at_the_first_api_call(world: World, tmp_path: Path) -> None:
    with Replica(world, Faults.none()) as replica:  # no browser session: the page's script is never run
        manifest = crawl(replica, tmp_path / "run")
    assert manifest.items == 0
    assert_incomplete_because(manifest, "HTTP 412 firewall challenge (瑞数)")
    assert all("/gkw/sx/captchaNew" in r for r in manifest.incomplete_reasons)


def test_without_a_solver_a_slider_ends_the_source_incomplete_naming_the_command(world: World, tmp_path: Path) -> None:
    with granted(world) as replica:
        manifest = crawl(replica, tmp_path / "run", solver="none")
    assert manifest.items == 0
    assert_incomplete_because(manifest, "A slider cannot be typed; it needs a person in a browser session: run "
                                        "`creditwatch run --browser --source court_dishonest`")


def test_the_prompt_solver_refuses_a_slider_and_says_why(world: World, tmp_path: Path) -> None:
    with granted(world) as replica:
        manifest = crawl(replica, tmp_path / "run", solver="prompt")
    assert manifest.items == 0
    assert_incomplete_because(manifest, "the prompt solver is a person at a terminal, with no browser to drag it in")


def test_the_replica_hook_stands_in_for_the_person(world: World) -> None:
    with granted(world) as replica:
        site = Site(replica)
        site.get("/gkw/html/shixin/index.html")
        challenge = json.loads(site.get(f"/gkw/sx/captchaNew?captchaId={'a' * 32}&random=0.5"))
        passed = asyncio.run(ReplicaHookSolver(replica.base_url).pass_slider(CaptchaChallenge(
            SOURCE, b"", 0, "a" * 32, "captchaNew", kind=SLIDER)))
        assert captcha_type(challenge) == "SLIDER" and passed.session_id == "a" * 32
        answer = json.loads(site.post("/gkw/sx/searchSX", pName="公司", pCardNum="", pProvince="",
                                      pCode=passed.code, captchaId=passed.session_id, currentPage="1"))
        wrong = json.loads(site.post("/gkw/sx/searchSX", pName="公司", pCardNum="", pProvince="", pCode="guess",
                                     captchaId=passed.session_id, currentPage="1"))
    assert answer[0]["totalSize"] == sum("公司" in c.subject.name for c in zxgk.records_at(world, 0))
    assert refused(wrong)


@pytest.mark.timeout(180)
def test_a_person_passing_the_slider_in_the_page_gives_the_spider_its_pass(world: World,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Real Chromium on the replica's search page, no browser-session grant: the page's own script sets the 瑞数
    cookie pair, so its search() passes the firewall. The test plays the person (and the Tianai widget, which the
    replica does not serve): it fills pName, puts the pass the hook gives into the form and presses 查询. The
    solver waits in that page and the spider's `passed_in_page` reads the pass from the page's searchSX call."""
    from playwright.async_api import async_playwright

    terminal = io.StringIO()
    monkeypatch.setattr(handoff, "_terminal", lambda: contextlib.nullcontext(terminal))
    monkeypatch.setenv("DISPLAY", ":99")  # checked, not used: the browser below is headless

    async def person(page: Any, base_url: str) -> None:
        await page.wait_for_timeout(300)  # the solver is waiting by now
        captcha_id = "b" * 32
        await page.evaluate("u => fetch(u)", f"../../sx/captchaNew?captchaId={captcha_id}&random=0.1")
        hook = await page.context.request.get(f"{base_url}/__replica__/captcha?sid={captcha_id}")
        await page.fill("#pName", "公司")
        await page.eval_on_selector("#pCode", "(e, v) => e.value = v", (await hook.json())["answer"])
        await page.eval_on_selector("#captchaId", "(e, v) => e.value = v", captcha_id)
        async with page.expect_response(lambda r: r.url.endswith("/gkw/sx/searchSX")) as searched:
            await page.click("text=查询")
        answers.append(await (await searched.value).json())

    async def run(replica: Replica) -> SliderPass:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                                       args=["--no-sandbox"])
            page = await browser.new_page()
            await page.goto(f"{replica.site_url(zxgk.HOST)}/gkw/html/shixin/index.html")
            challenge = CaptchaChallenge(SOURCE, b"{}", 0, "c" * 32, page.url, kind=SLIDER, page=page,
                                         passed=passed_in_page)
            passed, _ = await asyncio.gather(BrowserPersonSolver(wait_seconds=60).pass_slider(challenge),
                                             person(page, replica.base_url))
            await browser.close()
            return passed

    answers: list[Any] = []
    assert Path("/usr/bin/chromium").exists(), "Debian's chromium is needed (apt-get install chromium)"
    with Replica(world, Faults.none()) as replica:
        passed = asyncio.run(run(replica))
        assert replica.sessions["b" * 32].captcha == passed.code
    assert passed.session_id == "b" * 32
    assert answers[0][0]["totalSize"] > 0  # the page's own search got through the firewall and the captcha
    assert "drag the slider" in terminal.getvalue()


@pytest.mark.timeout(300)
def test_a_browser_session_crawl_equals_the_ground_truth(world: World, tmp_path: Path) -> None:
    """Every request through Chromium (scrapy-playwright): the search page stays open for a person, the hook
    stands in for them, and the page is closed at the end."""
    assert Path("/usr/bin/chromium").exists(), "Debian's chromium is needed (apt-get install chromium)"
    with granted(world) as replica:
        manifest = crawl(replica, tmp_path / "run", browser=True, timeout=300)
    assert manifest.complete, manifest.incomplete_reasons
    assert manifest.browser_session is True
    assert_matches_truth(RunFolder(tmp_path / "run"), world.ground_truth(0)[SOURCE])


def test_a_session_that_never_loaded_the_page_gets_412_even_in_a_browser_session(world: World) -> None:
    with granted(world) as replica:
        site = Site(replica)
        for path in ("/gkw/sx/getUnitList", f"/gkw/sx/captchaNew?captchaId={'d' * 32}&random=0.2"):
            with pytest.raises(urllib.error.HTTPError) as blocked:
                site.get(path)
            assert blocked.value.code == 412 and b"$_ts" in blocked.value.read()
        site.get("/shixin/")  # §7.5 probe: /shixin/ is the same page
        assert json.loads(site.get("/gkw/sx/getUnitList"))["data"]


def test_the_cookie_the_pages_script_computes_is_what_the_firewall_wants(world: World) -> None:
    with Replica(world, Faults.none()) as replica:  # not granted: only the computed token opens the APIs
        site = Site(replica)
        page = site.get("/gkw/html/shixin/index.html").decode()
        server = next(c.value for c in site.jar if c.name == zxgk.SERVER_COOKIE)
        assert f'$_ts.cd="{server}"' in page and zxgk.TOKEN_COOKIE in page
        with pytest.raises(urllib.error.HTTPError) as blocked:
            site.get("/gkw/sx/getPersonList")
        assert blocked.value.code == 412
        site.cookie(zxgk.TOKEN_COOKIE, zxgk.script_token(server))
        listed = json.loads(site.get("/gkw/sx/getPersonList"))
    assert listed["data"] and set(listed["data"][0]) == {"iname", "cardNum", "caseCode", "id"}


# -- the replica answers wrong requests as the site does ---------------------------------------------------
class Site:
    """A plain HTTP session (its own cookie jar) on the replica's zxgk."""

    def __init__(self, replica: Replica) -> None:
        self.base = replica.site_url(zxgk.HOST)
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def get(self, path: str) -> bytes:
        with self.opener.open(f"{self.base}{path}", timeout=10) as answer:
            return answer.read()

    def post(self, path: str, **form: str) -> bytes:
        with self.opener.open(f"{self.base}{path}", urlencode(form).encode(), timeout=10) as answer:
            return answer.read()

    def cookie(self, name: str, value: str) -> None:
        self.jar.set_cookie(http.cookiejar.Cookie(0, name, value, None, False, "127.0.0.1", False, False, "/", True,
                                                  False, None, True, None, None, {}))

    def status(self, path: str, **form: str) -> int:
        try:
            (self.post(path, **form) if form else self.get(path))
        except urllib.error.HTTPError as error:
            return error.code
        return 200


def test_the_old_2023_requests_fail(world: World) -> None:
    """What the previous spider sent (§4.1 `.do` paths) gets 404 now, even from a session past the firewall."""
    with granted(world) as replica:
        site = Site(replica)
        site.get("/gkw/html/shixin/index.html")
        captcha_id = "e" * 32
        assert site.status(f"/shixin/captchaNew.do?captchaId={captcha_id}&random=0.3") == 404
        assert site.status(f"/shixin/checkyzm.do?captchaId={captcha_id}&pCode=AB12") == 404
        assert site.status("/shixin/searchSX.do", pName="公司", pCardNum="", pProvince="0", pCode="AB12",
                           captchaId=captcha_id, currentPage="1", pageSize="10") == 404
        assert site.status(f"/shixin/disDetailNew?id=1&caseCode=x&pCode=AB12&captchaId={captcha_id}") == 404


def test_wrong_methods_and_missing_parameters_get_the_sites_answers(world: World) -> None:
    with granted(world) as replica:
        site = Site(replica)
        site.get("/gkw/html/shixin/index.html")
        assert site.status("/gkw/sx/searchSX") == 405  # a GET
        assert site.status("/gkw/sx/captchaNew?random=0.1") == 400  # no captchaId
        assert refused(json.loads(site.post("/gkw/sx/searchSX", pName="公司", currentPage="1")))  # no pass
        assert refused(json.loads(site.post("/gkw/sx/disDetailNew", id="1", caseCode="x", pCode="guess",
                                            captchaId="f" * 32)))


def test_a_detail_link_of_the_page_needs_no_pass_and_the_scroll_lists_search_nothing(world: World) -> None:
    """§7.5 probe ②: the page's own links call disDetailNew with pCode= and captchaId= empty; getPersonList and
    getUnitList ignore any name: the same recent rows, no total, no paging (why the spider cannot use them)."""
    case = next(c for c in zxgk.records_at(world, 0) if not c.subject.person_id)
    with granted(world) as replica:
        site = Site(replica)
        site.get("/gkw/html/shixin/index.html")
        query = urlencode({"id": zxgk.record_id(case.case_code), "caseCode": case.case_code, "pCode": "",
                           "captchaId": ""})
        detail = json.loads(site.get(f"/gkw/sx/disDetailNew?{query}"))
        units = json.loads(site.get("/gkw/sx/getUnitList"))
        named = json.loads(site.get("/gkw/sx/getUnitList?pName=" + urllib.request.quote(case.subject.name)))
    assert detail["caseCode"] == case.case_code
    assert units == named and set(units) == {"data"}


def test_the_live_site_is_https() -> None:
    assert sources()[SOURCE].live_base_url == LIVE  # §7.5: http:// redirects to https


# -- offline: saved answers -------------------------------------------------------------------------------
def spider(solver: str = "none", **kwargs: Any) -> CourtDishonestSpider:
    crawler = get_crawler(CourtDishonestSpider, {"CREDITWATCH_CAPTCHA_SOLVER": solver})
    return CourtDishonestSpider.from_crawler(crawler, **kwargs)


def answer(name: str, url: str, meta: dict[str, Any], status: int = 200) -> TextResponse:
    kind = HtmlResponse if name.endswith(".html") else TextResponse
    return kind(url, status=status, body=(FIXTURES / name).read_bytes(), encoding="utf-8",
                request=Request(url, meta=meta))


async def collect(results: Any) -> list[Any]:
    return [r async for r in results]


LIST_META = {"term": "公司", "captcha_id": "c" * 32, "code": "0123456789abcdef", "tries": 1}


def test_the_search_page_starts_one_captcha_per_term_and_a_challenge_page_is_blocked() -> None:
    s = spider(terms="公司,服务部")
    out = asyncio.run(collect(s.parse_index(answer("index.html", f"{LIVE}/gkw/html/shixin/index.html", {}))))
    assert [r.meta["term"] for r in out] == ["公司", "服务部"]
    assert all("/gkw/sx/captchaNew?captchaId=" in r.url and len(r.meta["captcha_id"]) == 32 for r in out)
    blocked = spider()
    page = answer("firewall_412.html", f"{LIVE}/gkw/html/shixin/index.html", {})
    assert asyncio.run(collect(blocked.parse_index(page))) == []
    assert any("blocked" in r and "瑞数" in r for r in blocked.incomplete_reasons)


@pytest.mark.parametrize("fixture", ["captcha_slider.json", "captcha_slider_envelope.json"])
def test_a_tianai_slider_goes_to_the_solver_and_its_pass_searches(fixture: str) -> None:
    s = spider()
    handed: list[CaptchaChallenge] = []

    class Person:
        async def pass_slider(self, challenge: CaptchaChallenge) -> SliderPass:
            handed.append(challenge)
            return SliderPass("p" * 32, "passcode")

    s.solver = Person()  # type: ignore[assignment]
    meta = {"term": "公司", "captcha_id": "c" * 32, "tries": 1, "page": 1}
    (search,) = asyncio.run(collect(s.parse_captcha(answer(fixture, f"{LIVE}/gkw/sx/captchaNew", meta))))
    assert handed[0].kind == SLIDER and handed[0].session_id == "c" * 32 and handed[0].passed is passed_in_page
    assert search.method == "POST" and search.url == f"{LIVE}/gkw/sx/searchSX"
    form = dict(p.split("=", 1) for p in search.body.decode().split("&"))
    assert set(form) == {"pName", "pCardNum", "pProvince", "pCode", "captchaId", "currentPage"}  # §7.5 #myform
    assert form["pCode"] == "passcode" and form["captchaId"] == "p" * 32 and form["currentPage"] == "1"


def test_an_image_or_an_unknown_challenge_is_layout_drift() -> None:
    s = spider()
    meta = {"term": "公司", "captcha_id": "c" * 32, "tries": 1, "page": 1}
    url = f"{LIVE}/gkw/sx/captchaNew"
    image = TextResponse(url, body=b"\x89PNG\r\n\x1a\n", request=Request(url, meta=meta))
    drifted = TextResponse(url, body=b'{"idV2": "x", "captchaV2": {}}', request=Request(url, meta=meta))
    assert asyncio.run(collect(s.parse_captcha(image))) == []
    assert asyncio.run(collect(s.parse_captcha(drifted))) == []
    reasons = " | ".join(s.incomplete_reasons)
    assert "captchaNew answered an image" in reasons and "missing captcha.type" in reasons


def test_a_list_page_asks_each_new_case_once_and_pages_on() -> None:
    page2 = json.loads((FIXTURES / "search_page2.json").read_text("utf-8"))[0]
    repeated, new = page2["result"]
    s = spider()
    s.seen_ids["公司"] = {"1", "2", "3", "4", str(repeated["id"])}  # page 1's five rows; page 2 repeats the last
    s.expect("公司", page2["totalSize"])
    out = list(s.parse_list(answer("search_page2.json", f"{LIVE}/gkw/sx/searchSX", {**LIST_META, "page": 2})))
    details = [r for r in out if r.callback == s.parse_detail]
    assert [r.meta["case"] for r in details] == [new["caseCode"]]
    assert details[0].method == "POST" and details[0].url == f"{LIVE}/gkw/sx/disDetailNew"
    assert f"captchaId={'c' * 32}" in details[0].body.decode() and "pCode=0123456789abcdef" in details[0].body.decode()
    assert s.received["公司"] == 1
    assert [r for r in out if r.callback == s.parse_list] == []  # all 6 seen: no page past the last


def test_an_expired_pass_while_paging_asks_a_new_slider_then_the_same_page() -> None:
    s = spider()
    url = f"{LIVE}/gkw/sx/searchSX"
    (again,) = list(s.parse_list(answer("refused.json", url, {**LIST_META, "page": 2})))
    assert again.callback == s.parse_captcha and again.meta["page"] == 2 and again.meta["tries"] == 2
    assert list(s.parse_list(answer("refused.json", url, {**LIST_META, "tries": MAX_CAPTCHA_TRIES, "page": 2}))) == []
    assert any("refused 3 times" in r for r in s.incomplete_reasons)


def test_a_failed_slider_request_is_asked_again_under_a_new_captcha_id() -> None:
    """A captchaNew we gave up on may still be answered by the site later, binding a new challenge to its id: the
    retry never reuses the id (which the pass we then get would be bound to)."""
    s = spider()
    row = {"id": 7, "caseCode": "(2025)京0105执1006号"}
    first = s.captcha_request("公司", tries=2, page=3, detail=row)
    assert first.meta["dont_retry"]  # not Scrapy's retry: that sends the same URL, the same captchaId
    failure = Failure(DownloadTimeout())
    failure.request = first
    (again,) = list(s.on_captcha_error(failure))
    assert again.callback == s.parse_captcha and again.meta["captcha_id"] != first.meta["captcha_id"]
    assert f"captchaId={again.meta['captcha_id']}" in again.url
    assert (again.meta["term"], again.meta["tries"], again.meta["page"], again.meta["detail"]) == ("公司", 2, 3, row)
    assert s.incomplete_reasons == []
    last = s.captcha_request("公司", tries=1, fetches=s.crawler.settings.getint("RETRY_TIMES") + 1)
    failure.request = last
    assert list(s.on_captcha_error(failure)) == []
    assert any("page failed after retries" in r and "captchaNew" in r for r in s.incomplete_reasons)


def test_a_slider_the_site_binds_after_the_crawler_gave_up_never_voids_the_pass(world: World, tmp_path: Path) -> None:
    """The first captchaNew outlives the download timeout; the site binds it while answering the first search (as
    a slow server still finishes a request whose client left). No call is then refused for a stale pass."""
    path = f"/{zxgk.HOST}/gkw/sx"
    late: list[Any] = []  # the request the crawler gave up on
    refusals: list[str] = []
    with granted(world) as replica:
        captcha, search, detail = (replica.routes[(m, f"{path}/{name}")]
                                   for m, name in (("GET", "captchaNew"), ("POST", "searchSX"),
                                                   ("POST", "disDetailNew")))

        def first_captcha_outlives_the_timeout(rep: Replica, request: Any) -> Any:
            if not late:
                late.append(request)
                time.sleep(REPLICA["DOWNLOAD_TIMEOUT"] + 0.5)
                return None  # the crawler has gone: nothing to answer
            return captcha(rep, request)

        def counting(handler: Any, bind_late: bool) -> Any:
            def route(rep: Replica, request: Any) -> Any:
                answer = handler(rep, request)
                if bind_late and late and len(late) == 1:
                    late.append(captcha(rep, late[0]))  # the site gets round to the timed-out request now
                if refused(json.loads(answer.body)):
                    refusals.append(request.path)
                return answer
            return route

        replica.routes[("GET", f"{path}/captchaNew")] = first_captcha_outlives_the_timeout
        replica.routes[("POST", f"{path}/searchSX")] = counting(search, bind_late=True)
        replica.routes[("POST", f"{path}/disDetailNew")] = counting(detail, bind_late=False)
        manifest = crawl(replica, tmp_path / "run", spider_args={"terms": "公司"})
    assert manifest.complete, manifest.incomplete_reasons
    assert len(late) == 2  # the first slider timed out, and the site bound it late
    assert refusals == []
    wanted = {c.case_code for c in zxgk.records_at(world, 0) if "公司" in c.subject.name}
    got = {r["natural_key"] for r in rows(RunFolder(tmp_path / "run"))}
    assert got == wanted - set(world.ground_truth(0)[SOURCE]["quarantined"])


def test_an_expired_pass_while_reading_a_case_asks_a_new_slider_then_the_same_case() -> None:
    """A polite live crawl outlives a pass (≈5 min): the case is read again after a new slider."""
    s = spider()
    url = f"{LIVE}/gkw/sx/disDetailNew"
    row = {"id": 7, "caseCode": "(2025)京0105执1006号"}
    meta = {"term": "公司", "case": row["caseCode"], "id": "7", "row": row, "tries": 1}
    (again,) = list(s.parse_detail(answer("refused.json", url, meta)))
    assert again.callback == s.parse_captcha and again.meta["detail"] == row and again.meta["tries"] == 2
    assert s.incomplete_reasons == []
    assert list(s.parse_detail(answer("refused.json", url, {**meta, "tries": MAX_CAPTCHA_TRIES}))) == []
    assert any("captcha expired while reading" in r for r in s.incomplete_reasons)


def test_a_person_detail_keeps_the_number_for_the_masking_pipeline() -> None:
    (item,) = spider().parse_detail(answer("detail_person.json", f"{LIVE}/gkw/sx/disDetailNew", {"case": "x"}))
    detail = json.loads((FIXTURES / "detail_person.json").read_text("utf-8"))
    assert item.natural_key == detail["caseCode"]
    assert item.fields["subject_id_number"] == detail["cardNum"] and "****" in detail["cardNum"]
    assert item.fields["subject_uscc"] is None
    assert item.fields["published_on"] == detail["publishDate"]
    assert PERSONAL_ID in item.fields["duty"]  # the pipeline masks it (test_no_id_number_leaves_the_archive_unmasked)
    assert item.url == f"{LIVE}/gkw/sx/disDetailNew?" + urlencode(
        {"id": detail["id"], "caseCode": detail["caseCode"], "pCode": "", "captchaId": ""})  # the page's own link


def test_a_company_detail_carries_its_code() -> None:
    (item,) = spider().parse_detail(answer("detail_company.json", f"{LIVE}/gkw/sx/disDetailNew", {"case": "x"}))
    detail = json.loads((FIXTURES / "detail_company.json").read_text("utf-8"))
    assert item.fields["subject_uscc"] == detail["cardNum"] and item.fields["subject_id_number"] is None
    assert item.fields["legal_rep"] == detail["businessEntity"]


def test_a_detail_without_its_keys_is_layout_drift() -> None:
    s = spider()
    url = f"{LIVE}/gkw/sx/disDetailNew"
    drifted = TextResponse(url, body=b'{"inameV2": "x"}', encoding="utf-8", request=Request(url, meta={"case": "x"}))
    assert list(s.parse_detail(drifted)) == []
    assert any("layout changed" in r and "caseCode" in r for r in s.incomplete_reasons)


def test_split_card_num() -> None:
    assert split_card_num("3728271963****8934", {}) == (None, "3728271963****8934")
    assert split_card_num("91110000MKMGX7XMHH", {}) == ("91110000MKMGX7XMHH", None)
    assert split_card_num("12345678-9", {"sexy": "男性"}) == (None, "12345678-9")
    assert split_card_num("", {}) == (None, None)


def test_refused_recognises_the_captcha_answer_only() -> None:
    assert refused(json.loads((FIXTURES / "refused.json").read_text("utf-8")))
    assert not refused([{"result": [], "totalSize": 0, "totalPage": 0}])
    assert not refused({"message": "系统繁忙"})


def test_captcha_type_reads_both_tianai_shapes_only() -> None:
    for name in ("captcha_slider.json", "captcha_slider_envelope.json"):
        assert captcha_type(json.loads((FIXTURES / name).read_text("utf-8"))) == "SLIDER"
    assert captcha_type({"result": []}) is None and captcha_type([]) is None
