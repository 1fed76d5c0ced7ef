# DRF's authtoken kept every API token in plain text. Tokens are now ApiToken (only the
# SHA-256 of the key is stored) and rest_framework.authtoken is no longer installed, so its
# table would only keep old, unusable, readable keys: dropped.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_apitoken"),
    ]

    operations = [
        migrations.RunSQL("DROP TABLE IF EXISTS authtoken_token", reverse_sql=migrations.RunSQL.noop),
    ]
