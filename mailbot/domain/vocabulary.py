"""The words the desk stores in its tables: one StrEnum per idea, so a typo is a NameError, not a silent miss.

The values are the strings already in the database (StrEnum members compare equal to them), so
rows written before these names existed read back unchanged.
"""

from __future__ import annotations

from enum import StrEnum


class Verdict(StrEnum):
    """What happened to a message (`Message.verdict`); each verdict gets at most one reply."""

    RECEIPT = "receipt"  # accepted and recorded as an item
    REJECTION = "rejection"  # problems found: the liaison is told what to fix
    DUPLICATE = "duplicate"  # the same manuscript was recorded before
    HELD = "held"  # kept for a person in the office, no reply to the sender
    IGNORED = "ignored"  # must never be answered (auto-replies, bounces, ourselves)
    SEEN_BEFORE = "seen_before"  # the same bytes were given a verdict already
    COMMAND = "command"  # an office command, carried out
    COMMAND_FAILED = "command_failed"  # an office command that could not be carried out
    CORRECTION = "correction"  # a corrected re-send replaced its item: answered, not counted again
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # an office command waiting for its one-time code
    INCIDENT = "incident"  # an urgent incident report (or an answer to the duty office), answered at once


# The verdicts a liaison's submission can get: what counts as "received" in digests.
SUBMISSION_VERDICTS = (Verdict.RECEIPT, Verdict.REJECTION, Verdict.DUPLICATE)
# A message with one of these verdicts was fully handled: the same bytes again are not answered twice.
FINAL_VERDICTS = (*SUBMISSION_VERDICTS, Verdict.CORRECTION, Verdict.IGNORED, Verdict.SEEN_BEFORE, Verdict.INCIDENT)


class MessageState(StrEnum):
    """Where a message is in the one-way flow (`Message.state`): stored -> recorded -> filed."""

    STORED = "stored"  # raw bytes on disk, no verdict yet
    RECORDED = "recorded"  # verdict, item and reply committed together
    FILED = "filed"  # moved to its folder in the mailbox


class ItemKind(StrEnum):
    """The three kinds of information, each scored differently (`Item.kind`)."""

    ROUTINE = "routine"  # 常规信息
    RESEARCH = "research"  # 调研类信息
    EXPERIENCE = "experience"  # 经验类信息


KIND_LABELS: dict[str, str] = {
    ItemKind.ROUTINE: "常规信息",
    ItemKind.RESEARCH: "调研类信息",
    ItemKind.EXPERIENCE: "经验类信息",
}


# What `mailbot show` calls the files kept from a message (`StoredFile.kind`).
FILE_LABELS: dict[str, str] = {
    "archive": "压缩包",
    "manuscript": "稿件",
    "legacy": "旧版 Word 文档",
    "photo": "照片",
    "other": "其他文件",
}


class ItemStatus(StrEnum):
    """终审 of an item (`Item.status`, and `Review.decision` for the last two)."""

    RECEIVED = "received"
    APPROVED = "approved"
    RETURNED = "returned"  # earns nothing, adoptions included


class Level(StrEnum):
    """Who adopted (采用) an item (`Adoption.level`)."""

    CITY = "city"
    PROVINCE = "province"
    NATIONAL = "national"


class OutboxState(StrEnum):
    """`Outbox.state`: a row is sent once, or fails for good after its attempts."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxKind(StrEnum):
    """`Outbox.kind`: what the outgoing mail is (digests add their period kind: `digest_weekly`...)."""

    RECEIPT = "receipt"
    REJECTION = "rejection"
    DUPLICATE = "duplicate"
    COMMAND = "command"
    CONFIRMATION = "confirmation"  # the one-time code of an office command, sent to the admin
    NOTICE_ADOPTED = "notice_adopted"
    NOTICE_RETURNED = "notice_returned"
    HELD_NOTICE = "held_notice"
    DELIVERY_FAILED = "delivery_failed"
    REMINDER = "reminder"
    DIGEST = "digest"  # prefix only
    JOB_FAILED = "job_failed"  # a scheduled report could not be built
    STORAGE_FULL = "storage_full"


# Mail to the office about the office's own mail: never reported as undeliverable, it would only fail again.
OFFICE_KINDS = (
    OutboxKind.DIGEST,
    OutboxKind.DELIVERY_FAILED,
    OutboxKind.HELD_NOTICE,
    OutboxKind.JOB_FAILED,
    OutboxKind.STORAGE_FULL,
)


class Held(StrEnum):
    """Why a message was held for the office instead of answered (its `Message.reasons`)."""

    UNKNOWN_SENDER = "unknown_sender"
    RATE_LIMITED = "rate_limited"
    REPLY_TO_NOTICE = "reply_to_notice"
    COMMAND_REFUSED = "command_refused"
    UNAUTHENTICATED = "unauthenticated"
    INTERNAL_ERROR = "internal_error"
    CORRECTION_OF_JUDGED = "correction_of_judged"  # a corrected re-send of an item adopted or approved
    ANALYSIS_FAILED = "analysis_failed"
    INCIDENT_UNLINKED = "incident_unlinked"


HELD_WHY: dict[str, str] = {
    Held.UNKNOWN_SENDER: "发件人不是已登记的信息宣传员",
    Held.RATE_LIMITED: "该发件人一小时内来信过多，暂停自动回复",
    Held.REPLY_TO_NOTICE: "发件人回复了系统发出的邮件（没有附件），可能有问题需要人工答复",
    Held.COMMAND_REFUSED: "发件人不在 [office] admins 名单中，却发送了办公室指令，已拒绝执行",
    Held.UNAUTHENTICATED: "收件服务器未能验证发件人身份（SPF/DKIM/DMARC 均未通过），可能是冒用他人邮箱",
    Held.INTERNAL_ERROR: "系统处理这封邮件时出错（详见日志），请人工查看原始邮件并答复发件人",
    Held.CORRECTION_OF_JUDGED: "发件人重新报送了一篇已采用或已终审通过的信息（修改稿），系统未自动替换",
    Held.ANALYSIS_FAILED: "附件解析两次超出内存或时间上限（可能是异常复杂或恶意构造的文件），"
    "已停止处理，请人工查看原始邮件并答复发件人",
    Held.INCIDENT_UNLINKED: "突发事件续报（终报）未注明事件编号，也不是对回执的回复，无法确定属于哪起事件",
}


# ---- Urgent incident reports (突发事件信息报告) ---------------------------------------------------------


class IncidentStage(StrEnum):
    """四(一): the key stages of an incident report (`IncidentReport.stage`)."""

    FIRST = "first"  # 首报: the first written report, numbered on arrival
    FOLLOW_UP = "follow_up"  # 续报: as things change
    FINAL = "final"  # 终报: closes the incident
    VERIFY = "verify"  # a written answer to the duty office's 核报 request
    FEEDBACK = "feedback"  # 批示落实: how a leader's instruction is being carried out


STAGE_NAMES: dict[str, str] = {
    IncidentStage.FIRST: "首报",
    IncidentStage.FOLLOW_UP: "续报",
    IncidentStage.FINAL: "终报",
    IncidentStage.VERIFY: "核报反馈",
    IncidentStage.FEEDBACK: "批示落实情况",
}


class DemandKind(StrEnum):
    """What the duty office asked of a unit against the clock (`IncidentDemand.kind`)."""

    VERIFY_PHONE = "verify_phone"  # 三(二) 核报, answered by phone within 20 minutes
    VERIFY_WRITTEN = "verify_written"  # 三(二) 核报, answered in writing within 40 minutes
    INSTRUCTION = "instruction"  # 三(三) 批示: 落实情况 the same day, 12 hours at the latest


DEMAND_NAMES: dict[str, str] = {
    DemandKind.VERIFY_PHONE: "核报（电话反馈）",
    DemandKind.VERIFY_WRITTEN: "核报（书面反馈）",
    DemandKind.INSTRUCTION: "批示落实情况反馈",
}


class IncidentMail(StrEnum):
    """`Outbox.kind` of the incident desk's mail."""

    RECEIPT = "incident_receipt"  # to the liaison: number and time received
    DUTY = "incident_duty"  # to the duty office: a report arrived, attached
    DEMAND = "incident_demand"  # to the unit: 核报 or 批示, with its deadline
    REMINDER = "incident_reminder"  # to the unit: no 终报 yet
    ALERT = "incident_alert"  # to the duty office: a deadline passed
    HELD = "incident_held"  # to the duty office: a 续报 that names no incident
