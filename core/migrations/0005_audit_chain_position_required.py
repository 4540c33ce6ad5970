from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("core", "0004_fill_audit_chain_and_allow_forgetting_addresses")]
    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=models.BigIntegerField(editable=False, unique=True, verbose_name="position in the chain"),
        ),
    ]
