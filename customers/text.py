"""Text keys stored next to names so that duplicates and searches are plain indexed lookups:
a normalized company name, digits of a phone number, the domain of an email address and
the pinyin (full and initials) of Chinese names."""

import re
import unicodedata
from urllib.parse import urlsplit

from pypinyin import Style, lazy_pinyin

# Legal-form words that differ between two spellings of the same company.
_LEGAL_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团",
    "公司",
    "corporation",
    "incorporated",
    "limited",
    "company",
    "group",
    "corp",
    "gmbh",
    "inc",
    "ltd",
    "llc",
    "plc",
    "co",
)
_CJK_SUFFIXES = tuple(suffix for suffix in _LEGAL_SUFFIXES if not suffix.isascii())
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_HAN_RUN = re.compile(r"([\u3400-\u9fff]+)")
_WORD = re.compile(r"[0-9a-z]+")

# Mailbox providers shared by unrelated companies: their domain says nothing about identity.
FREE_MAIL_DOMAINS = frozenset(
    {
        "qq.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "139.com",
        "foxmail.com",
        "gmail.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "yahoo.com",
        "icloud.com",
        "me.com",
        "msn.com",
        "proton.me",
        "protonmail.com",
    }
)


def normalize_name(name: str) -> str:
    """Lower case, full-width folded, without punctuation, spaces or legal-form suffixes:
    华为技术有限公司, "Huawei Technologies Co., Ltd." and 华为技术 compare on their core."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    words = [word for word in _NON_WORD.split(text) if word]
    while len(words) > 1 and words[-1] in _LEGAL_SUFFIXES:
        words.pop()
    core = "".join(words)
    # Chinese has no spaces, so its legal forms are cut from the end of the string; Latin
    # ones only as whole words above ("Costco" keeps its "co").
    changed = True
    while changed:
        changed = False
        for suffix in _CJK_SUFFIXES:
            if core.endswith(suffix) and len(core) > len(suffix):
                core = core[: -len(suffix)]
                changed = True
    return core[:200]


def phone_digits(phone: str) -> str:
    """The digits of a phone number without the China country code, for equality checks."""
    digits = re.sub(r"\D", "", phone or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits[:40]


def email_domain(email: str) -> str:
    if "@" not in (email or ""):
        return ""
    return email.rsplit("@", 1)[1].strip().lower()[:150]


def website_domain(website: str) -> str:
    if not website:
        return ""
    url = website if "://" in website else f"http://{website}"
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")[:150]


def pinyin_keys(text: str) -> tuple[str, str]:
    """(full pinyin, initials) of a name, lower case without spaces: 华为技术 gives
    ("huaweijishu", "hwjs"); Latin words contribute themselves and their first letter."""
    full: list[str] = []
    initials: list[str] = []
    for index, run in enumerate(_HAN_RUN.split(unicodedata.normalize("NFKC", text or ""))):
        if not run:
            continue
        if index % 2:
            syllables = lazy_pinyin(run, style=Style.NORMAL)
            full.extend(syllables)
            initials.extend(syllable[:1] for syllable in syllables)
        else:
            words = _WORD.findall(run.lower())
            full.extend(words)
            initials.extend(word[:1] for word in words)
    return "".join(full)[:500], "".join(initials)[:200]


def search_key(query: str) -> str:
    """A query folded the way pinyin keys are stored, so "Hua Wei" matches "huawei"."""
    return "".join(_WORD.findall(unicodedata.normalize("NFKC", query or "").lower()))


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").lower().strip()


def search_text(*parts: str) -> str:
    """One lower-case column holding every searchable key of a row (name, pinyin, initials,
    email, phone digits), so a search is a single substring match on one trigram index."""
    return " | ".join(_fold(part) for part in parts if part)


def search_terms(query: str) -> set[str]:
    """What to look for in `search_text`: the query folded, its pinyin key when it is Latin
    letters, and its digits when it reads like a phone number."""
    folded = _fold(query)
    if not folded:
        return set()
    terms = {folded}
    key = search_key(query)
    if key and folded.isascii() and any(char.isalpha() for char in key):
        terms.add(key)
    digits = phone_digits(query)
    if len(digits) >= 4 and len(digits) * 2 >= len(folded.replace(" ", "")):
        terms.add(digits)
    return terms
