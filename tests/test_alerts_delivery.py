"""Alerts, delivered (issue 16): real SMTP (aiosmtpd), a local HTTP receiver standing in for the WeCom,
DingTalk and Feishu bots and a JSON webhook (the payloads Apprise sends, checked against the platforms'
documented shapes), the outbox (exactly once, retried when the receiver is down), and SIGKILL between
sending and recording."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from apprise.plugins.dingtalk import NotifyDingTalk
from apprise.plugins.feishu import NotifyFeishu
from apprise.plugins.wecombot import NotifyWeComBot
from typer.testing import CliRunner

from flows.alerts import RunFailure, list_outbox, resolve_url, run_alerts, scrub, send_test
from flows.alerts_receiver import Receiver
from flows.cli import app
from tests.alerts_history import (
    WEEK2_EVENTS,
    apply,
    copy_warehouse,
    record_payment,
    removal_dates,
    rid,
    write_runs,
)
from tests.test_crash_safety import wait_for_pause
from transforms.alerts.config import Channel
from transforms.alerts.events import event_key
from warehouse.db import connect

REPO = Path(__file__).resolve().parents[1]
CHANNELS = ("json", "mail", "wecom", "dingtalk", "feishu", "ops")
# Week 2's events about licensed operators (all_licensed): every one but 星辰物业's (no licence) and the
# operations event.
LICENSED = {pair for pair in WEEK2_EVENTS
            if pair not in {("record_new", rid("creditchina_penalties", "P-member")),
                            ("source_incomplete", "court_dishonest")}}

CONFIG = """
channels:
  json: "json://127.0.0.1:${RECV_PORT}/hook"
  mail: "mailto://127.0.0.1:${SMTP_PORT}?from=alerts@example.com&to=compliance@example.com"
  wecom: "wecombot://${WECOM_KEY}"
  dingtalk: "dingtalk://${DT_SECRET}@${DT_TOKEN}/"
  feishu: "feishu://${FEISHU_TOKEN}"
  ops: "json://127.0.0.1:${RECV_PORT}/ops"
watchlists:
  - all_licensed: true
    channels: [%s]
operations:
  channels: [ops]
"""


def config_for(folder: Path, *channels: str) -> Path:
    path = folder / "alerts.yaml"
    path.write_text(CONFIG % ", ".join(channels), "utf-8")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def baselined(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Week 1 loaded and every test channel evaluated once (its baseline), then week 2 loaded."""
    root = tmp_path_factory.mktemp("delivery")
    r1, r2 = write_runs(root / "runs")
    warehouse = root / "wh" / "creditwatch.duckdb"
    apply(warehouse, r1)
    result = run_alerts(warehouse, config_for(root, *CHANNELS))
    assert {c.channel: c.baseline for c in result.channels} == dict.fromkeys(CHANNELS, 0)
    record_payment(warehouse, root)
    apply(warehouse, r2)
    return warehouse


@pytest.fixture
def warehouse(baselined: Path, tmp_path: Path) -> Path:
    return copy_warehouse(baselined, tmp_path / "data")


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch):
    """The receiver, and the three bots' endpoints pointed at it (Apprise hard-codes their hosts)."""
    with Receiver() as server:
        monkeypatch.setenv("RECV_PORT", str(server.port))
        monkeypatch.setattr(NotifyWeComBot, "notify_url", server.url + "/cgi-bin/webhook/send?key={key}")
        monkeypatch.setattr(NotifyDingTalk, "notify_url", server.url + "/robot/send?access_token={token}")
        monkeypatch.setattr(NotifyFeishu, "notify_url", server.url + "/open-apis/bot/v2/hook/{token}/")
        monkeypatch.setenv("WECOM_KEY", "wecom-k3y")
        monkeypatch.setenv("DT_TOKEN", "dt0token")
        monkeypatch.setenv("DT_SECRET", "SEC0secret")
        monkeypatch.setenv("FEISHU_TOKEN", "fs-t0ken")
        yield server


def keys_in(text: str) -> list[str]:
    return [line.removeprefix("事件编号：") for line in text.splitlines() if line.startswith("事件编号：")]


def outbox(warehouse: Path) -> dict[tuple[str, str], tuple[str, int]]:
    con = connect(warehouse, read_only=True)
    try:
        return {(k, c): (s, a) for k, c, s, a in con.execute(
            "SELECT event_key, channel, status, attempts FROM ops.alert_outbox").fetchall()}
    finally:
        con.close()


def expected_keys(warehouse: Path) -> set[str]:
    """Week 2's events about licensed operators, by key (computed independently of the outbox)."""
    from transforms.alerts.events import compute_events

    con = connect(warehouse, read_only=True)
    try:
        events = compute_events(con, licence_expiry_days=90, max_age_days=14)
    finally:
        con.close()
    keys = {e.key for e in events if (e.kind, e.subject) in LICENSED}
    assert len(keys) == len(LICENSED) == 7
    return keys


# ------------------------------------------------------------------------------------- JSON and e-mail


def test_week_two_reaches_the_json_webhook_once_and_a_rerun_sends_nothing(warehouse: Path, receiver,
                                                                           tmp_path: Path) -> None:
    config = config_for(tmp_path, "json")
    expected = expected_keys(warehouse)
    result = run_alerts(warehouse, config, run_id="r2")
    by_path = {}
    for message in receiver.received:
        by_path.setdefault(message.path, []).append(message)
    [hook] = by_path["/hook"]
    # Apprise's JSON webhook payload (its documented shape): version, title, message, attachments, type.
    assert set(hook.body) == {"version", "title", "message", "attachments", "type"}
    assert hook.body["version"] == "1.0" and hook.body["attachments"] == []
    assert hook.body["type"] == "failure"  # the digest holds a critical event (a new 两单 entry)
    assert hook.headers["content-type"] == "application/json"
    assert hook.body["title"].startswith("creditwatch 信用提醒｜全部持证经营者｜") and "共 7 条" in hook.body["title"]
    assert sorted(keys_in(hook.body["message"])) == sorted(expected)
    assert hook.body["message"].index("列入名单") < hook.body["message"].index("记录撤下")  # critical first
    [ops] = by_path["/ops"]
    assert keys_in(ops.body["message"]) == [event_key("source_incomplete", "court_dishonest", "r1")]
    assert {c.channel: (c.queued, c.sent, c.pending) for c in result.channels} == {"json": (7, 7, 0),
                                                                                   "ops": (1, 1, 0)}
    assert all(v == ("sent", 1) for v in outbox(warehouse).values())

    again = run_alerts(warehouse, config)
    assert len(receiver.received) == 2  # nothing sent twice
    assert {c.channel: (c.queued, c.sent) for c in again.channels} == {"json": (0, 0), "ops": (0, 0)}


def test_a_failed_run_reaches_the_operator(warehouse: Path, receiver, tmp_path: Path) -> None:
    run_alerts(warehouse, config_for(tmp_path, "json"), run_id="r3",
               failures=[RunFailure("crawl", "crawl process exited -9", "gsxt_records"),
                         RunFailure("load-and-transform", "data tests failed")])
    [ops] = [m for m in receiver.received if m.path == "/ops"]
    text = ops.body["message"]
    assert "【紧急】运行失败" in text and "crawl（gsxt_records）：crawl process exited -9" in text
    assert "load-and-transform：data tests failed" in text and event_key("run_failed", "r3", "") in text


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def test_the_digest_email_reaches_a_real_smtp_server(warehouse: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    mailbox, port = Mailbox(), free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        monkeypatch.setenv("SMTP_PORT", str(port))
        monkeypatch.setenv("RECV_PORT", "9")  # the ops channel is not this test's business
        result = run_alerts(warehouse, config_for(tmp_path, "mail"))
    finally:
        controller.stop()
    assert {c.channel: c.sent for c in result.channels}["mail"] == 7
    [message] = mailbox.messages
    assert message["To"] == "compliance@example.com" and "alerts@example.com" in message["From"]
    assert message["Subject"].startswith("creditwatch 信用提醒｜全部持证经营者｜") and "共 7 条" in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert sorted(keys_in(body)) == sorted(expected_keys(warehouse))  # one entry per event, each once
    for label in ("企业：上海星辰网络科技有限公司", "记录类型：电信业务经营不良名单", "决定机关：北京市通信管理局",
                  "日期：2026-10-01", "处罚内容摘要：罚款人民币5000元",
                  f"可移除日期：{removal_dates(warehouse, 'P-paid')[0]} 起可申请信用修复"):
        assert label in body


# --------------------------------------------------------------------------------------------- bots


def test_the_bots_get_their_documented_payloads_split_between_records(warehouse: Path, receiver,
                                                                      tmp_path: Path) -> None:
    result = run_alerts(warehouse, config_for(tmp_path, "wecom", "dingtalk", "feishu"))
    assert {c.channel: (c.sent, c.pending) for c in result.channels if c.channel != "ops"} == {
        "wecom": (7, 0), "dingtalk": (7, 0), "feishu": (7, 0)}
    expected = sorted(expected_keys(warehouse))
    wecom = [m for m in receiver.received if m.path == "/cgi-bin/webhook/send"]
    dingtalk = [m for m in receiver.received if m.path == "/robot/send"]
    feishu = [m for m in receiver.received if m.path.startswith("/open-apis/bot/v2/hook/")]

    # 企业微信: {"msgtype": "text", "text": {"content": …}}, key in the query, content ≤ 2048 UTF-8 bytes.
    assert len(wecom) > 1  # seven entries do not fit 2048 bytes: split …
    for part, message in enumerate(wecom, start=1):
        assert message.query == {"key": ["wecom-k3y"]}
        assert set(message.body) == {"msgtype", "text"} and message.body["msgtype"] == "text"
        content = message.body["text"]["content"]
        assert len(content.encode("utf-8")) <= 2048
        assert content.startswith("creditwatch 信用提醒｜全部持证经营者｜")
        assert f"（第 {part}/{len(wecom)} 段）" in content
        for key in keys_in(content):  # … between entries: each entry whole, from its header to its key
            entry = content.split(f"事件编号：{key}")[0].rsplit("\n\n", 1)[-1]
            assert entry.startswith("【") and "企业：" in entry
    assert sorted(k for m in wecom for k in keys_in(m.body["text"]["content"])) == expected

    # 钉钉: {"msgtype": "text", "text": {"content": …}, "at": {…}}, signed (timestamp, sign) with the secret.
    [ding] = dingtalk
    assert set(ding.body) == {"msgtype", "text", "at"} and ding.body["msgtype"] == "text"
    assert ding.body["at"] == {"atMobiles": [], "isAtAll": False}
    assert ding.query["access_token"] == ["dt0token"]
    timestamp, sign = ding.query["timestamp"][0], ding.query["sign"][0]
    digest = base64.b64encode(hmac.new(b"SEC0secret", f"{timestamp}\nSEC0secret".encode(), hashlib.sha256).digest())
    # DingTalk documents sign = urlEncode(Base64(HmacSHA256)) in the query. Apprise 1.13 quotes it and then
    # lets requests encode it again, so after the server's one decoding it is still quoted — which DingTalk
    # may refuse ("sign not match"). This pins that behaviour; the README advises keyword security instead.
    assert sign == quote(digest.decode(), safe="")  # the receiver decoded the query once, as a server does
    assert len(json.dumps(ding.body)) <= 20000
    assert sorted(keys_in(ding.body["text"]["content"])) == expected

    # 飞书: {"msg_type": "text", "content": {"text": …}}, the token in the path.
    [fs] = feishu
    assert fs.path == "/open-apis/bot/v2/hook/fs-t0ken/"
    assert set(fs.body) == {"msg_type", "content"} and fs.body["msg_type"] == "text"
    assert sorted(keys_in(fs.body["content"]["text"])) == expected


# --------------------------------------------------------------------------------------------- outbox


def test_receiver_down_leaves_events_pending_and_the_next_run_sends_them(warehouse: Path, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens here yet
    monkeypatch.setenv("RECV_PORT", str(port))
    config = config_for(tmp_path, "json")
    down = run_alerts(warehouse, config)
    assert {c.channel: (c.sent, c.pending) for c in down.channels} == {"json": (0, 7), "ops": (0, 1)}
    pending = list_outbox(warehouse, pending_only=True)
    assert len(pending) == 8 and all(r.attempts == 1 and "Connection error" in r.error for r in pending)

    cli = subprocess.run([sys.executable, "-m", "flows.cli", "--warehouse", str(warehouse), "alerts", "list",
                          "--pending"], capture_output=True, text=True, timeout=120, check=False,
                         env={**os.environ, "COLUMNS": "250"})
    assert cli.returncode == 0, cli.stderr
    assert "8 rows" in cli.stdout and "Connection error" in cli.stdout

    with Receiver(port) as receiver:
        up = run_alerts(warehouse, config)
    assert {c.channel: (c.queued, c.sent, c.pending) for c in up.channels} == {"json": (0, 7, 0), "ops": (0, 1, 0)}
    assert sorted(k for m in receiver.received for k in keys_in(m.body["message"])) == sorted(
        {k for k, _ in outbox(warehouse)})
    assert list_outbox(warehouse, pending_only=True) == []
    assert {v for v in outbox(warehouse).values()} == {("sent", 2)}


def test_a_missing_secret_keeps_events_pending_and_says_which(warehouse: Path, receiver, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WECOM_KEY")
    result = run_alerts(warehouse, config_for(tmp_path, "wecom"))
    [wecom] = [c for c in result.channels if c.channel == "wecom"]
    assert wecom.sent == 0 and wecom.pending == 7
    assert wecom.errors == ["channel wecom (alerts.yaml line 5): environment variable WECOM_KEY is not set"]
    assert {r.error for r in list_outbox(warehouse, pending_only=True, channel="wecom")} == {wecom.errors[0]}
    monkeypatch.setenv("WECOM_KEY", "wecom-k3y")
    assert {c.channel: c.sent for c in run_alerts(warehouse, config_for(tmp_path, "wecom")).channels}["wecom"] == 7


def test_secrets_are_filled_encoded_and_scrubbed() -> None:
    channel = Channel("mail", "mailtos://alerts:${SMTP_PASSWORD}@smtp.example.com?to=a@example.com", 3)
    url, secrets = resolve_url(channel, env={"SMTP_PASSWORD": "p@ss/w:rd"})
    assert url == "mailtos://alerts:p%40ss%2Fw%3Ard@smtp.example.com?to=a@example.com"
    assert scrub(f"login failed for {url} (p@ss/w:rd)", secrets) == (
        "login failed for mailtos://alerts:***@smtp.example.com?to=a@example.com (***)")


def test_alerts_test_sends_a_sample_to_one_channel(receiver, tmp_path: Path) -> None:
    message = send_test(config_for(tmp_path, "json"), "wecom")
    [got] = receiver.received
    assert got.path == "/cgi-bin/webhook/send" and got.body["text"]["content"] == message.body
    assert "【提示】测试消息" in message.body and "企业：（测试）示例科技有限公司" in message.body


# ---------------------------------------------------------------------------------------------- crash

SENDER = """
import sys
from apprise.plugins.wecombot import NotifyWeComBot
NotifyWeComBot.notify_url = sys.argv[3] + "/cgi-bin/webhook/send?key={key}"
from flows.alerts import run_alerts
result = run_alerts(sys.argv[1], sys.argv[2])
print("SENT", sum(c.sent for c in result.channels), flush=True)
"""


def test_sigkill_between_sending_and_recording_resends_at_most_once_with_the_same_keys(
        warehouse: Path, receiver, tmp_path: Path) -> None:
    config = config_for(tmp_path, "wecom")
    args = [sys.executable, "-c", SENDER, str(warehouse), str(config), receiver.url]
    env = {**os.environ, "WECOM_KEY": "wecom-k3y", "RECV_PORT": str(receiver.port)}
    proc = subprocess.Popen(args, cwd=REPO, env={**env, "CREDITWATCH_PAUSE_AT": "alerts.after_send"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert wait_for_pause(proc) == "PAUSED AT alerts.after_send"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    [first] = receiver.received  # the first message went out; the kill came before it was recorded
    sent_before_kill = keys_in(first.body["text"]["content"])
    assert sent_before_kill and all(s == "pending" for s, _ in outbox(warehouse).values())

    restart = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert restart.returncode == 0, restart.stderr[-3000:]
    wecom = [m for m in receiver.received if m.path == "/cgi-bin/webhook/send"]
    counts: dict[str, int] = {}
    for message in wecom:
        for key in keys_in(message.body["text"]["content"]):
            counts[key] = counts.get(key, 0) + 1
    assert set(counts) == expected_keys(warehouse)  # everything arrived
    assert {k for k, n in counts.items() if n == 2} == set(sent_before_kill)  # the one duplicate: same keys
    assert max(counts.values()) == 2
    assert {v for (k, c), v in outbox(warehouse).items() if c == "wecom" and k in sent_before_kill} == {("sent", 2)}

    third = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert "SENT 0" in third.stdout and len([m for m in receiver.received if m.path == "/cgi-bin/webhook/send"]) \
        == len(wecom)


# --------------------------------------------------------------------------------------- Prefect Secret

SECRET_SCRIPT = """
import sys
from pathlib import Path
from flows import prefect_env
prefect_env.configure(Path(sys.argv[1]))
from prefect.blocks.system import Secret
Secret(value="k3y-from-prefect").save("wecom-key", overwrite=True)
from flows.alerts import ChannelSecretError, resolve_url
from transforms.alerts.config import Channel
print("URL", resolve_url(Channel("wecom", "wecombot://${secret:wecom-key}", 4))[0])
try:
    resolve_url(Channel("wecom", "wecombot://${secret:no-such-block}", 4))
except ChannelSecretError as error:
    print("ERROR", error)
"""


def test_a_channel_secret_from_a_prefect_secret_block(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.pop("PREFECT_HOME", None)
    done = subprocess.run([sys.executable, "-c", SECRET_SCRIPT, str(tmp_path)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "URL wecombot://k3y-from-prefect" in done.stdout
    assert "ERROR channel wecom (alerts.yaml line 4): no Prefect Secret block 'no-such-block'" in done.stdout


# ------------------------------------------------------------------------------------------------ CLI


def cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "flows.cli", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False, env={**os.environ, "COLUMNS": "250", **env})


def test_the_cli_previews_checks_and_names_what_is_missing(warehouse: Path, receiver, tmp_path: Path) -> None:
    config = str(config_for(tmp_path, "json"))
    env = {"RECV_PORT": str(receiver.port)}
    dry = cli("--warehouse", str(warehouse), "alerts", "send", "--dry-run", "--config", config, env=env)
    assert dry.returncode == 0, dry.stderr
    assert sorted(keys_in(dry.stdout)) == sorted(expected_keys(warehouse) | {
        event_key("source_incomplete", "court_dishonest", "r1")})
    assert "── json ──" in dry.stdout and "── ops ──" in dry.stdout and "运行监控" in dry.stdout
    assert receiver.received == [] and outbox(warehouse) == {}  # nothing sent, nothing recorded

    check = cli("alerts", "check", "--config", config, env={"RECV_PORT": ""})
    assert check.returncode == 1 and "${RECV_PORT}" in check.stdout and "NOT SET" in check.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("watchlists:\n  - all_licensed: true\n    channels: [nowhere]\n", "utf-8")
    refused = cli("alerts", "check", "--config", str(bad), env={})
    assert refused.returncode == 1
    assert "line 3: watchlists[0].channels[0]: no channel 'nowhere'" in refused.stderr.replace("\n", "")
    for command in ("list", "send", "test", "check"):
        shown = CliRunner().invoke(app, ["alerts", command, "--help"])
        assert shown.exit_code == 0 and "Usage" in shown.output
