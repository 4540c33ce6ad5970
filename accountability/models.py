"""The registers of accountability: recipients, disclosures, breaches, records of processing."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subjects.models import get_private_storage

# The EEA: the EU member states and Iceland, Liechtenstein and Norway. A transfer
# to any other country needs a ground under Chapter V (Art. 45, 46, 47).
EEA_COUNTRIES = frozenset({
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
    "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
})  # fmt: skip


class Recipient(models.Model):
    """Someone the company's personal data goes to (Art. 4(9)), named by the code the declarations use."""

    class Kind(models.TextChoices):
        PROCESSOR = "processor", _("Processor")
        SUB_PROCESSOR = "sub_processor", _("Sub-processor")
        CONTROLLER = "controller", _("Independent controller")
        AUTHORITY = "authority", _("Public authority")

    class TransferMechanism(models.TextChoices):
        NONE = "", _("None")
        ADEQUACY = "adequacy", _("Adequacy decision (Art. 45)")
        SCC = "scc", _("Standard contractual clauses (Art. 46(2)(c))")
        BCR = "bcr", _("Binding corporate rules (Art. 47)")

    code = models.SlugField(
        _("code"), max_length=50, unique=True, help_text=_("The code the declarations of personal data use.")
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    # Art. 28(2) and (4): a sub-processor serves a processor of ours.
    serves = models.ForeignKey(
        "self",
        verbose_name=_("processor it serves"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sub_processors",
    )
    org_number = models.CharField(_("organisation number"), max_length=30, blank=True)
    country = models.CharField(
        _("country"), max_length=2, default="NO", help_text=_("ISO 3166 code, e.g. NO.")
    )
    transfer_mechanism = models.CharField(
        _("transfer mechanism"), max_length=10, choices=TransferMechanism.choices, blank=True, default=""
    )
    transfer_mechanism_date = models.DateField(_("transfer mechanism dated"), null=True, blank=True)
    dpa_signed_on = models.DateField(_("data processing agreement signed"), null=True, blank=True)
    dpa_document = models.FileField(
        _("data processing agreement"), storage=get_private_storage, upload_to="dpa/", blank=True
    )
    dpa_next_review = models.DateField(_("agreement's next review"), null=True, blank=True)
    categories = models.JSONField(_("data categories shared"), default=list, blank=True)
    purposes = models.JSONField(_("purposes shared for"), default=list, blank=True)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Claims for the reminder job, so a reminder goes out once per review date.
    reminded_review_for = models.DateField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(serves__isnull=True) | models.Q(kind="sub_processor"),
                name="recipient_only_sub_processor_serves",
                violation_error_message=_("Only a sub-processor serves another processor."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def outside_eea(self) -> bool:
        return self.country.upper() not in EEA_COUNTRIES

    @property
    def needs_agreement(self) -> bool:
        # Art. 28(3): processing by a processor is governed by a contract.
        return self.kind in {self.Kind.PROCESSOR, self.Kind.SUB_PROCESSOR}


class Disclosure(models.Model):
    """One time a person's data left for a recipient (Art. 15(1)(c), Art. 30(1)(d))."""

    class Channel(models.TextChoices):
        WEBHOOK = "webhook", _("Webhook")
        EXPORT = "export", _("Export")
        MANUAL = "manual", _("Manual disclosure recorded by staff")

    recipient = models.ForeignKey(
        Recipient, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="disclosures"
    )
    # SET_NULL: when the person is erased the fact of a disclosure stays (Art. 5(2)), the person goes.
    contact = models.ForeignKey(
        "subjects.Contact",
        verbose_name=_("person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="disclosures",
    )
    categories = models.JSONField(_("data categories"), default=list)
    purpose = models.CharField(_("purpose"), max_length=50, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    reason = models.CharField(_("why"), max_length=500, blank=True)
    disclosed_at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        verbose_name = _("disclosure")
        verbose_name_plural = _("disclosures")
        indexes = [
            # disclosures_for(contact_ids) and the access report look rows up by person.
            models.Index(fields=["contact", "-disclosed_at"], name="disclosure_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.disclosed_at:%Y-%m-%d}"
