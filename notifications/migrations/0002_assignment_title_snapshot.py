"""Assignment emails now keep the task's title, as deletion emails always did:
copy it into rows recorded before, while their tasks still exist."""

from django.db import migrations


def keep_titles(apps, schema_editor):
    Delivery = apps.get_model("notifications", "Delivery")
    Task = apps.get_model("tasks", "Task")
    rows = Delivery.objects.filter(kind="task_assigned")
    for delivery in rows.iterator(chunk_size=500):
        if "title" in delivery.context:
            continue
        task = Task.objects.filter(pk=delivery.context.get("task_id")).first()
        delivery.context["title"] = task.title if task else ""
        delivery.save(update_fields=["context"])


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("tasks", "0001_initial"),
    ]

    operations = [migrations.RunPython(keep_titles, migrations.RunPython.noop)]
