"""The translation catalogues are complete and current, and translated templates have no unmarked text (issue 10).

Extraction mirrors ``makemessages``: templates through Django's ``templatize``, then ``xgettext`` with Django's
keywords, so a string marked in code but missing from ``locale/<lang>/LC_MESSAGES/*.po`` fails here.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.utils.translation.template import templatize

pytestmark = pytest.mark.core

ROOT = Path(settings.BASE_DIR)
LANGS = [code for code, _name in settings.LANGUAGES if code != "en"]
PY_DIRS = ["inbox", "integrations", "signals", "switchboard"]
JS_FILES = sorted((ROOT / "static").glob("*.js"))
PY_KEYWORDS = [
    "gettext_noop", "gettext_lazy", "ngettext_lazy:1,2", "pgettext:1c,2", "npgettext:1c,2,3", "pgettext_lazy:1c,2",
    "npgettext_lazy:1c,2,3", "gettext", "ngettext:1,2", "_",
]  # fmt: skip
# Every template's visible text must be marked: the checker below covers the whole templates/ tree.
TRANSLATED_TEMPLATES = sorted(
    p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.html")
)
# Words that stay as they are in every language: brands and product names.
ALLOWED_WORDS = {"Switchboard", "TikTok", "WhatsApp", "Messenger", "CRM", "HubSpot", "Meta", "API", "OAuth"}

needs_xgettext = pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext tools not installed")


def _po_entries(path: Path) -> dict[str, tuple[str, bool]]:
    """msgid -> (first msgstr, fuzzy) for a .po file, parsed just enough for these checks."""
    entries: dict[str, tuple[str, bool]] = {}
    text = path.read_text(encoding="utf-8")
    text = re.sub(r'(\n(?:"[^\n]*"|msgstr[^\n]*))\n(#|msgid )', r"\1\n\n\2", text)
    for block in text.strip().split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        fuzzy = False
        for line in block.splitlines():
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[0\])?) "(.*)"$', line)
            if match:
                key = match.group(1).replace("[0]", "")
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            entries[fields["msgid"]] = (fields.get("msgstr", ""), fuzzy)
    return entries


def _extract(tmp_path: Path, domain: str) -> set[str]:
    sources: list[Path] = []
    if domain == "django":
        for directory in PY_DIRS:
            sources += [p for p in (ROOT / directory).rglob("*.py") if "migrations" not in p.parts]
        for template in (ROOT / "templates").rglob("*.html"):
            target = tmp_path / "templates" / (template.relative_to(ROOT / "templates").as_posix() + ".py")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(templatize(template.read_text(encoding="utf-8"), origin=str(template)), encoding="utf-8")
            sources.append(target)
        args = ["xgettext", "-L", "Python", "--from-code=UTF-8", *[f"--keyword={k}" for k in PY_KEYWORDS]]
    else:
        sources = JS_FILES
        args = ["xgettext", "-L", "JavaScript", "--from-code=UTF-8", "--keyword=gettext_noop", "--keyword=gettext",
                "--keyword=ngettext:1,2", "--keyword=pgettext:1c,2", "--keyword=npgettext:1c,2,3"]  # fmt: skip
    pot = tmp_path / f"{domain}.pot"
    subprocess.run([*args, "--no-location", "-o", str(pot), *map(str, sources)], check=True, capture_output=True)
    return set(_po_entries(pot)) if pot.exists() else set()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_message_is_translated(lang: str, domain: str) -> None:
    entries = _po_entries(ROOT / "locale" / lang / "LC_MESSAGES" / f"{domain}.po")
    assert entries, "empty catalogue"
    untranslated = sorted(msgid for msgid, (msgstr, fuzzy) in entries.items() if not msgstr or fuzzy)
    assert not untranslated, f"{lang}/{domain}.po has untranslated or fuzzy entries: {untranslated[:10]}"


@needs_xgettext
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_catalogues_are_up_to_date(domain: str, tmp_path: Path) -> None:
    extracted = _extract(tmp_path, domain)
    assert "Inbox" in extracted or domain == "djangojs"
    for lang in LANGS:
        catalogue = set(_po_entries(ROOT / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"))
        missing = sorted(extracted - catalogue)
        assert not missing, (
            f"locale/{lang}/LC_MESSAGES/{domain}.po is out of date; run `make messages` and translate: {missing[:10]}"
        )


_IGNORED = re.compile(
    r"{%\s*block body_class\s*%}.*?{%\s*endblock\s*%}"
    r"|{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}|{%.*?%}|{{.*?}}|{#.*?#}|<!--.*?-->"
    r"|<script\b.*?</script>|<style\b.*?</style>|<template\b[^>]*>",
    re.S,
)
_TEXT_ATTRIBUTES = re.compile(r'\b(?:placeholder|aria-label|title|alt)="([^"{]*)"')
# A fallback shown to users, e.g. {{ name|default:"Customer" }}, is marked as default:_("Customer").
_FILTER_TEXT = re.compile(r"\|default:(?:\"([^\"]*)\"|'([^']*)')")


def unmarked_text(source: str) -> list[str]:
    """Visible words in a template that are neither marked for translation nor template variables."""
    found = [
        value
        for value in _TEXT_ATTRIBUTES.findall(source)
        if any(len(word) > 1 and word not in ALLOWED_WORDS for word in re.findall(r"[^\W\d_]+", value))
    ]
    found += [
        text
        for pair in _FILTER_TEXT.findall(source)
        for text in pair
        if re.search(r"[^\W\d_]{2,}", text) and text not in ALLOWED_WORDS and not text.isupper()
    ]  # codes such as UTC stay as they are
    stripped = _IGNORED.sub(" ", source)
    stripped = re.sub(r"<[^>]*>", " ", stripped)
    for word in re.findall(r"[^\W\d_][\w’'-]*", stripped):
        if word not in ALLOWED_WORDS and len(word) > 1:
            found.append(word)
    return found


def test_the_checker_catches_unmarked_text() -> None:
    assert unmarked_text('<p>Hello {{ name }}</p><input placeholder="Type here">') == ["Type here", "Hello"]
    assert unmarked_text('<p>{% translate "Hello" %} {{ x }}</p><a title="{% translate \'Hi\' %}">TikTok</a>') == []
    assert unmarked_text("{% blocktranslate %}Hi {{ name }}{% endblocktranslate %}") == []
    assert unmarked_text('{{ who|default:"System" }} {{ n|default:"—" }} {{ x|default:_("Nobody") }}') == ["System"]


def test_every_template_is_checked() -> None:
    assert len(TRANSLATED_TEMPLATES) > 50
    assert {"automation/rules.html", "commerce/orders.html", "signals/dashboard.html"} <= set(TRANSLATED_TEMPLATES)


@pytest.mark.parametrize("name", TRANSLATED_TEMPLATES)
def test_translated_templates_have_no_unmarked_text(name: str) -> None:
    source = (ROOT / "templates" / name).read_text(encoding="utf-8")
    assert unmarked_text(source) == [], f"templates/{name} has text not marked for translation"


# Python strings users read: validation errors, flash messages, form labels and help, choice labels.
_ERROR_CALLS = {"ValidationError", "TransitionError", "FilterError"}
_MESSAGE_LEVELS = {"success", "error", "info", "warning", "debug"}
_TEXT_KWARGS = {"label", "help_text", "empty_label", "verbose_name", "verbose_name_plural"}
# Developer-facing code: the REST API (its errors are for integrators), management commands, migrations.
_NOT_FOR_USERS = re.compile(r"(^|/)(migrations|management|api)/|(^|/)(api|serializers|schema)\.py$")


def _call_name(node: ast.expr) -> str:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else ""


def _is_text(node: ast.expr) -> bool:
    """A plain or f-string literal with words in it (a call such as gettext(...) is not)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(re.search(r"[^\W\d_]{2,}", node.value))
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.Constant) and re.search(r"[^\W\d_]{2,}", v.value) for v in node.values)
    return False


def unmarked_python(source: str) -> list[int]:
    """Line numbers of user-facing string literals that are not passed through gettext."""
    lines: list[int] = []
    for node in ast.walk(ast.parse(source)):
        candidates: list[ast.expr] = []
        if isinstance(node, ast.ClassDef) and any(
            _call_name(b) in ("TextChoices", "IntegerChoices") for b in node.bases
        ):
            candidates += [s.value.elts[-1] for s in node.body if isinstance(s, ast.Assign)
                           and isinstance(s.value, ast.Tuple) and len(s.value.elts) >= 2]  # fmt: skip
        if isinstance(node, ast.Call):
            name = _call_name(node.func)
            if name in _ERROR_CALLS and node.args:
                first = node.args[0]
                candidates += first.values if isinstance(first, ast.Dict) else [first]
            is_message = isinstance(node.func, ast.Attribute) and _call_name(node.func.value) == "messages"
            if name in _MESSAGE_LEVELS and is_message and len(node.args) >= 2:
                candidates.append(node.args[1])
            candidates += [kw.value for kw in node.keywords if kw.arg in _TEXT_KWARGS]
        lines += [c.lineno for c in candidates if _is_text(c)]
    return lines


def test_the_python_checker_catches_unmarked_text() -> None:
    source = (
        "class S(models.TextChoices):\n    OPEN = 'open', 'Open'\n    SHUT = 'shut', _('Shut')\n"
        "raise ValidationError(f'Bad {x}')\nmessages.success(request, gettext('Saved.'))\n"
        "messages.error(request, 'Not saved.')\nf = forms.CharField(label='Name', help_text=_('Help'))\n"
    )
    assert sorted(unmarked_python(source)) == [2, 4, 6, 7]


def test_python_strings_for_users_are_marked() -> None:
    offenders = []
    for directory in PY_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not _NOT_FOR_USERS.search(relative):
                offenders += [f"{relative}:{line}" for line in unmarked_python(path.read_text(encoding="utf-8"))]
    assert not offenders, f"strings shown to users are not marked for translation: {offenders[:10]}"
