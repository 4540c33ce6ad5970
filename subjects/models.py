"""The register: organisations we deal with and the people who represent them.

The privacy policy (Hvilken type personopplysninger samles inn?) names what we
collect: name, phone, job title and email, the company's name and contact
details, feedback and questions from meetings, calls, documents and email, IP
addresses and actions on the website, and what job applicants give us.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.functional import LazyObject
from django.utils.translation import gettext_lazy as _

from core.validators import validate_org_number, validate_phone


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    # Nine digits with a modulus-11 check digit; blank for foreign companies.
    org_number = models.CharField(
        _("organisation number"), max_length=9, blank=True, validators=[validate_org_number]
    )
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=10, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, default="NO")
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    email = models.EmailField(_("email"), blank=True)
    website = models.URLField(_("website"), blank=True)
    is_customer = models.BooleanField(_("customer"), default=False)
    is_supplier = models.BooleanField(_("supplier"), default=False)
    is_partner = models.BooleanField(_("partner"), default=False)
    is_prospect = models.BooleanField(_("prospect"), default=False)
    # Retention leaves the contacts of an active customer alone; the contract is
    # active while this is empty or not yet past (retention.selectors).
    customer_contract_ends = models.DateField(_("customer contract ends"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        constraints = [
            models.UniqueConstraint(
                fields=["org_number"],
                condition=~models.Q(org_number=""),
                name="organisation_org_number_unique",
                violation_error_message=_("An organisation with this number is already registered."),
            ),
        ]
        indexes = [models.Index(fields=["name"], name="organisation_name_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def relationships(self) -> list[str]:
        labels = [
            (self.is_customer, _("customer")),
            (self.is_supplier, _("supplier")),
            (self.is_partner, _("partner")),
            (self.is_prospect, _("prospect")),
        ]
        return [str(label) for on, label in labels if on]


class Contact(models.Model):
    class EmailKind(models.TextChoices):
        # Marketing Control Act § 15 protects a named person's address; a
        # function's address (post@firma.no) falls outside it.
        PERSONAL = "personal", _("A named person's address")
        FUNCTIONAL = "functional", _("A function's address")

    class Language(models.TextChoices):
        NB = "nb", _("Norwegian Bokmål")
        EN = "en", _("English")

    class SourceType(models.TextChoices):
        # The policy's list (Når samler vi inn personopplysninger om deg?).
        GIVEN_DIRECTLY = "given_directly", _("Given directly by the person")
        PRODUCT_USE = "product_use", _("Use of our products")
        CORRESPONDENCE = "correspondence", _("Correspondence")
        PHONE = "phone", _("Phone")
        SOCIAL_MEDIA = "social_media", _("Social media")
        WEB_FORM = "web_form", _("Web form")
        DATA_COLLECTOR = "data_collector", _("Third-party data collector")
        MARKETING_PARTNER = "marketing_partner", _("Marketing partner")
        PUBLIC_SOURCE = "public_source", _("Public source")
        SOCIAL_NETWORK = "social_network", _("Social network")

    # Sources where we did not get the data from the person: Art. 14 applies,
    # and marketing needs the source to attest the person's consent to sharing.
    THIRD_PARTY_SOURCES = frozenset(
        {
            SourceType.DATA_COLLECTOR,
            SourceType.MARKETING_PARTNER,
            SourceType.PUBLIC_SOURCE,
            SourceType.SOCIAL_NETWORK,
        }
    )

    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("email"), max_length=254)
    email_kind = models.CharField(
        _("kind of address"), max_length=12, choices=EmailKind.choices, default=EmailKind.PERSONAL
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contacts",
    )
    language = models.CharField(
        _("preferred language"), max_length=2, choices=Language.choices, default=Language.NB
    )
    source_type = models.CharField(_("source type"), max_length=20, choices=SourceType.choices)
    source_name = models.CharField(_("source"), max_length=200, blank=True)
    collected_at = models.DateTimeField(_("collected"), default=timezone.now)
    source_attests_consent = models.BooleanField(
        _("source attests consent to sharing"),
        default=False,
        help_text=_("The source confirms the person agreed that it may share their data with us."),
    )
    last_interaction_at = models.DateTimeField(_("last interaction"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="contact_email_unique_ci",
                violation_error_message=_("A contact with this email address already exists."),
            ),
        ]
        indexes = [
            # Looked up by email on every request, consent check and import.
            models.Index(fields=["email"], name="contact_email_idx"),
            models.Index(fields=["name"], name="contact_name_idx"),
            # Retention measures contacts from their last interaction.
            models.Index(fields=["last_interaction_at"], name="contact_last_interaction_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def collected_from_third_party(self) -> bool:
        return self.source_type in self.THIRD_PARTY_SOURCES


class Interaction(models.Model):
    class Kind(models.TextChoices):
        MEETING = "meeting", _("Meeting")
        CALL = "call", _("Phone call")
        EMAIL = "email", _("Email")
        DOCUMENT = "document", _("Document")
        SUPPORT = "support", _("Support case")
        FEEDBACK = "feedback", _("Feedback")
        WEB_FORM = "web_form", _("Web form")

    # Nullable: erasure and retention anonymise an interaction (Art. 17, and the
    # policy's "statistikk ... anonymisert") by cutting it from the person, so
    # counts per kind and month survive.
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="interactions",
        db_index=False,  # interaction_contact_when_idx below serves every lookup by contact
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"))
    summary = models.CharField(_("summary"), max_length=500, blank=True)
    staff_member = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # interaction_staff_member_idx below
    )

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        # Partial: an anonymised interaction (no contact, no staff member) is in no index
        # but the primary key, so anonymising a person's 10,000 interactions writes 10,000
        # index entries, not 40,000 (the erasure benchmark, issue 8).
        indexes = [
            # The contact page and the access report (newest first), the removal engine and
            # the sweep (by contact), and the foreign key's own check when a contact goes.
            models.Index(
                fields=["contact", "-occurred_at"],
                name="interaction_contact_when_idx",
                condition=Q(contact__isnull=False),
            ),
            # A staff account removed: its interactions lose the link (SET_NULL).
            models.Index(
                fields=["staff_member"],
                name="interaction_staff_member_idx",
                condition=Q(staff_member__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class PrivateStorage(LazyObject):
    """Storage outside every served folder: nothing here has a public URL."""

    def _setup(self) -> None:
        self._wrapped = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


private_storage = PrivateStorage()


def get_private_storage() -> PrivateStorage:
    # A callable, so migrations name this function instead of freezing the
    # folder of the machine that ran makemigrations.
    return private_storage


class JobApplication(models.Model):
    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        IN_REVIEW = "in_review", _("In review")
        INTERVIEW = "interview", _("Interview")
        OFFERED = "offered", _("Offered")
        HIRED = "hired", _("Hired")
        REJECTED = "rejected", _("Rejected")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    DECIDED = frozenset({Status.HIRED, Status.REJECTED, Status.WITHDRAWN})

    name = models.CharField(_("applicant's name"), max_length=200)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[validate_phone])
    position = models.CharField(_("position"), max_length=200)
    submitted_at = models.DateTimeField(_("submitted"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.RECEIVED)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at"]
        verbose_name = _("job application")
        verbose_name_plural = _("job applications")
        indexes = [
            models.Index(fields=["email"], name="application_email_idx"),
            # Retention counts from the decision.
            models.Index(fields=["decided_at"], name="application_decided_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(decided_at__isnull=True)
                | models.Q(status__in=["hired", "rejected", "withdrawn"]),
                name="application_decided_only_when_decided",
                violation_error_message=_("Only a decided application has a decision date."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position} ({self.submitted_at:%Y-%m-%d})"


def application_document_path(instance: ApplicationDocument, filename: str) -> str:
    # The stored name carries no part of the applicant's own file name.
    suffix = filename.rsplit(".", 1)[-1].lower()[:8] if "." in filename else "bin"
    return f"applications/{instance.application_id}/{timezone.now():%Y%m%d%H%M%S%f}.{suffix}"


class ApplicationDocument(models.Model):
    application = models.ForeignKey(
        JobApplication,
        verbose_name=_("job application"),
        on_delete=models.CASCADE,
        related_name="documents",
    )
    file = models.FileField(_("file"), storage=get_private_storage, upload_to=application_document_path)
    title = models.CharField(_("title"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now)

    class Meta:
        ordering = ["uploaded_at"]
        verbose_name = _("application document")
        verbose_name_plural = _("application documents")

    def __str__(self) -> str:
        return self.title or str(_("Document"))


class WebVisit(models.Model):
    """A page view on the company's website (Bruken av informasjonskapsler)."""

    ip_address = models.GenericIPAddressField(_("IP address"))
    user_agent = models.CharField(_("browser"), max_length=500, blank=True)
    path = models.CharField(_("page"), max_length=500)
    referrer = models.CharField(_("referring page"), max_length=500, blank=True)
    visited_at = models.DateTimeField(_("when"), default=timezone.now)
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="web_visits",
    )

    class Meta:
        ordering = ["-visited_at"]
        verbose_name = _("web visit")
        verbose_name_plural = _("web visits")
        indexes = [models.Index(fields=["visited_at"], name="webvisit_visited_idx")]

    def __str__(self) -> str:
        return f"{self.path} {self.visited_at:%Y-%m-%d %H:%M}"
