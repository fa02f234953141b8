"""Every field type: declare them, store a value of each, read it back unchanged."""

import asyncio
import datetime
import decimal
import enum
import ipaddress
import os
import tempfile
import uuid
from typing import Any

import minorm

tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


class Status(enum.Enum):
    DRAFT = "draft"
    PUBLISHED = "published"


class Product(minorm.Model):
    # Text
    name: str = minorm.CharField(max_length=100)  # VARCHAR(100); max_length is required
    description: str = minorm.TextField()  # TEXT
    contact: str = minorm.EmailField()  # VARCHAR(255), checked to look like an address
    homepage: str = minorm.URLField()  # VARCHAR(255), a valid URL stored as written
    secret_hash: str = minorm.PasswordField(secret=True)  # left out of model_dump()
    # Numbers
    stock: int = minorm.IntegerField(minimum=0)
    rank: int = minorm.SmallIntegerField()
    views: int = minorm.BigIntegerField()
    weight: float = minorm.FloatField()
    price: decimal.Decimal = minorm.DecimalField(max_digits=10, decimal_places=2)
    # Dates and times: DateTimeField is timezone-aware UTC
    released: datetime.date = minorm.DateField()
    restocked_at: datetime.datetime = minorm.DateTimeField()
    opens: datetime.time = minorm.TimeField()
    warranty: datetime.timedelta = minorm.DurationField()
    # Others
    available: bool = minorm.BooleanField(default=True)
    code: uuid.UUID = minorm.UUIDField(default=uuid.uuid4)
    attributes: Any = minorm.JSONField(default=dict)
    thumbnail: bytes = minorm.BinaryField()
    status: Status = minorm.ChoiceField(Status)  # a native ENUM where the database has one
    status_text: Status = minorm.CharChoiceField(Status)  # the member's name in a VARCHAR
    server: ipaddress.IPv4Address | ipaddress.IPv6Address = minorm.IPAddressField()
    # A plain annotation is a column too: nullable INTEGER here.
    discount: int | None = None

    class Meta:
        registry = models


VALUES: dict[str, Any] = {
    "name": "Kettle",
    "description": "Boils water. " * 3,
    "contact": "sales@example.com",
    "homepage": "https://example.com/kettle",
    "secret_hash": "pbkdf2$...",
    "stock": 12,
    "rank": 3,
    "views": 9_000_000_000,
    "weight": 1.25,
    "price": decimal.Decimal("39.90"),
    "released": datetime.date(2024, 2, 29),
    "restocked_at": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC),
    "opens": datetime.time(9, 30),
    "warranty": datetime.timedelta(days=730),
    "thumbnail": b"\x89PNG...",
    "attributes": {"colours": ["red", "steel"], "litres": 1.7},
    "status": Status.PUBLISHED,
    "status_text": Status.DRAFT,
    "server": ipaddress.ip_address("192.0.2.10"),
}


async def main() -> None:
    async with database:
        await models.create_all()
        created = await Product.query.create(**VALUES)
        loaded = await Product.query.get(pk=created.pk)
        for name, value in VALUES.items():
            assert getattr(loaded, name) == value, (name, getattr(loaded, name), value)
        assert loaded.available is True
        assert loaded.discount is None
        assert isinstance(loaded.code, uuid.UUID)
        print(f"{len(Product.meta.fields)} fields stored and read back unchanged")
        print("price:", loaded.price, "| status:", loaded.status, "| server:", loaded.server)
        print("secret_hash in model_dump():", "secret_hash" in loaded.model_dump())

        try:
            Product(**{**VALUES, "stock": -1})
        except minorm.ValidationError as exc:
            print("rejected:", exc)
        await models.drop_all()


asyncio.run(main())

# expect: 23 fields stored and read back unchanged
# expect: price: 39.90 | status: Status.PUBLISHED | server: 192.0.2.10
# expect: secret_hash in model_dump(): False
# expect: rejected: Product: 1 invalid field(s): stock: Input should be greater than or equal to 0
