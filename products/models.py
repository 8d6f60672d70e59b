"""Products listed at their home exchange (一地上架).

The descriptor (the standard's JSON document) is the product's content; the columns beside it are copies of
descriptor fields that queries filter on, written by the services from the validated descriptor.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.fields import JSONField


class ProductStatus(models.TextChoices):
    DRAFT = "draft", "草稿 Draft"
    SUBMITTED = "submitted", "待审核 Submitted"
    LISTED = "listed", "已上架 Listed"
    REJECTED = "rejected", "已驳回 Rejected"
    SUSPENDED = "suspended", "已暂停 Suspended"
    DELISTED = "delisted", "已下架 Delisted"


class Product(models.Model):
    code = models.CharField(max_length=40, help_text="Global product code, e.g. SHDEX-2026-000123-M.")
    exchange = models.ForeignKey(
        "exchanges.Exchange",
        on_delete=models.PROTECT,
        related_name="products",
        db_index=False,
        help_text="Home (origin) exchange: the only one that changes this product.",
    )
    version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=ProductStatus.choices, default=ProductStatus.DRAFT)
    descriptor = JSONField()
    descriptor_version = models.CharField(max_length=8)

    name = models.CharField(max_length=80)
    provider_name = models.CharField(max_length=120)
    provider_uscc = models.CharField(max_length=18)
    product_form = models.CharField(max_length=16)
    industry = models.CharField(max_length=1)
    update_frequency = models.CharField(max_length=16)
    data_level = models.CharField(
        max_length=16,
        default="",
        db_default="",
        blank=True,
        help_text="classification.level of a 1.1 descriptor: general, important, core; empty if undeclared.",
    )
    quality_grade = models.CharField(
        max_length=1,
        default="",
        db_default="",
        blank=True,
        help_text=(
            "The best grade among this product's valid quality reports (A best); empty if none. Kept by the "
            "quality app (quality.services.grades_refresh) for the search filters quality_grade and assessed."
        ),
    )
    price_min = models.DecimalField(max_digits=14, decimal_places=2)
    price_max = models.DecimalField(max_digits=14, decimal_places=2)
    # The descriptor's lists as bit masks (products/columns.py: DELIVERY_BITS, PROVINCE_BITS), so the facets
    # count them from the row (from the covering index `product_facets`), with no join and no JSON read.
    delivery_mask = models.IntegerField(
        default=0,
        db_default=0,
        editable=False,
        help_text="The delivery methods listed: bit i is DELIVERY_BITS[i].",
    )
    province_mask = models.BigIntegerField(
        default=0,
        db_default=0,
        editable=False,
        help_text="The province-level units (and 100000) of the spatial coverage: bit i is PROVINCE_BITS[i].",
    )

    # The spatial coverage's GB/T 2260 codes, space separated (products/columns.py): on PostgreSQL a GIN index
    # on their array (`products_product_regions`, migration 0013) lets the region filter join the full-text
    # match in one bitmap, instead of a join to ProductRegion per candidate row (docs/performance.md).
    region_codes = models.TextField(
        blank=True,
        default="",
        db_default="",
        editable=False,
        help_text="The GB/T 2260 codes of the spatial coverage, space separated.",
    )
    # This node's automatic verdict (standards.recognition, the version it computes): what every exchange that
    # publishes no exception decides of this product (products.verdicts assembles each exchange's verdict).
    verdict = models.CharField(
        max_length=12,
        default="",
        db_default="",
        blank=True,
        help_text="The automatic recognition check's status (recognised, pending, refused); empty: none.",
    )
    verdict_reasons = JSONField(default=list, blank=True, help_text="The automatic check's reasons.")

    # jieba-segmented text, space separated: the full-text index (tsvector on PostgreSQL, FTS5 on SQLite)
    # is built from these three columns by the database, see products/search.py.
    is_home = models.BooleanField(
        default=True,
        help_text="This node is the product's home; false for replicas of other exchanges' products.",
    )
    provider_hold = models.BooleanField(
        default=False,
        db_default=False,
        help_text=(
            "Suspended by this exchange because its provider's registration lost its standing (suspended or "
            "revoked at its home exchange); listed again automatically when the provider is verified again."
        ),
    )
    search_name = models.TextField(default="", editable=False)
    search_keywords = models.TextField(default="", editable=False)
    search_body = models.TextField(default="", editable=False)

    findings = JSONField(
        default=list, blank=True, help_text="Automatic compliance findings of the last submit."
    )
    status_reasons = JSONField(
        default=list, blank=True, help_text="Reasons of the last rejection, suspension or delisting."
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    listed_at = models.DateTimeField(null=True, blank=True, help_text="When it was first listed.")
    delisted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        # Every index costs import throughput (bench/import_products.py), so each one here serves a query:
        # unique constraints instead of unique=True avoid PostgreSQL's extra varchar_pattern_ops indexes.
        constraints = [
            models.UniqueConstraint(fields=["code"], name="product_code_unique"),
            models.UniqueConstraint(
                fields=["exchange", "provider_uscc", "name"],
                # Only the home node enforces it: a replica that is behind may see two renames in an order
                # in which two names briefly coincide, and must still apply both.
                condition=~Q(status="delisted") & Q(is_home=True),
                name="product_name_unique_per_provider",
            ),
            models.CheckConstraint(
                condition=Q(price_min__lte=models.F("price_max")), name="product_price_order"
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="product_version_positive"),
        ]
        indexes = [
            models.Index(fields=["exchange", "status"], name="product_exchange_status"),
            models.Index(fields=["provider_uscc"], name="product_provider"),
            # Every column a facet reads (products/facets.py), so counting the facets of a filter on status
            # and these columns is one index-only scan; its first two columns serve the industry filter.
            models.Index(
                fields=[
                    "status",
                    "industry",
                    "product_form",
                    "exchange",
                    "data_level",
                    "quality_grade",
                    "update_frequency",
                    "price_min",
                    "delivery_mask",
                    "province_mask",
                ],
                name="product_facets",
            ),
            # CKAN's package_search without q: newest modified first (`metadata_modified desc`).
            models.Index(fields=["status", "updated_at"], name="product_status_updated"),
            models.Index(fields=["status", "product_form"], name="product_status_form"),
            models.Index(fields=["status", "data_level"], name="product_status_level"),
            models.Index(fields=["status", "quality_grade"], name="product_status_quality"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ProductRegion(models.Model):
    """One GB/T 2260 code of a product's spatial coverage, so region filters use an index."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="regions", db_index=False)
    code = models.CharField(max_length=6)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "code"], name="product_region_unique")]
        indexes = [models.Index(fields=["code", "product"], name="product_region_code")]

    def __str__(self) -> str:
        return f"{self.product_id}:{self.code}"


class ProductVersion(models.Model):
    """The product as it was at each version: the readable history of every change."""

    class Change(models.TextChoices):
        CREATED = "created", "创建 Created"
        IMPORTED = "imported", "批量导入 Imported"
        REPLICATED = "replicated", "同步自所属交易所 Replicated from its home exchange"
        UPDATED = "updated", "修改 Updated"
        SUBMITTED = "submitted", "提交审核 Submitted"
        WITHDRAWN = "withdrawn", "撤回 Withdrawn"
        LISTED = "listed", "上架 Listed"
        REJECTED = "rejected", "驳回 Rejected"
        SUSPENDED = "suspended", "暂停 Suspended"
        REINSTATED = "reinstated", "恢复 Reinstated"
        DELISTED = "delisted", "下架 Delisted"

    class ActorKind(models.TextChoices):
        """Who made a change, as far as a reader may know: never which login (`actor` says that)."""

        OPERATOR = "operator", "交易所运营人员 An operator of the product's exchange, or the node's admin"
        PROVIDER = "provider", "提供方 The provider itself (a data merchant's user)"
        NODE = "node", "节点 The node itself (an import or command, following the provider's standing)"
        REPLICATED = "replicated", "同步 Replicated from the product's home exchange"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="versions", db_index=False)
    version = models.PositiveIntegerField()
    change = models.CharField(max_length=16, choices=Change.choices)
    status = models.CharField(max_length=16, choices=ProductStatus.choices)
    descriptor = JSONField()
    reasons = JSONField(default=list, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )  # users are deactivated, not deleted
    # The kind of actor, recorded with the change: a participant acting at a node that is not its home has no
    # user row here (`actor` is null), and a user deleted later would otherwise read as the node.
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["product", "version"]
        constraints = [models.UniqueConstraint(fields=["product", "version"], name="product_version_unique")]

    def __str__(self) -> str:
        return f"{self.product_id} v{self.version} {self.change}"


class CodeCounter(models.Model):
    """Per-origin, per-year serial for global product codes. Only the origin allocates, so no coordination."""

    origin = models.CharField(max_length=8)
    year = models.PositiveSmallIntegerField()
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["origin", "year"], name="code_counter_unique")]

    def __str__(self) -> str:
        return f"{self.origin}-{self.year}: {self.last_serial}"


class RecognitionStatus(models.TextChoices):
    RECOGNISED = "recognised", "已互认 Recognised"
    PENDING = "pending", "待复核 Pending review"
    REFUSED = "refused", "不予互认 Refused"


class Recognition(models.Model):
    """Whether one exchange recognises one product (互认). Owned by the recognising exchange's node and
    replicated like any record, so every node can show every exchange's verdict."""

    class DecidedBy(models.TextChoices):
        HOME = "home", "Listed by its home exchange"
        AUTO = "auto", "Automatic check against the common standard"
        OPERATOR = "operator", "Operator review"

    product_code = models.CharField(
        max_length=40, help_text="Global code of the product (it may arrive later)."
    )
    exchange = models.ForeignKey(
        "exchanges.Exchange", on_delete=models.PROTECT, related_name="recognitions", db_index=False
    )
    status = models.CharField(max_length=12, choices=RecognitionStatus.choices)
    reasons = JSONField(default=list, blank=True)
    product_version = models.PositiveIntegerField(help_text="The product version this decision was made on.")
    decided_by = models.CharField(max_length=10, choices=DecidedBy.choices)
    policy_version = models.CharField(max_length=8, default="1.0")
    version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    published = models.BooleanField(
        default=True,
        db_default=True,
        help_text=(
            "In the change log: every record held from a peer; of this node's own, those it published "
            "(recognition protocol 2 publishes only exceptions: products.recognition). Once published, "
            "always published, so peers hold its latest."
        ),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["product_code", "exchange"], name="recognition_product_exchange"),
        ]
        indexes = [
            models.Index(fields=["exchange", "status", "product_code"], name="recognition_by_exchange")
        ]

    computed = False  # a record of the exchange (products.verdicts.Verdict: one this node computed)

    def __str__(self) -> str:
        return f"{self.exchange_id} {self.status} {self.product_code}"

    @property
    def gid(self) -> str:
        return f"{self.product_code}@{self.exchange_id}"


# A recognition row as `core.bulk.copy_rows` writes it (applying a feed).
RECOGNITION_COLUMNS = (
    "product_code",
    "exchange_id",
    "status",
    "reasons",
    "product_version",
    "decided_by",
    "policy_version",
    "version",
    "updated_at",
    "published",
)


class ProductSample(models.Model):
    """A sample file the provider uploaded to the product's home node (CSV or JSON lines), kept parsed for
    its machine profile (docs/standards/quality-profile.md). Never replicated: peers get the profile only."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        JSONL = "jsonl", "JSON lines"

    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="sample_file")
    format = models.CharField(max_length=8, choices=Format.choices)
    records = JSONField(help_text="The parsed rows: objects of field name to value (CSV cells are text).")
    rows = models.PositiveIntegerField()
    size = models.PositiveIntegerField(help_text="The file's size in bytes.")
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField()
    uploaded_by_kind = models.CharField(max_length=16, help_text="ProductVersion.ActorKind of the uploader.")

    def __str__(self) -> str:
        return f"{self.product_id} {self.format} {self.rows} rows"


class ProductProfile(models.Model):
    """The machine profile of a product's sample, computed by the product's home node and replicated to every
    node (record type `product_profile`); `profile` null: the product no longer has a profiled sample."""

    product_code = models.CharField(max_length=40, unique=True)
    origin = models.CharField(max_length=8, help_text="The product's home exchange, which computes it.")
    version = models.PositiveIntegerField(default=1)
    profile = JSONField(null=True, blank=True)
    public = models.BooleanField(
        default=True, help_text="Published: the product was public (drafts' profiles stay at home)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.product_code} profile v{self.version}"


class FacetRollup(models.Model):
    """Products per status and combination of one facet group's values (`grp`: products/facets.py's groups;
    the other groups' columns NULL), kept by PostgreSQL triggers on the products table (migration 0014): every
    statement that writes products inserts its changes' counts (+ for the rows as written, − for the rows as
    they were) in its own transaction, so the sum of `n` over a status is the count of the products of that
    status, exactly, in any snapshot. `products.facet_rollup.rollup_compact` folds the rows together.
    Unused on SQLite (docs/performance.md, *Facet counts of the broadest selections*)."""

    id = models.BigAutoField(primary_key=True)  # every fold inserts its rows anew
    grp = models.SmallIntegerField()
    status = models.CharField(max_length=16)
    industry = models.CharField(max_length=1, null=True)  # noqa: DJ001 (NULL: another group's)
    product_form = models.CharField(max_length=16, null=True)  # noqa: DJ001 (NULL: another group's)
    data_level = models.CharField(max_length=16, null=True)  # noqa: DJ001 (NULL: another group's)
    quality_grade = models.CharField(max_length=1, null=True)  # noqa: DJ001 (NULL: another group's)
    update_frequency = models.CharField(max_length=16, null=True)  # noqa: DJ001 (NULL: another group's)
    exchange_id = models.CharField(max_length=8, null=True)  # noqa: DJ001 (NULL: another group's)
    price_band = models.CharField(max_length=16, null=True)  # noqa: DJ001 (NULL: another group's)
    province_mask = models.BigIntegerField(null=True)
    delivery_mask = models.IntegerField(null=True)
    n = models.BigIntegerField()

    def __str__(self) -> str:
        return f"{self.status} group {self.grp}: {self.n}"
