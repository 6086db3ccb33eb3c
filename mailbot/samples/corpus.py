"""A realistic week of mail to the bureau mailbox: the demo's inbox and the end-to-end tests' input.

Each sample says what mailbot must answer, so the demo table and the tests check the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass

from mailbot.domain.units import Unit
from mailbot.samples.archives import build_7z, build_rar, build_zip
from mailbot.samples.docx import build_docx
from mailbot.samples.mail import build_mail
from mailbot.samples.photos import make_photo

STORIES: dict[str, tuple[str, list[str]]] = {
    "drill": (
        "盘山县应急管理局组织开展危险化学品泄漏事故应急演练",
        [
            "为进一步提高企业应对突发事故的处置能力，检验应急预案的可操作性，6月19日，盘山县应急管理局在辽河油田某联合站组织开展危险化学品泄漏事故应急处置演练。",
            "演练模拟储罐区阀门发生泄漏并引发火情，企业应急救援队伍第一时间启动应急预案，迅速完成警戒疏散、泄漏堵漏、火灾扑救和伤员救治等科目。县消防救援大队、卫生健康部门协同参演，各环节衔接紧密、处置有序。",
            "演练结束后，县应急管理局相关负责同志对演练进行了点评，指出了存在的不足，要求企业进一步完善预案、加强培训，切实提升防范化解重大安全风险的能力。",
        ],
    ),
    "flood": (
        "大洼区扎实做好汛前检查确保安全度汛",
        [
            "入汛以来，大洼区应急管理局坚持“人民至上、生命至上”，提前谋划部署防汛各项工作，组织水利、农业农村、住建等部门成立联合检查组，对全区重点河道、涵闸泵站、在建工地和低洼易涝区进行拉网式排查。",
            "检查中，检查组详细查看了防汛物资储备、抢险队伍建设和值班值守情况，对发现的12处隐患当场下达整改通知，明确整改时限和责任人，确保隐患在主汛期前全部整改到位。",
            "下一步，大洼区将持续加强监测预警和会商研判，严格落实24小时领导带班和专人值班制度，全力保障人民群众生命财产安全。",
        ],
    ),
    "training": (
        "市应急局举办安全生产执法业务培训班",
        [
            "为提升全市应急管理系统执法人员业务能力，6月25日至26日，市应急管理局举办2025年安全生产执法业务培训班，各县区应急管理局、经济区应急管理部及局执法队共80余人参加培训。",
            "培训邀请省应急管理厅专家围绕《安全生产法》新修订内容、执法文书制作规范、典型案例分析等进行授课，并组织学员开展现场模拟执法和闭卷测试。",
            "参训人员纷纷表示，通过培训进一步明确了执法程序、提高了执法水平，将把所学知识运用到日常执法检查中，推动安全生产形势持续稳定向好。",
        ],
    ),
    "fire": (
        "市消防救援支队开展“119”消防宣传进社区活动",
        [
            "11月9日，市消防救援支队联合兴隆台区应急管理局在兴隆台街道开展“119”消防宣传进社区活动，通过发放宣传资料、现场演示灭火器使用、播放警示教育片等形式，向居民普及家庭防火和逃生自救知识。",
            "活动现场，消防员针对电动自行车违规充电、楼道堆放杂物等常见火灾隐患进行了重点讲解，并手把手指导居民正确使用灭火器和灭火毯。",
            "此次活动共发放宣传资料1200余份，接受群众咨询300余人次，进一步增强了社区居民的消防安全意识和自防自救能力。",
        ],
    ),
}

RESEARCH_TITLE = "关于我市危险化学品企业安全生产标准化建设情况的调研报告"
RESEARCH_SECTIONS = [
    "为全面掌握我市危险化学品企业安全生产标准化建设情况，推动企业落实安全生产主体责任，市应急管理局成立调研组，于今年5月至6月采取实地查看、座谈交流、查阅资料等方式，对全市42家危险化学品生产经营企业开展了专题调研。现将有关情况报告如下。",
    "一、基本情况。全市现有危险化学品生产企业31家、带储存设施经营企业11家，其中取得安全生产标准化二级以上证书的企业23家，三级企业19家。各企业普遍建立了以主要负责人为第一责任人的安全生产责任体系，制定了较为完善的安全管理制度和操作规程，重大危险源全部纳入在线监测预警系统，双重预防机制建设稳步推进。",
    "二、主要做法。一是强化组织推动。市应急管理局将标准化建设纳入年度重点工作，制定专项实施方案，明确时间表和路线图，定期召开推进会，通报工作进展。二是坚持分类指导。针对不同规模、不同工艺企业的特点，组织专家开展“一企一策”帮扶指导，帮助企业查找短板、完善措施。三是突出示范引领。选树5家标准化建设示范企业，组织全市企业开展现场观摩交流，以点带面推动整体提升。四是严格考核评审。对已达标企业实行动态管理，对复审不合格或发生事故的企业依法撤销其等级证书。",
    "三、存在的问题。一是部分企业重证书轻运行，存在“两张皮”现象，标准化管理要求与日常生产经营结合不紧密，制度文件照搬照抄，针对性和可操作性不强。二是部分中小企业安全投入不足，专业技术人员匮乏，自动化控制系统改造滞后，本质安全水平有待提高。三是第三方评审服务机构质量参差不齐，个别机构评审把关不严，评审报告与企业实际情况不符。四是基层监管力量相对薄弱，专业监管人员占比偏低，对标准化运行情况的日常监督检查覆盖面不足。",
    "四、对策建议。一是压实企业主体责任，督促企业主要负责人亲自抓标准化建设，将标准化要求融入生产经营全过程，推动标准化由“创建达标”向“持续运行”转变。二是加大政策支持力度，对标准化建设成效突出的企业在安全生产责任保险费率、评先评优等方面给予倾斜，引导企业加大安全投入，加快自动化改造和智能化升级。三是加强评审机构监管，建立评审机构信用评价和退出机制，定期对评审报告进行抽查复核，对弄虚作假的机构依法严肃处理。四是充实基层监管力量，通过公开招录、购买服务、专家指导等方式，提升监管队伍专业化水平，实现对标准化运行情况的常态化监督。",
    "五、下一步工作打算。市应急管理局将以此次调研为契机，深入开展危险化学品安全风险集中治理，持续推进安全生产标准化建设提质增效。重点抓好以下几项工作：一是年内完成全部危险化学品生产企业标准化复审工作，确保等级证书与企业实际安全管理水平相符；二是组织开展标准化运行质量专项检查，对运行不到位的企业责令限期整改，整改不到位的依法降级或撤销证书；三是建立标准化建设长效机制，将标准化运行情况纳入企业安全生产信用评价体系，形成激励约束并重的工作格局；四是加强宣传培训，组织企业主要负责人、安全管理人员开展标准化专题培训，进一步提高企业全员参与标准化建设的积极性和主动性。",
    "通过此次调研，调研组认为，我市危险化学品企业安全生产标准化建设总体呈现稳中向好的态势，但与上级要求和人民群众期盼相比仍有差距。各级各部门要进一步提高思想认识，坚持问题导向和目标导向，以更加务实的作风、更加有力的举措推动标准化建设走深走实，为全市安全生产形势持续稳定向好提供坚实保障。同时，要注重总结推广基层好的经验做法，加强部门协同联动，形成齐抓共管的工作合力，切实把安全生产标准化建设成果转化为防范化解重大安全风险的实际成效。",
    "此外，调研组还就企业安全生产标准化建设中的信息化支撑问题进行了专门了解。目前，全市已有17家企业建成安全生产信息化管理平台，实现了隐患排查治理、特殊作业审批、人员定位等功能的线上运行，有效提高了安全管理效率。下一步，将积极推动更多企业建设应用安全生产信息化平台，并逐步实现与市级危险化学品安全生产风险监测预警系统的互联互通，推动安全监管由事后处置向事前预防转变，为全市应急管理体系和能力现代化建设贡献力量。",
    "在调研过程中，调研组还注意到，企业从业人员安全素质是决定标准化建设成效的关键因素。部分企业一线操作人员流动性大，新入职员工安全培训流于形式，对岗位风险和应急处置措施掌握不够；个别企业特殊作业管理不规范，动火、受限空间等作业票证审批把关不严，作业现场监护人员履职不到位。针对这些问题，调研组建议将从业人员安全培训纳入标准化评审的重要内容，推行“师带徒”岗位练兵和实操考核，督促企业严格落实特殊作业安全规范，切实把安全要求落实到每一个岗位、每一名员工。",
    "同时，调研组对企业应急管理能力建设情况进行了检查。总体看，各企业均编制了生产安全事故应急预案并按规定备案，配备了必要的应急救援器材和物资，多数企业每年至少组织一次综合应急演练。但也存在预案针对性不强、演练脚本化、应急物资维护保养不及时等问题。建议进一步加强企业应急预案管理，推动预案简明化、卡片化，常态化开展无脚本应急演练，提升企业第一时间科学有效处置突发事件的能力。",
]


@dataclass(frozen=True)
class Sample:
    label: str
    raw: bytes
    verdict: str  # receipt | rejection | duplicate | held | ignored
    codes: tuple[str, ...] = ()  # check codes the reply must name (rejections)


def _footer(unit: str, drafter: str, first: str = "李建国", second: str = "王志刚") -> list[str]:
    return [f"撰稿人：{unit}{drafter}", f"初审人：{first}    复审人：{second}"]


def _photos(seed: int, count: int = 3) -> list[tuple[str, bytes]]:
    return [(f"现场照片{i + 1}.jpg", make_photo(1280, 960, seed=seed + i)) for i in range(count)]


def week_of_mail(units: tuple[Unit, ...]) -> list[Sample]:
    """At least one case of each check and of each kind of mail that is not answered; senders are the
    first liaisons of the registry."""
    senders = [u.liaisons[0].email for u in units if u.liaisons]
    if len(senders) < 4:
        raise ValueError("the sample week needs at least four units with liaisons in the config")
    a, b, c, d = senders[:4]
    ua, ub = units[0].name, units[1].name
    title, body = STORIES["drill"]
    drill_docx = build_docx(title, body, _footer(f"{ua}（办公室）", "张三"))
    drill_zip = build_zip([(f"{title}.docx", drill_docx), *_photos(1)])
    samples = [
        Sample(
            "GBK 压缩包，稿件+3张照片", build_mail(a, f"报送信息：{title}", [("信息报送.zip", drill_zip)]), "receipt"
        ),
    ]
    t, body = STORIES["flood"]
    two = build_docx(
        t, body, [f"撰稿人：{ub}（防汛办）赵六、{ua}（办公室）钱七", "初审人：孙八", "复审人：李九"], footer_in="table"
    )
    samples.append(
        Sample(
            "7z，两位撰稿人，落款在表格中",
            build_mail(b, t, [("汛前检查.7z", build_7z([(f"{t}.docx", two), *_photos(10, 2)]))], style="outlook"),
            "receipt",
        )
    )
    t, body = STORIES["training"]
    bare = build_docx(t, body, _footer(f"{units[2].name}", "周 敏"), images=[make_photo(1024, 768, seed=20)])
    samples.append(
        Sample("直接附 .docx，照片嵌在文中", build_mail(c, t, [(f"{t}.docx", bare)], style="webmail"), "receipt")
    )
    t, body = STORIES["fire"]
    rar = build_rar([(f"{t}.docx", build_docx(t, body, _footer(units[3].name, "吴刚"))), *_photos(30, 2)])
    samples.append(Sample("rar 压缩包", build_mail(d, t, [("消防宣传.rar", rar)]), "receipt"))
    research = build_docx(RESEARCH_TITLE, RESEARCH_SECTIONS, _footer(f"{ub}", "郑文"), footer_in="textbox")
    samples.append(
        Sample(
            "【调研】2000字以上，落款在文本框中",
            build_mail(
                b,
                f"【调研】{RESEARCH_TITLE}",
                [("调研报告.zip", build_zip([(f"{RESEARCH_TITLE}.docx", research)], names="unicode-extra"))],
            ),
            "receipt",
        )
    )
    t, body = STORIES["flood"]
    short = build_docx("关于汛期安全生产工作的调研", body, _footer(ub, "郑文"))
    samples.append(
        Sample(
            "【调研】不足2000字",
            build_mail(b, "【调研】关于汛期安全生产工作的调研", [("调研.zip", build_zip([("调研.docx", short)]))]),
            "rejection",
            ("research_too_short",),
        )
    )
    no_second = build_docx("双台子区开展燃气安全专项检查", STORIES["fire"][1], [f"撰稿人：{ua}张三", "初审人：李四"])
    samples.append(
        Sample(
            "缺复审人",
            build_mail(
                a, "燃气安全专项检查", [("燃气.zip", build_zip([("燃气安全检查.docx", no_second), *_photos(40, 1)]))]
            ),
            "rejection",
            ("missing_second_reviewer",),
        )
    )
    template = build_docx(
        ["市应急局参加XXX企业突发事故", "应急处置演练(示例"],
        STORIES["drill"][1],
        ["撰稿人:XX单位(科室)XXX", "初审人:XXX    复审人:XXX"],
        notes=["注：请各单位、各科室将照片及稿件压缩到一个压缩包后发至邮箱"],
    )
    samples.append(
        Sample(
            "模板占位符未替换",
            build_mail(c, "信息报送", [("报送.zip", build_zip([("示例.docx", template), *_photos(50, 1)]))]),
            "rejection",
            ("placeholder_left",),
        )
    )
    t, body = STORIES["training"]
    samples.append(
        Sample(
            "新闻稿没有照片",
            build_mail(
                d, t, [("培训.zip", build_zip([(f"{t}.docx", build_docx(t, body, _footer(units[3].name, "吴刚")))]))]
            ),
            "rejection",
            ("missing_photos",),
        )
    )
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4096
    samples.append(
        Sample(
            "旧版 .doc 稿件",
            build_mail(a, "防汛信息", [("防汛.zip", build_zip([("防汛信息.doc", ole), *_photos(60, 1)]))]),
            "rejection",
            ("legacy_document",),
        )
    )
    samples.append(
        Sample(
            "加密压缩包",
            build_mail(
                b,
                "执法检查信息",
                [("执法.7z", build_7z([("执法检查.docx", drill_docx)], password="1234", encrypt_headers=True))],
            ),
            "rejection",
            ("archive_encrypted",),
        )
    )
    samples.append(
        Sample(
            "损坏的压缩包",
            build_mail(c, "培训信息", [("培训.zip", drill_zip[: len(drill_zip) // 2])]),
            "rejection",
            ("archive_corrupt",),
        )
    )
    samples.append(
        Sample("没有附件", build_mail(d, "本周信息", [], body="稿件见附件。"), "rejection", ("no_attachment",))
    )
    samples.append(
        Sample(
            "重复报送（同一稿件再发一次）",
            build_mail(
                a, f"重发：{title}", [("信息报送（重发）.zip", build_zip([(f"{title}.docx", drill_docx), *_photos(1)]))]
            ),
            "duplicate",
        )
    )
    samples.append(Sample("未登记的发件人", build_mail("someone@example.org", title, [("x.zip", drill_zip)]), "held"))
    samples.append(
        Sample(
            "自动回复",
            build_mail(
                c, "自动回复: 本周信息", [], body="您好，我正在休假。", headers=[("Auto-Submitted", "auto-replied")]
            ),
            "ignored",
        )
    )
    samples.append(
        Sample(
            "退信",
            build_mail(
                "MAILER-DAEMON@mx.example.com",
                "Undelivered Mail Returned to Sender",
                [],
                body="This is the mail system.",
            ),
            "ignored",
        )
    )
    return samples
