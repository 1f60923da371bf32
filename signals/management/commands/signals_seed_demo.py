"""Seed signals for the demo organization: a sandbox advertiser account, a TikTok-provided keyword list,
the default extractors and message event rules (idempotent)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from inbox.models import Organization
from signals.models import AdvertiserAccount, KeywordList, MessageEventRule
from signals.services import accounts, keywords
from signals.services.extractors import extractor_rules_ensure_defaults

DEMO_KEYWORDS = (
    # payment
    ("payment", "payment"), ("pay", "payment"), ("bank transfer", "payment"), ("transfer", "payment"),
    ("pembayaran", "payment"), ("bayar", "payment"), ("transfer bank", "payment"),
    ("ชำระเงิน", "payment"), ("โอนเงิน", "payment"), ("thanh toán", "payment"), ("chuyển khoản", "payment"),
    # cash on delivery
    ("cash on delivery", "cod"), ("cod", "cod"), ("bayar di tempat", "cod"), ("เก็บเงินปลายทาง", "cod"),
    ("giao hàng thu tiền", "cod"),
    # price
    ("price", "price"), ("how much", "price"), ("harga", "price"), ("berapa", "price"), ("ราคา", "price"),
    ("giá", "price"), ("bao nhiêu", "price"),
    # order
    ("order", "order"), ("pesan", "order"), ("beli", "order"), ("สั่งซื้อ", "order"), ("đặt hàng", "order"),
)  # fmt: skip

DEMO_RULES = (
    (MessageEventRule.Trigger.CONVERSATION_STARTED_FROM_AD, "", "Contact"),
    (MessageEventRule.Trigger.KEYWORD_FLAG, "payment", "QualifiedLead"),
    (MessageEventRule.Trigger.KEYWORD_FLAG, "order", "QualifiedLead"),
    (MessageEventRule.Trigger.ORDER_PAID, "", "CompletePayment"),
)


class Command(BaseCommand):
    help = "Seed signals to TikTok for the demo organization (sandbox advertiser, keywords, rules). Idempotent."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("--slug", default="demo-shop")

    def handle(self, *args: object, **options: object) -> None:
        organization = Organization.objects.filter(slug=options["slug"]).first()
        if organization is None:
            raise CommandError(f"no organization {options['slug']!r}: run seed_demo first")
        account = AdvertiserAccount.objects.filter(organization=organization, is_sandbox=True).first()
        if account is None:
            account = accounts.advertiser_connect(
                organization=organization, name="Sandbox advertiser", event_set_id="SANDBOX-MESSAGES",
                test_event_code="TEST-DEMO", is_sandbox=True,
            )  # fmt: skip
        keyword_list = KeywordList.objects.filter(organization=organization, name="TikTok curated keywords").first()
        if keyword_list is None:
            keyword_list = keywords.keyword_list_create(
                organization=organization, name="TikTok curated keywords", tiktok_provided=True
            )
        existing = set(keyword_list.keywords.values_list("phrase", flat=True))
        rows = "\n".join(f"{phrase},{flag}" for phrase, flag in DEMO_KEYWORDS if phrase not in existing)
        if rows:
            keywords.keywords_import_csv(keyword_list=keyword_list, data=rows)
        extractor_rules_ensure_defaults(organization_id=organization.pk)
        for trigger, flag, event_name in DEMO_RULES:
            if not MessageEventRule.objects.filter(
                organization=organization, trigger=trigger, flag=flag, event_name=event_name, advertiser_account=account
            ).exists():
                accounts.event_rule_create(
                    organization=organization, trigger=trigger, flag=flag, event_name=event_name,
                    advertiser_account=account,
                )  # fmt: skip
        self.stdout.write(self.style.SUCCESS("Signals demo ready: sandbox advertiser, keywords, message events."))
        self.stdout.write("  pages: /signals/dashboard/  /signals/sent/  /signals/keywords/")
