"""Intent recognition: what does the visitor want?

Command-like intents (stop, repeat, greeting, goto, where, tour) are short and
formulaic, so patterns decide them; everything else is a question for FAQ
retrieval. Patterns run on the normalised text (no ASR spaces, Arabic digits).

goto vs faq: "带我去遵义会议" has a movement verb aimed at a known exhibit;
"遵义会议有什么意义" names the same exhibit with no movement verb, so it is a
question. "遵义会议在哪里召开" asks where an event happened (history), not
where the exhibit stands: an event verb keeps it a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .chinese import PARTY_TERMS
from .commands import CommandMatcher
from .knowledge import KnowledgeBase
from .rerank import TypeReranker
from .retrieval import Candidate, FaqRanker, closest_exhibits, exhibit_mentions
from .textnorm import normalize

INTENTS = ("faq", "goto", "where", "tour", "stop", "repeat", "greeting", "goodbye", "ask_back", "unknown")

_POLITE = r"(请|麻烦|那|好|好的|好了|行了|嗯|可以|能不能|能|你|您|小党|机器人)*"
_STOP = re.compile(rf"^{_POLITE}(停|停下|停下来|停一下|停一停|停止|停止讲解|停止导览|暂停导览|暂停讲解|结束导览|结束讲解|"
                   r"先停下|先停一停|先别说了|先别讲了|别说了|不要说了|不用说了|别讲了|不要讲了|不用讲了|别再说了|别再讲了|"
                   r"闭嘴|安静|暂停|够了|行了|好了别说了|先停一下|取消|取消导览)+(吧|啦|了|一下)?$")
_REPEAT = re.compile(r"(再说一遍|再讲一遍|再说一次|再讲一次|重复一遍|重复一下|重复一次|没听清|没听见|没听到|刚才说什么|"
                     r"刚才说的什么|你说什么|说的什么|再来一遍)")
# The robot addressed by what it is ("机器人你好", "哈喽机器人") is greeted too.
_GREETING = re.compile(r"^(嗨|哈喽|hello|hi|你好|您好|早上好|上午好|中午好|下午好|晚上好|小党|大家好|嘿|小机器人|机器人)+"
                       r"(啊|呀|哇|哦)?$")
_GOODBYE = re.compile(r"^(好的|好|嗯)?(谢谢|谢谢你|谢谢您|多谢|再见|拜拜|没有了|没事了|不用了|没问题了)+(啊|了|呀|啦)?$")
# "导览先停下吧我们自己看看": stopping, whatever follows.
_STOP_INSIDE = re.compile(r"(先停|停停|停一停|停下来|停一下|暂停|先别讲了|先别说了|别讲了|别说了|不用讲了|不要讲了|不用说了|不要说了)")
# A need put as a statement ("你好我想交党费") is a question; "你好我们来参观了" is not.
_NEED = re.compile(r"想|要|能|可以|需要|请|帮")
_GREETING_PREFIX = re.compile(r"^(嗨|哈喽|你好|您好|早上好|下午好|晚上好|小党)+")
_PUNCT = re.compile(r"[\s，。！？,.!?、；;：:“”\"'（）()…]+")

_MOVE = re.compile(r"(带|领|陪|引)(我|我们|大家|咱们)?(去|到|过去|前往|参观|看)|(我|我们)?(想|要)(去|到)|(前往|走到|过去看)|"
                   r"(我|我们)(想|要)(看看|看一看|参观)|^去|(领|带)(个|一下)?路")
_TOUR = re.compile(r"(导览|游览|参观一圈|转一圈|逛一圈|转转|逛逛|全程讲解|开始讲解|开始参观|按顺序参观|整个展厅|全部展区|"
                   r"带(我|我们|大家)?参观(一下)?$|带(我|我们|大家)?(参观|看)(一下)?(吧)?$|"
                   # everything, start to end: "把展区都走一遍", "全部转一转"
                   r"(都|全部|整个|所有|从头到尾).{0,4}(看|走|转|逛|参观))")
_WHERE = re.compile(r"(在哪(?![一年天个月])|哪里|哪儿|什么地方|怎么走|怎么去|怎么过去|怎么到|哪个区|哪一区|哪块|哪一块|哪边|"
                    r"哪一边|哪一侧|哪一层|哪个地方|哪个位置|在这层|在这一层|在楼上|在楼下|在这边|在那边|在几楼|哪个展区|哪个厅|什么位置|位置)")
# Words that point at a thing in the hall ("石库门那个", "开国大典那部分展览").
_EXHIBIT_PLACE = re.compile(r"(展品|展区|展台|展位|展厅|展板|展项|展览|模型|那个|那块|那一块|那部分|这个|的展|墙)")
# History questions about where/when an event happened, not where its exhibit is.
_EVENT_VERB = re.compile(r"(召开|举行|举办|开的|发生|爆发|成立|建立|开始|结束|会师|胜利|出发|诞生|宣告)")
# "重要在哪里", "意义在哪儿": what makes it so, not where it stands.
_QUALITY_WHERE = re.compile(r"(重要|意义|特别|特点|不同|区别|伟大|了不起|关键|好)(在哪|体现在)|(体现|表现)在(哪|什么)")
# "帮我拍张照片", "替我叫辆车": asking the robot to do something it cannot
# (it only talks and guides), not a question about the hall; a request to tell
# or explain something ("帮我讲讲长征") is a question put politely.
_ACT_REQUEST = re.compile(r"^(请|麻烦)?(你|您)?(能|可以|能不能|可不可以)?(帮|替)(我们|我|大家)?")
_TELL = re.compile(r"^(讲|说|介绍|解释|念|读|背|查|看看|回答)")
# "能带我去……吗": a request put politely, not a question.
_POLITE_OPEN = re.compile(r"^(请|麻烦)?(你|您)?(能|可以|能不能|可不可以|能否)")
_POLITE_END = re.compile(r"(好吗|行吗|可以吗|吗)$")
_QUESTION_WORD = re.compile(r"(什么|为什么|怎么|如何|哪里|哪儿|哪|几|多少|多久|多长|多远|大概|哪些|意义|作用|吗|呢|谁|是不是|啥|干嘛|咋|"
                            r"有没有|要不要|能不能|可以)")
# "够不够", "开不开": a question asked by verb-not-verb, with no question word.
_A_NOT_A = re.compile(r"(.)不\1")
# What makes a request polite, not a question ("可以开始导览了", "能带我们逛一圈吗").
_POLITE_WORDS = re.compile(r"可以|可不可以|能不能|能否")
_AFFIRM = re.compile(r"^(是|是的|对|对的|对啊|没错|嗯|嗯嗯|好|好的|可以|行|要|需要|就是|就是这个|就这个|第一个也行)(啊|呀|吧|的)?$")
_DENY = re.compile(r"^(不是|不对|都不是|不|不要|不用|没有|错了|都不对)(的|啊|呀|了)?$")
_ORDINAL = re.compile(r"第?([一二三四五1-5两])个|^([一二三四五1-5两])$")
_ORDINALS = {"一": 1, "1": 1, "二": 2, "两": 2, "2": 2, "三": 3, "3": 3, "四": 4, "4": 4, "五": 5, "5": 5}
_LAST = re.compile(r"(最后一个|后面那个|后一个)")


# Abstract nouns that say nothing about the topic ("什么意思", "哪个城市",
# "什么材料"): never a sign that the question is about something else.
GENERIC_NOUNS = frozenset("意思 城市 人数 个人 集体 材料 制度 事情 起点 团队 地方 东西 问题 情况 内容 方式 时候 时间 原因 "
                          "多长 事儿 部分 方面 单位 人员 规定 要求 手续 过程 结果 目的 特点 名字 名称 日子 年代 规模 "
                          "数量 数字 地址 位置 办法 途径 渠道 资料 信息 故事 历史 朋友 孩子 家人 同事 联系 "
                          # who is visiting and from where: says who asks, not what about
                          "学校 学生 老师 同学 班级 公司 员工 职工 团体 家长 老人 小孩 外地 异地 本地 外国人".split())


_CONGRESS = re.compile(r"(中共|党的|共产党)[一二三四五六七八九十]{1,3}大(?![概约家门小多量片堆早学街楼会])")
# Latin words ("wifi", "app") the hall never uses: a thing it does not offer.
_LATIN = re.compile(r"[a-z]{2,}")

_PLACE_SUFFIX = frozenset("市店院场站馆楼园局所铺行厦")


# Canonical forms that say how something is asked, never what about, and
# words that point at the moment or the spot (现在, 这里) rather than a topic.
HOW_TO_ASK = frozenset("何时 哪里 怎么 多少 多久 多远 什么 为什么 几点 哪个 哪些 是否 介绍 内容 意义 怎么样 可以 能够 如何 "
                       "现在 目前 如今 今天 这里 这儿 那里 那儿 一般 大概 一共 总共".split())


@dataclass(frozen=True)
class Thresholds:
    """The confidence bar: answer at or above ``answer``; between ``ask`` and
    ``answer`` (or when the runner-up is within ``margin``) ask back; below
    ``ask``, admit not knowing. Chosen on the sets already measured (never
    on the clean one): 0.22 over 0.2 traded 1.2 points of answered-right for
    a quarter fewer confident mistakes on 13 sets."""

    answer: float = 0.22
    ask: float = 0.1
    margin: float = 0.05
    sure: float = 0.8
    sure_margin: float = 0.04
    verbatim: float = 0.95  # an FAQ question asked (almost) word for word
    # Cosine to an entry's questions needed when only its answer shares a word.
    answer_only_meaning: float = 0.5


@dataclass(frozen=True)
class Understanding:
    intent: str
    text: str
    answer_id: str | None = None
    exhibit_id: str | None = None
    score: float = 0.0
    candidates: tuple[Candidate, ...] = ()
    exhibit_candidates: tuple[str, ...] = ()
    phrase: str | None = None  # the exhibit phrase heard when it matched nothing
    extra: dict = field(default_factory=dict)


def clean(text: str) -> str:
    return _PUNCT.sub("", normalize(text))


def ordinal_choice(text: str) -> int | None:
    """"第二个" → 2, "最后一个" → -1; None if the text is not a choice."""
    t = clean(text)
    if _LAST.search(t):
        return -1
    match = _ORDINAL.search(t)
    if match and len(t) <= 8:
        return _ORDINALS[match.group(1) or match.group(2)]
    return None


def is_affirmation(text: str) -> bool:
    return bool(_AFFIRM.match(clean(text)))


def is_denial(text: str) -> bool:
    return bool(_DENY.match(clean(text)))


class IntentRecognizer:
    def __init__(self, kb: KnowledgeBase, *, ranker: FaqRanker | None = None,
                 thresholds: Thresholds = Thresholds(), rerank: bool = True, encoder="use") -> None:
        self.kb = kb
        self.ranker = ranker or FaqRanker(kb, encoder=encoder)
        self.reranker = TypeReranker.for_ranker(self.ranker) if rerank else None
        # Everything the hall knows, as one canonical string: a noun the
        # visitor uses that appears nowhere in it (火锅店, 停车场) means the
        # question is about something else, however well the rest matches.
        known = [*(q for f in kb.faqs for q in f.questions), *(f.answer for f in kb.faqs),
                 *(n for e in kb.exhibits for n in e.names), *(e.caption for e in kb.exhibits), *kb.terms]
        # Both forms: aliases fold to titles ("百年庆典" → "建党百年"), and a
        # word of the alias is still known.
        self._known_text = " ".join([*(self.ranker.canon(t) for t in known),
                                     *(normalize(t) for t in known)]).replace(" ", "")
        self.thresholds = thresholds
        # Named things (长征精神, 延安精神, 预备党员) that no FAQ entry mentions,
        # in its questions or its answer: a question about one of them has no
        # answer here, however well its shape matches another spirit's entry.
        faq_text = " ".join(self.ranker.canon(t) + " " + normalize(t)
                            for f in kb.faqs for t in (*f.questions, f.answer)).replace(" ", "")
        # Exhibits that no entry talks about (a hall may show what its FAQ
        # does not cover) count as such names too.
        self._faq_text = faq_text
        # Each with its plain and its canonical form, made once: canonicalising
        # them for every question took most of the time of understanding it.
        forms = {t: (normalize(t), self.ranker.canon(t).replace(" ", ""))
                 for t in (*PARTY_TERMS, *kb.terms, *(n for e in kb.exhibits for n in e.names if len(n) >= 3))}
        self._unanswered_terms = tuple(sorted(
            ((t, plain, canonical) for t, (plain, canonical) in forms.items()
             if plain not in faq_text and canonical not in faq_text),
            key=lambda term: len(term[0]), reverse=True))
        semantic = self.ranker.semantic
        self.commands = CommandMatcher(semantic.encoder) if semantic is not None else None

    def understand(self, text: str) -> Understanding:
        t = clean(text)
        if not t:
            return Understanding("unknown", text)
        if _STOP.match(t):
            return Understanding("stop", text, score=1.0)
        if _REPEAT.search(t) and len(t) <= 12:
            return Understanding("repeat", text, score=1.0)
        if _GREETING.match(t):
            return Understanding("greeting", text, score=1.0)
        if _GOODBYE.match(t):
            return Understanding("goodbye", text, score=1.0)
        body = _GREETING_PREFIX.sub("", t) or t
        if _STOP_INSIDE.search(body) and not _asks(body):
            return Understanding("stop", text, score=1.0)

        mentions = exhibit_mentions(self.kb, body)
        exhibit_id = mentions[0][0] if mentions else None
        if _MOVE.search(body) and not _asks(_polite_request(_after_move(body), body)):
            if exhibit_id:
                return Understanding("goto", text, exhibit_id=exhibit_id, score=1.0)
            if _TOUR.search(body):
                return Understanding("tour", text, score=1.0)
            command = self._command(body, text)
            if command is not None and command.intent == "tour":
                return command
            phrase = _after_move(body)
            if phrase and self.kb.exhibits and not self._faq_is_sure(body):
                near = tuple(e for e, _ in closest_exhibits(self.kb, phrase))
                return Understanding("goto", text, score=0.0, exhibit_candidates=near, phrase=phrase)
        if _TOUR.search(body) and not exhibit_id and not _asks_beyond_politeness(body):
            return Understanding("tour", text, score=1.0)
        request = _ACT_REQUEST.match(body)
        if request and not _TELL.match(body[request.end():]) and not _asks_beyond_politeness(body):
            return Understanding("unknown", text, exhibit_id=exhibit_id)
        without_name = body.replace(normalize(mentions[0][1]), "") if mentions else body
        if exhibit_id and _WHERE.search(body) and not _EVENT_VERB.search(without_name) \
                and not _QUALITY_WHERE.search(without_name):
            # An operator who wrote this very question into the FAQ meant the FAQ answer.
            if (_EXHIBIT_PLACE.search(body) or len(body) - len(mentions[0][1]) <= 6) \
                    and not self._faq_is_sure(body, self.thresholds.verbatim):
                return Understanding("where", text, exhibit_id=exhibit_id, score=1.0)
        understood = self._faq(text, body, exhibit_id)
        if body != t and not _asks(body) and not _NEED.search(body) and understood.score < self.thresholds.sure:
            # Hello, and a remark: "你好你好我们来参观了".
            return Understanding("greeting", text, score=1.0)
        if understood.intent in ("ask_back", "unknown"):
            # Not a question the hall answers: maybe a command said in other words.
            command = self._command(body, text)
            if command is not None:
                return command
        return understood

    def _command(self, body: str, text: str | None = None) -> Understanding | None:
        match = self.commands.match(body) if self.commands is not None else None
        if match is None:
            return None
        return Understanding(match.intent, text or body, score=match.score, extra={"phrase": match.phrase})

    def _faq_is_sure(self, body: str, bar: float | None = None) -> bool:
        top = self.ranker.rank(body, limit=1)
        return bool(top) and top[0].score >= (self.thresholds.sure if bar is None else bar)

    def unanswered_terms(self, body: str) -> list[str]:
        """Named terms in the question that no FAQ entry ever mentions."""
        plain = normalize(body).replace(" ", "")
        canonical = self.ranker.canon(body).replace(" ", "")
        named = [t for t, t_plain, t_canonical in self._unanswered_terms if t_plain in plain or t_canonical in canonical]
        # Events and spirits named the way history names them ("古田会议",
        # "五四运动", "延安整风"): if no entry says the name, none is about it.
        # Congresses by number ("中共二大", "党的二十大"): "一大" is not "二大".
        for match in _CONGRESS.finditer(plain):
            if match.group(0) not in self._faq_text:
                named.append(match.group(0))
        for name in self.ranker.words.event_names(plain):
            if name not in self._faq_text and self.ranker.canon(name).replace(" ", "") not in self._faq_text:
                named.append(name)
        return named

    def foreign_nouns(self, body: str) -> list[str]:
        """Concrete nouns that share not even a character pair with the KB."""
        canonical = self.ranker.canon(body)
        out = []
        latin = [w for w in _LATIN.findall(normalize(body)) if w not in self._known_text]
        for noun in self.ranker.words.nouns(canonical) + self._place_words(canonical) + latin:
            if noun in GENERIC_NOUNS or noun in self._known_text:
                continue
            if not any(noun[i:i + 2] in self._known_text for i in range(len(noun) - 1)):
                out.append(noun)
        return out

    def _place_words(self, canonical: str) -> list[str]:
        """Words ending in a place suffix (超市, 火锅店): jieba sometimes tags them
        as verbs, and a place the hall does not know is what the guard is for."""
        return [w for w in self.ranker.words.whole_words(canonical) if len(w) >= 2 and w[-1] in _PLACE_SUFFIX]

    def _bare_topic(self, body: str) -> bool:
        """Nothing but one word or name: no question word, no second word."""
        if _QUESTION_WORD.search(body):
            return False
        return len(self.ranker.words.whole_words(self.ranker.canon(body))) <= 1

    def _on_topic(self, body: str, top: Candidate) -> bool:
        """Whether the best entry shares something besides question words with
        the question: "说个故事给我听听" matches "……有什么故事" on 故事 (folded
        to 介绍) alone, which is how to ask, not what about."""
        entry = self.ranker.entry_text.get(top.faq_id)
        if entry is None:
            return True
        words = [w for w in self.ranker.words(self.ranker.canon(body)) if w not in HOW_TO_ASK]
        if not any(w in entry for w in words):
            return False
        if any(w in self.ranker.asked_text[top.faq_id] for w in words):
            return True
        # Only the answer shares a word ("出口在哪里": the toilet's answer says
        # it is by the exit): on topic only if the meaning is close to what
        # the entry is asked.
        cosine = self.ranker.question_cosine(body, top.faq_id)
        return cosine is None or cosine >= self.thresholds.answer_only_meaning

    def _faq(self, text: str, body: str, exhibit_id: str | None) -> Understanding:
        th = self.thresholds
        ranked = self.ranker.rank(body, limit=5)
        if self.reranker is not None:
            ranked = self.reranker.rerank(self.ranker.canon(body), ranked)
        candidates = tuple(ranked[:3])
        if not candidates or candidates[0].score < th.ask:
            return Understanding("unknown", text, exhibit_id=exhibit_id,
                                 score=candidates[0].score if candidates else 0.0, candidates=candidates)
        top = candidates[0]
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        gap = top.score - runner_up
        close_call = gap < (th.sure_margin if top.score >= th.sure else th.margin)
        foreign = (self.foreign_nouns(body) + self.unanswered_terms(body)) if top.score < th.verbatim else []
        if foreign and top.score < th.answer:
            # About something the hall does not know, and matching little: do not offer unrelated entries.
            return Understanding("unknown", text, exhibit_id=exhibit_id, score=top.score, candidates=candidates)
        if top.score >= th.answer and runner_up >= th.answer and self._bare_topic(body):
            # "长征", "遵义会议": a topic named with nothing asked about it,
            # and more than one entry about it: ask which was meant.
            return Understanding("ask_back", text, exhibit_id=exhibit_id, score=top.score, candidates=candidates)
        # An entry about the right thing that does not say what was asked
        # ("开了几天" of a meeting whose entry gives its date): ask back.
        lacking = self.reranker.lacks_answer(self.ranker.canon(body), top.faq_id) if self.reranker else []
        if top.score >= th.answer and not close_call and not foreign and not lacking and self._on_topic(body, top):
            return Understanding("faq", text, answer_id=top.faq_id, exhibit_id=exhibit_id, score=top.score,
                                 candidates=candidates)
        return Understanding("ask_back", text, exhibit_id=exhibit_id, score=top.score, candidates=candidates)


def _asks(text: str) -> bool:
    """Whether the text is put as a question."""
    return bool(_QUESTION_WORD.search(text) or _A_NOT_A.search(text))


def _asks_beyond_politeness(body: str) -> bool:
    """Whether the text is a question once a polite request's 可以 / 能不能 …吗
    is set aside ("能带我们逛一圈吗" asks nothing)."""
    return _asks(_POLITE_WORDS.sub("", _polite_request(body, body)))


def _polite_request(rest: str, body: str) -> str:
    """The place after the verb without the 吗 of a polite request."""
    return _POLITE_END.sub("", rest) if _POLITE_OPEN.search(body) else rest


def _after_move(body: str) -> str:
    """What follows the movement verb: the place the visitor wants to go."""
    match = None
    for match in _MOVE.finditer(body):
        pass
    rest = body[match.end():] if match else body
    return re.sub(r"(那里|那儿|那边|这里|看看|看一看|一下|吧|呀|啊|的展区|展区|参观)+$", "", rest).lstrip("看")
