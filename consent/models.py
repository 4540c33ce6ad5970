"""Purposes and legal bases, privacy notices, and the consent ledger.

The policy (Vår hjemmel; Vi innhenter ditt samtykke) promises that every
consent is collected with a form that stores its documentation, that each
consent is always stored and documented (Art. 7(1): the controller must be
able to demonstrate consent) and that it can be withdrawn at any time
(Art. 7(3)). ``ConsentEvent`` is that documentation: an append-only ledger.
``ConsentState`` is its projection, the current state per contact and purpose,
kept in the same transaction so that a check is one indexed lookup.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError


class LegalBasis(models.TextChoices):
    # Art. 6(1)(a), (b), (f) and (c); the four the policy names (Vår hjemmel).
    CONSENT = "consent", _("Consent")
    CONTRACT = "contract", _("Contract")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")


class Purpose(models.Model):
    """Why we process personal data, with its legal basis (Art. 5(1)(b), 6, 13(1)(c))."""

    # Art. 21(2)-(3): an objection to direct marketing is recorded against this
    # purpose and blocks every marketing purpose, whatever consents exist.
    DIRECT_MARKETING = "direct_marketing"

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name_nb = models.CharField(_("name (bokmål)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_nb = models.TextField(_("description (bokmål)"))
    description_en = models.TextField(_("description (English)"))
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    data_categories = models.JSONField(
        _("data categories"), default=list, blank=True, help_text=_("Names of the data categories used.")
    )
    is_marketing = models.BooleanField(_("marketing"), default=False)
    shares_with_third_parties = models.BooleanField(_("shares data with third parties"), default=False)
    # Kantara Consent Receipt v1.1: thirdPartyName is required where data is disclosed.
    third_parties = models.CharField(
        _("third parties the data is shared with"),
        max_length=300,
        blank=True,
        help_text=_("Required when the purpose shares data with third parties; shown on consent receipts."),
    )
    # Marketing Control Act § 15(2): marketing of the company's own products
    # similar to those a customer bought may go to the customer without consent.
    own_similar_products = models.BooleanField(
        _("marketing of our own similar products"),
        default=False,
        help_text=_("Marketing Control Act § 15(2): may reach existing customers without consent."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["code"]
        verbose_name = _("purpose")
        verbose_name_plural = _("purposes")

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.shares_with_third_parties and not self.third_parties.strip():
            raise ValidationError(
                {"third_parties": _("Name the third parties, since the purpose shares data with them.")}
            )

    @property
    def name(self) -> str:
        return self.name_en if (get_language() or "nb").startswith("en") else self.name_nb

    @property
    def description(self) -> str:
        return self.description_en if (get_language() or "nb").startswith("en") else self.description_nb

    @property
    def on_legitimate_interest(self) -> bool:
        return self.legal_basis == LegalBasis.LEGITIMATE_INTEREST


class LegitimateInterestAssessment(models.Model):
    """The balancing test Art. 6(1)(f) needs before a purpose may rest on legitimate interest."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("Approved: the interest is not overridden")
        REJECTED = "rejected", _("Rejected: the person's interests prevail")

    purpose = models.ForeignKey(
        Purpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="assessments"
    )
    interest = models.TextField(_("the interest pursued"))
    necessity = models.TextField(_("why the processing is necessary"))
    balancing = models.TextField(_("balancing against the person's interests and rights"))
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_on = models.DateField(_("reviewed on"), default=timezone.localdate)
    next_review = models.DateField(_("next review"))

    class Meta:
        ordering = ["-reviewed_on", "-id"]
        verbose_name = _("legitimate-interest assessment")
        verbose_name_plural = _("legitimate-interest assessments")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(next_review__gt=models.F("reviewed_on")),
                name="assessment_next_review_after_review",
                violation_error_message=_("The next review must come after this one."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose} {self.reviewed_on:%Y-%m-%d}"


class PrivacyNotice(models.Model):
    """One version of the privacy notice (Art. 12-13; the policy's Endringer)."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    text_nb = models.TextField(_("text (bokmål)"))
    text_en = models.TextField(_("text (English)"))
    summary_nb = models.TextField(_("summary of changes (bokmål)"), blank=True)
    summary_en = models.TextField(_("summary of changes (English)"), blank=True)
    is_material = models.BooleanField(
        _("material change"),
        default=False,
        help_text=_(
            "A material change is announced by email to every active contact before it takes effect."
        ),
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    effective_from = models.DateTimeField(_("effective from"))
    # Set when every active contact has been notified of this version.
    campaign_finished_at = models.DateTimeField(_("everyone notified"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-effective_from", "-id"]
        verbose_name = _("privacy notice")
        verbose_name_plural = _("privacy notices")
        indexes = [
            # The site serves the current notice: latest effective published version.
            models.Index(fields=["-effective_from"], name="notice_effective_idx"),
        ]

    def __str__(self) -> str:
        return self.version

    def text(self, language: str) -> str:
        return self.text_en if language.startswith("en") else self.text_nb

    def summary(self, language: str) -> str:
        return self.summary_en if language.startswith("en") else self.summary_nb

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


def wording_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ConsentWording(models.Model):
    """The exact text a person was shown when they consented, stored once per distinct text."""

    sha256 = models.CharField(_("SHA-256 of the text"), max_length=64, unique=True)
    text = models.TextField(_("text shown"))
    created_at = models.DateTimeField(_("first used"), default=timezone.now)

    class Meta:
        verbose_name = _("consent wording")
        verbose_name_plural = _("consent wordings")

    def __str__(self) -> str:
        return self.sha256[:12]

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The hash is evidence of what was shown; a wording never changes.
        if not self._state.adding:
            raise LedgerIsAppendOnly(_("A consent wording cannot be changed."))
        self.sha256 = wording_hash(self.text)
        super().save(*args, **kwargs)


class LedgerIsAppendOnly(ApplicationError):
    pass


ERASURE_SETTING = "personvern.erasure"


def ledger_erasure_allow(using: str = "default", *, on: bool = True) -> None:
    """Let this transaction delete ledger rows (PostgreSQL's trigger checks the setting).

    Transaction-local (``set_config(..., true)`` is ``SET LOCAL``): it ends
    with the transaction, so it cannot leak into another request.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [ERASURE_SETTING, "on" if on else "off"])


class ConsentEventQuerySet(models.QuerySet["ConsentEvent"]):
    """No update; delete only from a queryset made ``erasable()`` (erasure, Art. 17)."""

    _erasure = False

    def _clone(self) -> ConsentEventQuerySet:
        clone = super()._clone()
        clone._erasure = self._erasure
        return clone

    def erasable(self) -> ConsentEventQuerySet:
        """The same rows, deletable: only the removal engine (``core.removal``) asks for them (Art. 17)."""
        clone = self._chain()
        clone._erasure = True
        return clone

    def update(self, **kwargs: Any) -> int:
        raise LedgerIsAppendOnly(_("Consent events cannot be changed."))

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise LedgerIsAppendOnly(_("Consent events cannot be changed."))

    def delete(self) -> tuple[int, dict[str, int]]:
        if not self._erasure:
            raise LedgerIsAppendOnly(_("Consent events cannot be deleted, except by erasure of the person."))
        with transaction.atomic(using=self.db):
            ledger_erasure_allow(self.db)
            result = super().delete()
            ledger_erasure_allow(self.db, on=False)
        return result


class Channel(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    EMAIL_LINK = "email_link", _("Link in an email")
    PORTAL = "portal", _("Privacy portal")
    STAFF = "staff", _("Staff on the person's behalf")
    API = "api", _("API")
    IMPORT = "import", _("Import")


class ConsentEvent(models.Model):
    """One entry of the consent ledger. Never changed; deleted only by erasure."""

    class Action(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CONFIRMED = "confirmed", _("Confirmed")
        EXPIRED = "expired", _("Expired")
        OBJECTED = "objected", _("Objected")
        # Art. 21(1): staff recorded compelling legitimate grounds that override an objection.
        GROUNDS = "grounds", _("Compelling legitimate grounds recorded")

    class Authority(models.TextChoices):
        # Who acted, as consent.machine rules on it (see its docstring for the table).
        PERSON_CONFIRMED = "person_confirmed", _("The person, confirmed")
        PERSON_UNCONFIRMED = "person_unconfirmed", _("Someone giving the address, unconfirmed")
        STAFF = "staff", _("Staff")
        IMPORT = "import", _("Import")
        INTEGRATION = "integration", _("Integration")
        SYSTEM = "system", _("Scheduled job")

    Channel = Channel

    receipt_id = models.UUIDField(_("receipt id"), default=uuid.uuid4, unique=True, editable=False)
    contact = models.ForeignKey(
        "subjects.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="consent_events"
    )
    purpose = models.ForeignKey(
        Purpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="consent_events"
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    notice = models.ForeignKey(
        PrivacyNotice,
        verbose_name=_("privacy notice shown"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    wording = models.ForeignKey(
        ConsentWording,
        verbose_name=_("wording shown"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Evidence (Art. 7(1)): from where, with what, on which form or campaign, by whom.
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    reference = models.CharField(_("form or campaign reference"), max_length=200, blank=True)
    actor_kind = models.CharField(_("recorded by (kind)"), max_length=16)
    # Blank on events written before authority was recorded: consent.machine.authority_of
    # derives it from the channel.
    authority = models.CharField(
        _("authority"), max_length=20, choices=Authority.choices, blank=True, default="", db_default=""
    )
    # A staff user's primary key or an API client's id, as in the audit trail.
    actor_id = models.CharField(_("recorded by"), max_length=100, blank=True)

    objects = ConsentEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("consent event")
        verbose_name_plural = _("consent ledger")
        indexes = [
            # Replay of one person's history, the contact page, the access report.
            models.Index(fields=["contact", "purpose", "id"], name="consentevent_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise LedgerIsAppendOnly(_("Consent events cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise LedgerIsAppendOnly(_("Consent events cannot be deleted, except by erasure of the person."))


class ConsentState(models.Model):
    """The projection of the ledger: the state now, per contact and purpose.

    Written only by ``consent.services`` in the same transaction as the event
    it follows from, so it always equals the state replayed from the ledger.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting for confirmation")
        GRANTED = "granted", _("Given")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        EXPIRED = "expired", _("Expired")
        OBJECTED = "objected", _("Objected")
        OVERRIDDEN = "overridden", _("Objection overridden by compelling legitimate grounds")

    contact = models.ForeignKey(
        "subjects.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="consent_states"
    )
    purpose = models.ForeignKey(
        Purpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="consent_states"
    )
    state = models.CharField(_("state"), max_length=10, choices=State.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    changed_at = models.DateTimeField(_("changed"))
    last_event_id = models.BigIntegerField(_("last ledger event"))

    class Meta:
        verbose_name = _("consent state")
        verbose_name_plural = _("consent states")
        constraints = [
            # The one indexed lookup of consent_allowed and consent_allowed_emails.
            models.UniqueConstraint(
                fields=["contact", "purpose"], name="consentstate_contact_purpose_unique"
            ),
        ]
        indexes = [
            # The consent report counts per purpose and state.
            models.Index(fields=["purpose", "state"], name="consentstate_report_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.purpose_id}: {self.get_state_display()}"


class ConsentDecision(models.Model):
    """The decision of the consent check, stored: may this contact get this marketing purpose, and why.

    A projection of the ledger's states (``ConsentState``) and of every other fact the rules
    read (the kind and source of the address, a § 15(2) sale with its opt-out, the customer
    relationship, the suppression list, the purpose itself), written by
    ``consent.services.decisions_refresh`` in the same transaction as whatever changed one of
    them, so the batch and the single check are one indexed lookup. Marketing purposes only:
    for the others the state alone decides. ``basis`` empty: may not. A customer
    relationship (§ 15(2)) lasts until the contract ends (``until``), so the check reads the
    date; an Art. 18 restriction is read at check time (``registry.processing_blocked``).
    """

    contact = models.ForeignKey(
        "subjects.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    purpose = models.ForeignKey(
        Purpose, verbose_name=_("purpose"), on_delete=models.CASCADE, related_name="+"
    )
    # The contact's address, beside the decision: the batch check asks by address and reads this
    # table alone. Emptied with the basis, so a changed address is not kept here.
    email = models.CharField(_("address"), max_length=254, blank=True)
    basis = models.CharField(_("basis"), max_length=24, blank=True)
    until = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("consent decision")
        verbose_name_plural = _("consent decisions")
        constraints = [
            # The single check's lookup by (contact, purpose), and the refresh's upsert.
            models.UniqueConstraint(fields=["contact", "purpose"], name="consentdecision_contact_purpose"),
        ]
        indexes = [
            # The batch check (consent_clearance_rows): the cleared addresses of one purpose.
            models.Index(
                fields=["purpose", "email"], name="consentdecision_check_idx", condition=~Q(basis="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose_id}: {self.basis or '-'}"


class ConsentConfirmation(models.Model):
    """Double opt-in: a web sign-up counts only after the emailed link is followed."""

    contact = models.ForeignKey(
        "subjects.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    purpose = models.ForeignKey(
        Purpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="+"
    )
    token_digest = models.CharField(_("token digest"), max_length=64, unique=True)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    expired_at = models.DateTimeField(_("marked expired"), null=True, blank=True)

    class Meta:
        verbose_name = _("pending confirmation")
        verbose_name_plural = _("pending confirmations")
        indexes = [
            # The daily job that expires unconfirmed sign-ups.
            models.Index(
                fields=["expires_at"],
                name="confirmation_open_idx",
                condition=models.Q(confirmed_at__isnull=True, expired_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.purpose_id} {self.requested_at:%Y-%m-%d}"


class PendingSignup(models.Model):
    """A web sign-up waiting for its emailed confirmation; not a contact, not a consent (yet).

    Anyone can type an address into the public form, so what it says is kept apart from the
    register and the ledger: the address becomes a contact (provenance "web form") and the
    topics consents only when the link sent to that address is followed (double opt-in).
    Unconfirmed sign-ups are deleted when the confirmation window closes.
    """

    email = models.EmailField(_("address"), max_length=254)
    name = models.CharField(_("name"), max_length=200, blank=True)
    language = models.CharField(_("language"), max_length=2, default="nb")
    # [{"purpose": code, "wording": ConsentWording sha256}], in the order shown.
    topics = models.JSONField(_("topics"), default=list)
    notice = models.ForeignKey(
        PrivacyNotice, verbose_name=_("privacy notice shown"), on_delete=models.PROTECT, related_name="+"
    )
    # Evidence (Art. 7(1)) of the sign-up itself; the confirmation adds its own.
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    reference = models.CharField(_("form"), max_length=200, blank=True)
    token_digest = models.CharField(_("token digest"), max_length=64, unique=True)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("pending sign-up")
        verbose_name_plural = _("pending sign-ups")
        indexes = [
            # The daily job that deletes sign-ups nobody confirmed in time.
            models.Index(
                fields=["expires_at"], name="signup_open_idx", condition=models.Q(confirmed_at__isnull=True)
            ),
            # The portal shows a person's sign-ups still waiting.
            models.Index(fields=["email"], name="signup_email_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.requested_at:%Y-%m-%d}"


class CustomerAddressRecord(models.Model):
    """Marketing Control Act § 15(2): the address was obtained in a sale, with an opt-out offered.

    Without this record an existing customer can still only be marketed to
    with consent.
    """

    contact = models.OneToOneField(
        "subjects.Contact",
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        related_name="customer_address_record",
    )
    sale_reference = models.CharField(_("sale (order or contract number)"), max_length=100)
    obtained_at = models.DateTimeField(_("address obtained"))
    opt_out_offered = models.BooleanField(
        _("an easy, free opt-out was offered when the address was collected"), default=False
    )
    created_at = models.DateTimeField(_("recorded"), default=timezone.now)

    class Meta:
        verbose_name = _("address obtained in a sale")
        verbose_name_plural = _("addresses obtained in a sale")

    def __str__(self) -> str:
        return self.sale_reference


class MarketingClearance(models.Model):
    """Which basis cleared a contact for a marketing send (markedsføringsloven § 15; Art. 5(2)).

    Written by ``consent_clearances_record`` when a campaign asks who may
    receive it, so the company can later show why each person got it.
    """

    class Basis(models.TextChoices):
        CONSENT = "consent", _("Consent")
        CUSTOMER_RELATIONSHIP = "customer_relationship", _("Existing customer relationship (§ 15(2))")
        FUNCTIONAL_ADDRESS = "functional_address", _("A function's address")
        CONTRACT = "contract", _("Contract")
        LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")
        LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")

    contact = models.ForeignKey(
        "subjects.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    purpose = models.ForeignKey(
        Purpose, verbose_name=_("purpose"), on_delete=models.PROTECT, related_name="+"
    )
    basis = models.CharField(_("basis"), max_length=24, choices=Basis.choices)
    reference = models.CharField(_("campaign"), max_length=200)
    checked_at = models.DateTimeField(_("checked"), default=timezone.now)

    class Meta:
        verbose_name = _("marketing clearance")
        verbose_name_plural = _("marketing clearances")
        indexes = [
            # "Why did this campaign reach these people?": the admin filters by campaign.
            models.Index(fields=["reference", "purpose"], name="clearance_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference}: {self.basis}"


class NoticeNotification(models.Model):
    """One contact told about one material change of the notice (never twice: the unique pair)."""

    notice = models.ForeignKey(
        PrivacyNotice,
        verbose_name=_("privacy notice"),
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    contact = models.ForeignKey(
        "subjects.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    language = models.CharField(_("language"), max_length=2)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        verbose_name = _("notice sent")
        verbose_name_plural = _("notices sent")
        constraints = [
            models.UniqueConstraint(fields=["notice", "contact"], name="notification_once_per_contact"),
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} {self.sent_at:%Y-%m-%d}"


class InformationNotice(models.Model):
    """Art. 14: the notice to a person whose data we did not get from them, sent once."""

    contact = models.OneToOneField(
        "subjects.Contact", verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    notice = models.ForeignKey(
        PrivacyNotice, verbose_name=_("privacy notice"), on_delete=models.PROTECT, related_name="+"
    )
    language = models.CharField(_("language"), max_length=2)
    sent_at = models.DateTimeField(_("sent"), default=timezone.now)
    # Art. 14(3)(a): within one month of collection; a late notice is still sent, and marked.
    late = models.BooleanField(_("sent after the one-month limit"), default=False)

    class Meta:
        verbose_name = _("Art. 14 notice sent")
        verbose_name_plural = _("Art. 14 notices sent")

    def __str__(self) -> str:
        return f"{self.sent_at:%Y-%m-%d}"


class SuppressionEntry(models.Model):
    """An address that must never be subscribed again without a new, fresh consent.

    Holds only a keyed hash of the address (core.crypto.email_hash with purpose
    ``SUPPRESSION_PURPOSE``), so an opt-out or objection (Art. 21(3)) outlives
    the person's erasure (Art. 17) without keeping the address itself.
    """

    SUPPRESSION_PURPOSE = "suppression"

    class Reason(models.TextChoices):
        OPT_OUT = "opt_out", _("Unsubscribed from marketing")
        OBJECTION = "objection", _("Objected to processing")
        ERASURE = "erasure", _("Asked to be erased")

    email_hash = models.CharField(_("keyed hash of the address"), max_length=64, unique=True)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("suppression entry")
        verbose_name_plural = _("suppression list")

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.created_at:%Y-%m-%d}"
