"""Signals: receivers that run before and after a model's rows are saved, updated or deleted."""

import asyncio
import os
import tempfile
from typing import Any

import minorm

tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


class Article(minorm.Model):
    title: str = minorm.CharField(max_length=100)
    slug: str = minorm.CharField(max_length=100, default="")

    class Meta:
        registry = models


class AuditEntry(minorm.Model):
    action: str = minorm.CharField(max_length=20)
    title: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models


@minorm.pre_save(Article)  # a decorator per event; also takes a list of models
def fill_slug(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    if not instance.slug:
        instance.slug = instance.title.lower().replace(" ", "-")


@minorm.post_save(Article)
async def audit_save(
    sender: type[Article], instance: Article, created: bool, **kwargs: Any
) -> None:
    # Receivers run in the caller's task, so this insert joins the caller's transaction.
    await AuditEntry.query.create(action="created" if created else "saved", title=instance.title)


async def audit_delete(sender: type[Article], instance: Article, **kwargs: Any) -> None:
    await AuditEntry.query.create(action="deleted", title=instance.title)


Article.meta.signals.post_delete.connect(audit_delete)  # the same, without a decorator


async def main() -> None:
    async with database:
        await models.create_all()
        article = await Article.query.create(title="Hello World")
        print("slug:", article.slug)
        article.title = "Hello Again"
        await article.save()
        await article.delete()

        try:
            async with database.transaction():
                await Article.query.create(title="Never Published")
                raise RuntimeError("rolled back, audit entry included")
        except RuntimeError:
            pass
        log = await AuditEntry.query.order_by("id").values_list("action", flat=True)
        print("audit:", log)

        try:
            Article.meta.signals.post_save.connect(lambda sender: None)
        except minorm.ConfigurationError as exc:
            print("ConfigurationError:", str(exc).split(":")[0])
        await models.drop_all()


asyncio.run(main())

# expect: slug: hello-world
# expect: audit: ['created', 'saved', 'deleted']
# expect: ConfigurationError: Signal receiver main.<locals>.<lambda> must accept **kwargs
