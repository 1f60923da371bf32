"""HTML forms of the rule editor, the sandbox and business hours: they only parse; services validate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from inbox.automation.actions import VARIABLES
from inbox.automation.conditions import CHANNEL_KINDS, DAY_NAMES, STATUSES
from inbox.automation.models import KeywordMode, Trigger
from inbox.models import Conversation

ANY_YES_NO = [("", "Any"), ("yes", "Yes"), ("no", "No")]


def _lines(value: str) -> list[str]:
    return [line.strip() for line in (value or "").splitlines() if line.strip()]


def _commas(value: str) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class RuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    enabled = forms.BooleanField(required=False, label=gettext_lazy("Switched on"))
    trigger = forms.ChoiceField(choices=Trigger.choices, initial=Trigger.KEYWORD)
    no_reply_minutes = forms.IntegerField(
        required=False, min_value=1, label=gettext_lazy("Minutes without an agent reply")
    )
    trigger_labels = forms.CharField(
        required=False, label=gettext_lazy("Labels that trigger it (comma-separated, empty: any)")
    )
    keyword_mode = forms.ChoiceField(choices=KeywordMode.choices, initial=KeywordMode.WORD)
    keywords = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4}), label=gettext_lazy("Keywords (one a line)")
    )
    negative_keywords = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=gettext_lazy("Do not fire if the message contains (one a line)"),
    )
    channel_kinds = forms.MultipleChoiceField(
        required=False, choices=[(k, k.title()) for k in CHANNEL_KINDS], widget=forms.CheckboxSelectMultiple
    )
    channel_ids = forms.MultipleChoiceField(
        required=False, choices=[], widget=forms.CheckboxSelectMultiple, label=gettext_lazy("Channels")
    )
    statuses = forms.MultipleChoiceField(
        required=False, choices=[(s, s.title()) for s in STATUSES], widget=forms.CheckboxSelectMultiple
    )
    assigned = forms.ChoiceField(required=False, choices=ANY_YES_NO, label=gettext_lazy("Assigned to someone"))
    contact = forms.ChoiceField(
        required=False,
        choices=[("", gettext_lazy("Any")), ("new", gettext_lazy("New")), ("returning", gettext_lazy("Returning"))],
    )
    tracking_id = forms.ChoiceField(
        required=False, choices=ANY_YES_NO, label=gettext_lazy("Came from a campaign (tracking ID)")
    )
    business_hours = forms.ChoiceField(
        required=False,
        choices=[
            ("", gettext_lazy("Any time")),
            ("open", gettext_lazy("Within business hours")),
            ("closed", gettext_lazy("Outside business hours")),
        ],
    )
    days = forms.MultipleChoiceField(
        required=False, choices=list(enumerate(DAY_NAMES)), widget=forms.CheckboxSelectMultiple
    )
    time_from = forms.CharField(required=False, max_length=5, label=gettext_lazy("From (HH:MM)"))
    time_to = forms.CharField(required=False, max_length=5, label=gettext_lazy("To (HH:MM)"))
    labels_any = forms.CharField(required=False, label=gettext_lazy("Has one of these labels (comma-separated)"))
    reply_text = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("Reply"),
        help_text="Variables: " + ", ".join("{{" + v + "}}" for v in VARIABLES),
    )
    reply_template = forms.CharField(
        required=False,
        max_length=540,
        label=gettext_lazy("WhatsApp template past the 24-hour window"),
        help_text=gettext_lazy(
            "name:language of an approved template (e.g. order_update:en_US), sent instead of the reply when the "
            "window has closed. Leave empty to skip such conversations."
        ),
    )
    reply_template_params = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=gettext_lazy("Template values"),
        help_text=gettext_lazy("One line per {{1}}, {{2}}…; the reply's variables work here too."),
    )
    add_labels = forms.CharField(required=False, label=gettext_lazy("Add labels (comma-separated)"))
    remove_labels = forms.CharField(required=False, label=gettext_lazy("Remove labels (comma-separated)"))
    assign = forms.BooleanField(required=False, label=gettext_lazy("Assign round-robin"))
    assign_team = forms.ChoiceField(required=False, choices=[], label=gettext_lazy("Among the agents of team"))
    set_status = forms.ChoiceField(
        required=False, choices=[("", gettext_lazy("Leave as is")), *Conversation.Status.choices]
    )
    set_priority = forms.ChoiceField(
        required=False, choices=[("", gettext_lazy("Leave as is")), *Conversation.Priority.choices]
    )
    note_text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2}), label=gettext_lazy("Private note")
    )
    create_draft_order = forms.BooleanField(required=False)
    stop_after_match = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Stop after this rule fires")
    )
    once_per_conversation = forms.BooleanField(required=False, label=gettext_lazy("At most once per conversation"))
    cooldown_minutes = forms.IntegerField(
        required=False, min_value=0, initial=0, label=gettext_lazy("Cooldown (minutes)")
    )

    def __init__(self, *args: Any, channels: Any = (), teams: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel_ids"].choices = [(str(c.pk), str(c)) for c in channels]
        self.fields["assign_team"].choices = [("", "Any agent"), *[(str(t.pk), t.name) for t in teams]]

    def service_kwargs(self) -> dict[str, Any]:
        d = self.cleaned_data
        yes_no = {"yes": True, "no": False}
        conditions: dict[str, Any] = {
            "channel_kinds": d["channel_kinds"],
            "channel_ids": [int(i) for i in d["channel_ids"]],
            "statuses": d["statuses"],
            "contact": d["contact"],
            "business_hours": d["business_hours"],
            "days": [int(i) for i in d["days"]],
            "time_from": d["time_from"],
            "time_to": d["time_to"],
            "labels_any": _commas(d["labels_any"]),
        }
        for key in ("assigned", "tracking_id"):
            if d[key] in yes_no:
                conditions[key] = yes_no[d[key]]
        actions: list[dict[str, Any]] = []
        if d["reply_text"].strip():
            reply: dict[str, Any] = {"type": "send_reply", "text": d["reply_text"]}
            if d.get("reply_template", "").strip():
                name, _, language = d["reply_template"].strip().partition(":")
                params = [line.strip() for line in d.get("reply_template_params", "").splitlines() if line.strip()]
                reply["template"] = {"name": name.strip(), "language": language.strip(), "params": params}
            actions.append(reply)
        actions += [{"type": "add_label", "label": label} for label in _commas(d["add_labels"])]
        actions += [{"type": "remove_label", "label": label} for label in _commas(d["remove_labels"])]
        if d["assign"]:
            actions.append({"type": "assign", "team_id": int(d["assign_team"]) if d["assign_team"] else None})
        if d["set_status"]:
            actions.append({"type": "set_status", "status": d["set_status"]})
        if d["set_priority"]:
            actions.append({"type": "set_priority", "priority": d["set_priority"]})
        if d["note_text"].strip():
            actions.append({"type": "add_note", "text": d["note_text"]})
        if d["create_draft_order"]:
            actions.append({"type": "create_draft_order"})
        return {
            "name": d["name"],
            "trigger": d["trigger"],
            "keyword_mode": d["keyword_mode"],
            "keywords": _lines(d["keywords"]),
            "negative_keywords": _lines(d["negative_keywords"]),
            "conditions": conditions,
            "actions": actions,
            "trigger_options": {"minutes": d["no_reply_minutes"], "labels": _commas(d["trigger_labels"])},
            "stop_after_match": d["stop_after_match"],
            "once_per_conversation": d["once_per_conversation"],
            "cooldown_minutes": d["cooldown_minutes"] or 0,
        }

    @staticmethod
    def initial_from(rule: Any) -> dict[str, Any]:
        v = rule.current_version
        c = v.conditions
        initial: dict[str, Any] = {
            "name": rule.name,
            "enabled": rule.enabled,
            "trigger": v.trigger,
            "no_reply_minutes": v.trigger_options.get("minutes"),
            "trigger_labels": ", ".join(v.trigger_options.get("labels") or []),
            "keyword_mode": v.keyword_mode,
            "keywords": "\n".join(v.keywords),
            "negative_keywords": "\n".join(v.negative_keywords),
            "channel_kinds": c.get("channel_kinds", []),
            "channel_ids": [str(i) for i in c.get("channel_ids", [])],
            "statuses": c.get("statuses", []),
            "assigned": {True: "yes", False: "no"}.get(c.get("assigned"), ""),
            "contact": c.get("contact", ""),
            "tracking_id": {True: "yes", False: "no"}.get(c.get("tracking_id"), ""),
            "business_hours": c.get("business_hours", ""),
            "days": [str(d) for d in c.get("days", [])],
            "time_from": c.get("time_from", ""),
            "time_to": c.get("time_to", ""),
            "labels_any": ", ".join(c.get("labels_any", [])),
            "stop_after_match": rule.stop_after_match,
            "once_per_conversation": rule.once_per_conversation,
            "cooldown_minutes": rule.cooldown_minutes,
        }
        add, remove = [], []
        for action in v.actions:
            kind = action["type"]
            if kind == "send_reply":
                initial["reply_text"] = action["text"]
                if action.get("template"):
                    template = action["template"]
                    initial["reply_template"] = f"{template['name']}:{template['language']}"
                    initial["reply_template_params"] = "\n".join(template.get("params") or [])
            elif kind == "add_label":
                add.append(action["label"])
            elif kind == "remove_label":
                remove.append(action["label"])
            elif kind == "assign":
                initial["assign"] = True
                initial["assign_team"] = str(action.get("team_id") or "")
            elif kind == "set_status":
                initial["set_status"] = action["status"]
            elif kind == "set_priority":
                initial["set_priority"] = action["priority"]
            elif kind == "add_note":
                initial["note_text"] = action["text"]
            elif kind == "create_draft_order":
                initial["create_draft_order"] = True
        initial["add_labels"] = ", ".join(add)
        initial["remove_labels"] = ", ".join(remove)
        return initial


class SandboxForm(forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=4096, label=gettext_lazy("Customer message")
    )
    channel = forms.ChoiceField(required=False, choices=[], label=gettext_lazy("Channel"))
    at = forms.DateTimeField(
        required=False,
        label=gettext_lazy("Time (organization time zone)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    first_message = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("First message of a new conversation")
    )
    returning_contact = forms.BooleanField(required=False, label=gettext_lazy("Returning contact"))
    assigned = forms.BooleanField(required=False, label=gettext_lazy("Conversation assigned"))
    has_tracking_id = forms.BooleanField(required=False, label=gettext_lazy("Came from a campaign (tracking ID)"))

    def __init__(self, *args: Any, channels: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", "Any channel (sandbox kind)"), *[(str(c.pk), str(c)) for c in channels]]


class BacktestForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=90, initial=7, label=gettext_lazy("Days of past messages"))


class BusinessHoursForm(forms.Form):
    """One text field per day: ``09:00-12:00, 13:00-18:00``; holidays one date a line."""

    holidays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=gettext_lazy("Holidays (YYYY-MM-DD, one a line)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n, day in enumerate(DAY_NAMES):
            self.fields[f"day_{n}"] = forms.CharField(required=False, label=day, max_length=200)

    def weekly(self) -> dict[str, list[list[str]]]:
        out: dict[str, list[list[str]]] = {}
        for n in range(7):
            ranges = []
            for part in _commas(self.cleaned_data.get(f"day_{n}", "")):
                start, _, end = part.partition("-")
                ranges.append([start.strip(), end.strip()])
            out[str(n)] = ranges
        return out

    def holiday_list(self) -> list[str]:
        return _lines(self.cleaned_data.get("holidays", ""))

    @staticmethod
    def initial_from(hours: Any) -> dict[str, Any]:
        if hours is None:
            return {}
        initial = {f"day_{n}": ", ".join(f"{a}-{b}" for a, b in hours.weekly.get(str(n), [])) for n in range(7)}
        initial["holidays"] = "\n".join(hours.holidays)
        return initial
