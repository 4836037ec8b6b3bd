import django.db.models.deletion
from django.db import migrations, models

CHUNK = 500
MOVED = ("categories", "saved_searches", "include_keywords", "exclude_keywords")


def _chunks(queryset):
    last = 0
    while True:
        rows = list(queryset.filter(pk__gt=last).order_by("pk")[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1].pk


def to_interests(apps, schema_editor):
    """Each subscription's categories, saved searches, keywords and followed authors and organizations become an
    Interests row: its member's, or (anonymous subscriber) its own. Nothing is dropped."""
    Subscription = apps.get_model("digests", "Subscription")
    Interests = apps.get_model("community", "Interests")
    authors = Subscription.authors.through
    organizations = Subscription.organizations.through
    for subscriptions in _chunks(Subscription.objects.all()):
        interests = Interests.objects.bulk_create(
            Interests(user_id=s.user_id, **{f: getattr(s, f) for f in MOVED}) for s in subscriptions
        )
        made = {}
        for subscription, own in zip(subscriptions, interests, strict=True):
            subscription.interests_id = made[subscription.pk] = own.pk
        Subscription.objects.bulk_update(subscriptions, ["interests"])
        ids = list(made)
        Interests.authors.through.objects.bulk_create(
            Interests.authors.through(interests_id=made[sid], author_id=aid)
            for sid, aid in authors.objects.filter(subscription_id__in=ids).values_list("subscription_id", "author_id")
        )
        Interests.organizations.through.objects.bulk_create(
            Interests.organizations.through(interests_id=made[sid], organization_id=oid)
            for sid, oid in organizations.objects.filter(subscription_id__in=ids).values_list(
                "subscription_id", "organization_id"
            )
        )


def to_subscriptions(apps, schema_editor):
    """Back: each subscription takes its interests' fields again (a member's interests without a digest stay
    behind in community's table, which community 0004 reversed drops)."""
    Subscription = apps.get_model("digests", "Subscription")
    Interests = apps.get_model("community", "Interests")
    for subscriptions in _chunks(Subscription.objects.select_related("interests")):
        for subscription in subscriptions:
            interests = subscription.interests
            for f in MOVED:
                setattr(subscription, f, getattr(interests, f))
            subscription.save(update_fields=list(MOVED))
            subscription.authors.set(Interests.authors.through.objects.filter(interests_id=interests.pk).values_list(
                "author_id", flat=True))
            subscription.organizations.set(
                Interests.organizations.through.objects.filter(interests_id=interests.pk).values_list(
                    "organization_id", flat=True
                )
            )


class Migration(migrations.Migration):
    """A subscription brings someone's interests (community.Interests) instead of holding them."""

    dependencies = [("digests", "0002_delivery_papers"), ("community", "0004_interests")]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="interests",
            field=models.OneToOneField(
                null=True,
                help_text="What the digest brings: its member's interests, or the anonymous subscriber's own.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="subscription",
                to="community.interests",
            ),
        ),
        migrations.RunPython(to_interests, to_subscriptions, elidable=False),
        migrations.RemoveField(model_name="subscription", name="authors"),
        migrations.RemoveField(model_name="subscription", name="organizations"),
        migrations.RemoveField(model_name="subscription", name="categories"),
        migrations.RemoveField(model_name="subscription", name="saved_searches"),
        migrations.RemoveField(model_name="subscription", name="include_keywords"),
        migrations.RemoveField(model_name="subscription", name="exclude_keywords"),
        migrations.AlterField(
            model_name="subscription",
            name="interests",
            field=models.OneToOneField(
                help_text="What the digest brings: its member's interests, or the anonymous subscriber's own.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="subscription",
                to="community.interests",
            ),
        ),
    ]
