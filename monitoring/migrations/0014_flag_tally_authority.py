import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("licenses", "0020_overdue_count_index"),
        ("monitoring", "0013_approval_months"),
    ]

    operations = [
        migrations.AddField(
            model_name="flagtally",
            name="authority",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="licenses.authority",
            ),
        ),
    ]
