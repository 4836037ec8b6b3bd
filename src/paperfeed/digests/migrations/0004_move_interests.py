from django.db import migrations

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
    Interests row: its member's, or (anonymous subscriber) its own. Nothing is dropped. Every query names the
    database being migrated (`paperfeed copy-site` migrates a second one in the same process)."""
    db = schema_editor.connection.alias
    Subscription = apps.get_model("digests", "Subscription")
    Interests = apps.get_model("community", "Interests")
    authors = Subscription.authors.through.objects.using(db)
    organizations = Subscription.organizations.through.objects.using(db)
    for subscriptions in _chunks(Subscription.objects.using(db)):
        interests = Interests.objects.using(db).bulk_create(
            Interests(user_id=s.user_id, **{f: getattr(s, f) for f in MOVED}) for s in subscriptions
        )
        made = {}
        for subscription, own in zip(subscriptions, interests, strict=True):
            subscription.interests_id = made[subscription.pk] = own.pk
        Subscription.objects.using(db).bulk_update(subscriptions, ["interests"])
        ids = list(made)
        Interests.authors.through.objects.using(db).bulk_create(
            Interests.authors.through(interests_id=made[sid], author_id=aid)
            for sid, aid in authors.filter(subscription_id__in=ids).values_list("subscription_id", "author_id")
        )
        Interests.organizations.through.objects.using(db).bulk_create(
            Interests.organizations.through(interests_id=made[sid], organization_id=oid)
            for sid, oid in organizations.filter(subscription_id__in=ids).values_list(
                "subscription_id", "organization_id"
            )
        )


def to_subscriptions(apps, schema_editor):
    """Back: each subscription takes its interests' fields again (a member's interests without a digest stay
    behind in community's table, which community 0004 reversed drops)."""
    db = schema_editor.connection.alias
    Subscription = apps.get_model("digests", "Subscription")
    Interests = apps.get_model("community", "Interests")
    author_links = Subscription.authors.through.objects.using(db)
    organization_links = Subscription.organizations.through.objects.using(db)
    for subscriptions in _chunks(Subscription.objects.using(db).select_related("interests")):
        for subscription in subscriptions:
            interests = subscription.interests
            for f in MOVED:
                setattr(subscription, f, getattr(interests, f))
            subscription.save(using=db, update_fields=list(MOVED))
            author_links.filter(subscription_id=subscription.pk).delete()
            author_links.bulk_create(
                Subscription.authors.through(subscription_id=subscription.pk, author_id=aid)
                for aid in Interests.authors.through.objects.using(db)
                .filter(interests_id=interests.pk)
                .values_list("author_id", flat=True)
            )
            organization_links.filter(subscription_id=subscription.pk).delete()
            organization_links.bulk_create(
                Subscription.organizations.through(subscription_id=subscription.pk, organization_id=oid)
                for oid in Interests.organizations.through.objects.using(db)
                .filter(interests_id=interests.pk)
                .values_list("organization_id", flat=True)
            )


class Migration(migrations.Migration):
    """Every subscription's interests move to community.Interests (0003 made the link, 0005 drops the old
    columns)."""

    dependencies = [("digests", "0003_subscription_interests")]

    operations = [migrations.RunPython(to_interests, to_subscriptions, elidable=False)]
