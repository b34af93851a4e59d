"""Project membership: a project's members see all its tasks. Nobody loses
sight of a task: each project starts with everyone assigned to one of its
tasks as a member."""

from django.conf import settings
from django.db import migrations, models


def members_from_assignments(apps, schema_editor) -> None:
    Project = apps.get_model("tasks", "Project")
    Assignment = apps.get_model("tasks", "Task").assigned_to.through
    Membership = Project.members.through
    pairs = (
        Assignment.objects.values_list("task__project_id", "user_id")
        .order_by()
        .distinct()
    )
    Membership.objects.bulk_create(
        [Membership(project_id=project, user_id=user) for project, user in pairs],
        ignore_conflicts=True,
        batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ("tasks", "0003_watchers_and_mentions"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="members",
            field=models.ManyToManyField(
                blank=True, related_name="projects", to=settings.AUTH_USER_MODEL
            ),
        ),
        migrations.RunPython(members_from_assignments, migrations.RunPython.noop),
    ]
