"""What `manage.py harvest` keeps between runs (docs/interop.md, *Harvesting*): each catalog harvested from,
and each of its records with the draft product it became, so a re-run updates instead of duplicating."""

from django.db import models


class HarvestSource(models.Model):
    """A catalog harvested from: a CKAN site's Action API or a DCAT catalog (a URL or a file)."""

    class Format(models.TextChoices):
        CKAN = "ckan", "CKAN Action API"
        DCAT = "dcat", "DCAT catalog"

    url = models.CharField(max_length=2000, unique=True)
    format = models.CharField(max_length=8, choices=Format.choices)
    exchange = models.ForeignKey("exchanges.Exchange", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_run_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.url


class HarvestRecord(models.Model):
    """One record of a source: its identifier there, the descriptor mapped from it, what the descriptor
    standard still needs (`errors`, empty once a draft product was made), that product, and the usage policy
    the source offers."""

    source = models.ForeignKey(HarvestSource, on_delete=models.CASCADE, related_name="records")
    identifier = models.CharField(max_length=500)
    source_modified = models.CharField(max_length=64, blank=True, default="")
    product = models.ForeignKey(
        "products.Product", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    descriptor = models.JSONField(default=dict)
    errors = models.JSONField(default=list)
    usage_policy = models.JSONField(
        null=True,
        blank=True,
        help_text=(
            "The usage policy the source offers (a DCAT record's ODRL offer, read back by the usage policy "
            "standard); null when it states none the standard can hold. A product holds no policy of its "
            "own: kept for the operators, who set the offer of each deal."
        ),
    )
    harvested_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "identifier"], name="harvest_record_source_id_unique")
        ]

    def __str__(self) -> str:
        return f"{self.identifier} ({self.source})"
