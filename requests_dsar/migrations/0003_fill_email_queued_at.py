"""Emails written before the outbox were queued when they were sent."""

from django.db import migrations
from django.db.models import F


def fill(apps, schema_editor):
    RequestEmail = apps.get_model("requests_dsar", "RequestEmail")
    RequestEmail.objects.exclude(sent_at=None).update(queued_at=F("sent_at"))


class Migration(migrations.Migration):
    dependencies = [("requests_dsar", "0002_email_outbox_delivery_status")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
