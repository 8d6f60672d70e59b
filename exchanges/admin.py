from django.contrib import admin

from exchanges.models import Exchange
from federation.generation import generation_bump


@admin.register(Exchange)
class ExchangeAdmin(admin.ModelAdmin):
    list_display = ("order", "code", "name_zh", "name_en", "province_zh", "runs_node", "node_url")
    list_filter = ("runs_node", "province_zh")
    search_fields = ("code", "name_zh", "name_en")
    readonly_fields = ("code", "order")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        generation_bump()  # the directory changed outside the change log (api/read_cache.py)
