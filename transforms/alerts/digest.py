"""The digest (提醒摘要): all of a channel's new events in one message, in Chinese, split to the platform's
size limit between events — never inside one.

Each entry: 企业, 当事人 (if a branch), 记录类型, 文书号/名单, 决定机关, 日期, 处罚内容摘要, 可移除日期,
说明, the registry link and the event key (事件编号: the same key on a resent message says it is one).

Limits, measured the way each platform counts:
- 企业微信 group bot (wecombot): text.content at most 2048 bytes of UTF-8 (developer.work.weixin.qq.com
  document 91770, "文本内容，最长不超过2048个字节");
- 钉钉 custom robot (dingtalk): the request body at most 20000 bytes (its error "body 大小不合法 … 请保持
  大小在 20000bytes 以内"); Apprise sends JSON with \\u escapes, so the escaped body is measured;
- 飞书 custom bot (feishu / lark): the request body at most 20 KB, measured the same way;
- every other service: Apprise's own limit for it (body_maxlen, in characters).
The bots show no title, so there the header goes into the body and is counted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from transforms.alerts.events import Event, event_key, load_kinds
from transforms.alerts.labels import record_type_label

SEVERITY_ZH = {"critical": "紧急", "warning": "重要", "info": "提示"}
REFERENCE_LABEL = {"record": "文书号/名单", "licence": "许可证编号", "operator": "对象", "operations": "对象"}
DATE_LABEL = {"record": "日期", "licence": "到期日期", "operator": "日期", "operations": "日期"}
AUTHORITY_LABEL = {"record": "决定机关", "licence": "发证机关", "operator": "决定机关", "operations": "决定机关"}
TEXT_CHARS = 120  # 处罚内容摘要 and 说明 are abbreviated to this many characters (a digest, not the record)
FOOTER = "以上信息来自公开信用登记平台，由 creditwatch 自动整理；请以登记平台公示为准。"


class DigestError(ValueError):
    """An event that does not fit the platform's limit even alone and abbreviated."""


@dataclass(frozen=True)
class Limit:
    maximum: int
    unit: str  # chars | utf8_bytes | json_bytes
    basis: str

    def size(self, text: str) -> int:
        if self.unit == "utf8_bytes":
            return len(text.encode("utf-8"))
        if self.unit == "json_bytes":
            return len(json.dumps(text))  # ASCII-escaped, as Apprise serialises the payload
        return len(text)


# Below the platforms' figures by a margin for the rest of the JSON payload.
PLATFORM_LIMITS = {
    "wecombot": Limit(2048, "utf8_bytes", "企业微信群机器人 text.content ≤ 2048 bytes"),
    "dingtalk": Limit(19500, "json_bytes", "钉钉自定义机器人 request body ≤ 20000 bytes"),
    "feishu": Limit(19500, "json_bytes", "飞书自定义机器人 request body ≤ 20 KB"),
    "lark": Limit(19500, "json_bytes", "Lark custom bot request body ≤ 20 KB"),
}


def channel_limit(scheme: str, service_maxlen: int) -> Limit:
    """The platform's limit, or Apprise's limit (characters) for services without one here."""
    return PLATFORM_LIMITS.get(scheme.lower(), Limit(service_maxlen, "chars", "Apprise's body_maxlen"))


@dataclass(frozen=True)
class Message:
    """One message of a digest and the events it carries."""

    title: str
    body: str
    event_keys: tuple[str, ...]


def _short(text: str | None, chars: int) -> str | None:
    if text is None:
        return None
    text = " ".join(str(text).split())
    if len(text) <= chars:
        return text
    return text[: max(chars - 1, 0)] + "…" if chars > 0 else None


def removable_text(event: Event) -> str | None:
    """可移除日期: when early removal may be applied for, and when display stops by itself."""
    parts = []
    if event.early_removal_from:
        parts.append(f"{event.early_removal_from.isoformat()} 起可申请信用修复")
    if event.auto_removal_on:
        parts.append(f"{event.auto_removal_on.isoformat()} 到期停止公示")
    return "；".join(parts) or None


def format_entry(event: Event, kind_labels: dict[str, str], text_chars: int = TEXT_CHARS) -> str:
    """One event as the digest shows it, a line per field that applies."""
    lines = [f"【{SEVERITY_ZH.get(event.severity, event.severity)}】{kind_labels.get(event.kind, event.kind)}"]
    fields: list[tuple[str, object]] = [
        ("企业", event.company),
        ("当事人", event.party),
        ("记录类型", record_type_label(event.record_type) or None),
        (REFERENCE_LABEL.get(event.scope, "对象"), event.reference),
        (AUTHORITY_LABEL.get(event.scope, "决定机关"), event.authority),
        (DATE_LABEL.get(event.scope, "日期"), event.event_on.isoformat() if event.event_on else None),
        ("处罚内容摘要", _short(event.summary, text_chars)),
        ("可移除日期", removable_text(event) if event.scope == "record" else None),
        ("说明", _short(event.detail, text_chars)),
        ("链接", event.url),
        ("事件编号", event.key),
    ]
    lines += [f"{label}：{value}" for label, value in fields if value not in (None, "")]
    return "\n".join(lines)


def digest_title(scope: str, day: date, total: int, part: int, parts: int) -> str:
    numbered = f"（第 {part}/{parts} 段）" if parts > 1 else ""
    return f"creditwatch 信用提醒｜{scope}｜{day.isoformat()}｜共 {total} 条{numbered}"


def _render(title: str, entries: list[str], title_in_body: bool) -> str:
    return "\n\n".join(([title] if title_in_body else []) + entries + [FOOTER])


def build_digest(events: list[Event], scope: str, day: date, limit: Limit, title_in_body: bool,
                 kind_labels: dict[str, str] | None = None) -> list[Message]:
    """The messages for `events`, in order, each within `limit`; every event in exactly one message.

    An event too long for the limit is abbreviated (its summary and detail shortened); DigestError if it
    still does not fit alone.
    """
    if not events:
        return []
    labels = kind_labels if kind_labels is not None else {k.kind: k.label_zh for k in load_kinds().values()}
    total = len(events)
    # Packed against the widest header this digest can have, so numbering the parts never overflows.
    widest = digest_title(scope, day, total, total, total)

    def fits(entries: list[str]) -> bool:
        return limit.size(_render(widest, entries, title_in_body)) <= limit.maximum

    def fitted(event: Event) -> str:
        for chars in (TEXT_CHARS, 60, 30, 10, 0):
            entry = format_entry(event, labels, chars)
            if fits([entry]):
                return entry
        raise DigestError(f"event {event.key} ({event.kind}, {event.company}) does not fit {limit.basis} "
                          f"({limit.maximum} {limit.unit}) even abbreviated")

    parts: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    for event in events:
        entry = fitted(event)
        if current and not fits([e for _, e in current] + [entry]):
            parts.append(current)
            current = []
        current.append((event.key, entry))
    parts.append(current)
    messages = []
    for number, part in enumerate(parts, start=1):
        title = digest_title(scope, day, total, number, len(parts))
        messages.append(Message(title, _render(title, [e for _, e in part], title_in_body),
                                tuple(k for k, _ in part)))
    return messages


TEST_KIND_LABEL = "测试消息"


def sample_event(now: datetime | None = None) -> Event:
    """The event `creditwatch alerts test` sends: plainly a test, with every field a real one has."""
    now = now or datetime.now(UTC).replace(tzinfo=None)
    return Event(key=event_key("test", "sample", now.isoformat()), kind="test", severity="info", scope="record",
                 subject="sample", occurred_at=now, company="（测试）示例科技有限公司", record_type="penalty",
                 reference="（测试）京通管罚〔2026〕1号", authority="北京市通信管理局", event_on=now.date(),
                 summary="（测试）罚款人民币5000元", url="https://www.creditchina.gov.cn/",
                 detail="这是一条测试消息：渠道配置正确。")
