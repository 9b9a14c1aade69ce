"""The one table of the example: named counters, kept in PostgreSQL (with DEMOAPP_DATABASE)."""

from django.db import models

from demoapp._version import VERSION

# The schema grows with the release (expand/contract): 2.0.0 adds a nullable column, so 1.x still runs
# on the 2.x schema and a rollback needs no migration back.
SCHEMA = 2 if int(VERSION.split(".", 1)[0]) >= 2 else 1


class Counter(models.Model):
    name = models.CharField(max_length=64, primary_key=True)
    value = models.BigIntegerField(default=0)
    if SCHEMA >= 2:
        updated_by = models.CharField(max_length=64, null=True, blank=True)

    class Meta:
        app_label = "demoapp"
