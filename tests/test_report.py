"""The HTML report: self-contained, registry text escaped, and every chart drawn in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_export import BAD, DISHONEST, NAMES, WEEK, con, snapshot  # noqa: F401  (fixtures)
from transforms.report import collect_report, hbar_svg, table_html, write_report

CHROMIUM = os.environ.get("CREDITWATCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Injected into a copy of the page only: after layout, count each chart's marks that have a real size.
PROBE = """<script>addEventListener('load', () => {
  for (const svg of document.querySelectorAll('svg.chart')) {
    const drawn = [...svg.querySelectorAll('.mark')].filter(el => {
      const box = el.getBBox(); return box.width > 0 && box.height > 0; }).length;
    const rect = svg.getBoundingClientRect();
    svg.setAttribute('data-drawn', String(drawn));
    svg.setAttribute('data-area', String(Math.round(rect.width * rect.height)));
  }
  document.body.setAttribute('data-probed', 'yes');
});</script>"""


def test_provinces_come_from_the_records(con) -> None:  # noqa: F811
    # 北京市通信管理局 → 北京 by its name; the '@SUM(1+1)' authority names none: the subject's USCC (11…) does.
    report = collect_report(con, WEEK)
    assert report.by_province == [("北京", 3, 1)]


def test_cloud_rating_section_shows_levels_and_reasons(con) -> None:  # noqa: F811
    report = collect_report(con, WEEK)
    assert report.cloud_levels == [("30", 2, 0), ("20", 2, 0)]
    below = {name: (level, reasons) for name, level, reasons, _ in report.cloud_below}
    assert below[NAMES[BAD]][0] == 20 and "京通管罚〔2026〕9号" in below[NAMES[BAD]][1]


def test_registry_text_is_escaped() -> None:
    hostile = "<script>alert(1)</script>&\"'"
    page = table_html(["h"], [(hostile,)]) + hbar_svg([(hostile, 3, 1)], hostile)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;&amp;&quot;&#x27;" in page


def test_report_counts_agree_with_the_export(con) -> None:  # noqa: F811
    report = collect_report(con, WEEK)
    figures = dict(report.headline)
    assert figures["在公示记录数"] == "3" and figures["失信类名单记录数"] == "1"
    assert dict((n, (t, d)) for n, t, d in report.top_operators) == {NAMES[BAD]: (2, 0), NAMES[DISHONEST]: (1, 1)}
    # waiting: the bad-list entry (conditions unmet); eligible: the paid fine; removed: last week's penalty.
    # The dishonest-list entry is barred from early removal, so in no stage.
    assert [n for _, n in report.pipeline] == [1, 1, 1]
    # 26 weeks back from 2026-11-23: both list entries (2026-10-01) count; the penalties (2025/2026-05) are older.
    assert {t: sum(s) for t, s in report.trend.items()} == {"telecom_bad_list": 1, "telecom_dishonest_list": 1}


def test_report_is_self_contained(con, tmp_path: Path) -> None:  # noqa: F811
    page = write_report(con, tmp_path / "report.html", WEEK).read_text("utf-8")
    # trend, open records by type, authority, province, operators, removal pipeline, annual reports, repair cases,
    # cloud rating
    assert page.count('<svg class="chart"') == 9
    assert not re.search(r"<script|<link|<img|@import|url\(|src=|href=", page, re.IGNORECASE)
    assert "'@SUM(1+1)" not in page and "@SUM(1+1)" in page  # HTML shows registry text as is (escaped)
    english = write_report(con, tmp_path / "en.html", WEEK, lang="en").read_text("utf-8")
    assert "Removal pipeline" in english and "Open records by province" in english
    assert "Cloud credit evaluation, dimension 1" in english


def test_every_chart_draws_in_headless_chromium(con, tmp_path: Path) -> None:  # noqa: F811
    # Not a skip: `make test` installs chromium (or stops naming the command); without it no check was made.
    assert Path(CHROMIUM).exists(), "chromium is not installed: run `make test`, or sudo apt-get install chromium"
    page = write_report(con, tmp_path / "report.html", WEEK).read_text("utf-8")
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("</body>", PROBE + "</body>"), "utf-8")
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1050,2400"]
    dom = subprocess.run([*base, "--virtual-time-budget=3000", "--dump-dom", probed.as_uri()],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    assert 'data-probed="yes"' in dom
    charts = re.findall(r'<svg class="chart"[^>]*>', dom)
    assert len(charts) == 9  # as in test_report_is_self_contained
    for tag in charts:
        label = re.search(r'aria-label="([^"]*)"', tag)[1]
        drawn = int(re.search(r'data-drawn="(\d+)"', tag)[1])
        area = int(re.search(r'data-area="(\d+)"', tag)[1])
        assert drawn > 0 and area > 10_000, f"chart {label!r} drew {drawn} marks over {area} px²"
    shot = tmp_path / "report.png"
    subprocess.run([*base, f"--screenshot={shot}", (tmp_path / "report.html").as_uri()],
                   capture_output=True, timeout=60, check=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


def test_bad_week_or_language(con, tmp_path: Path) -> None:  # noqa: F811
    with pytest.raises(ValueError, match="2026-W99"):
        write_report(con, tmp_path / "r.html", "2026-W99")
    with pytest.raises(ValueError, match="unknown report language 'fr'"):
        write_report(con, tmp_path / "r.html", WEEK, lang="fr")
