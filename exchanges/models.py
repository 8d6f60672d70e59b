from django.db import models


class Exchange(models.Model):
    """A member of the Data Exchange Mutual Recognition Initiative (数据交易机构互认互通倡议)."""

    code = models.CharField(max_length=8, primary_key=True)
    order = models.PositiveSmallIntegerField(
        unique=True, help_text="Order in the initiative's list of signatories."
    )
    name_zh = models.CharField(max_length=64)
    name_en = models.CharField(max_length=128)
    province_code = models.CharField(max_length=6, help_text="GB/T 2260 province-level code.")
    province_zh = models.CharField(max_length=16)
    runs_node = models.BooleanField(default=False)
    node_url = models.URLField(blank=True)

    class Meta:
        ordering = ["order"]

    def __str__(self) -> str:
        return f"{self.code} {self.name_zh}"
