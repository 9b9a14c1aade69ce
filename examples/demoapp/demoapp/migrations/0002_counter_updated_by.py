# Release 2.0.0's additive migration (examples/build.sh leaves it out of 1.x builds): a nullable column, so
# that 1.x, which does not know it, still runs on this schema after a rollback.
import os

from django.db import migrations, models


def fail_on_request(apps, schema_editor):
    # DEMOAPP_FAIL_MIGRATION=1 makes this migration fail, for the test of a failing release command
    if os.environ.get("DEMOAPP_FAIL_MIGRATION") == "1":
        raise RuntimeError("migration 0002 failed on request (DEMOAPP_FAIL_MIGRATION=1)")


class Migration(migrations.Migration):
    dependencies = [("demoapp", "0001_initial")]
    operations = [
        migrations.RunPython(fail_on_request, migrations.RunPython.noop),
        migrations.AddField(model_name="counter", name="updated_by",
                            field=models.CharField(blank=True, max_length=64, null=True)),
    ]
