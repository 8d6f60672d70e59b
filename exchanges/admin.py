from django.contrib import admin

from exchanges.models import Exchange


@admin.register(Exchange)
class ExchangeAdmin(admin.ModelAdmin):
    list_display = ("order", "code", "name_zh", "name_en", "province_zh", "runs_node", "node_url")
    list_filter = ("runs_node", "province_zh")
    search_fields = ("code", "name_zh", "name_en")
    readonly_fields = ("code", "order")
