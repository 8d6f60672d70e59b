"""The portal's language: Django's LocaleMiddleware (the `django_language` cookie that set_language writes,
then Accept-Language, then LANGUAGE_CODE), on the portal's paths only. The API keeps answering as before:
its error messages carry both languages (`message`, `message_en`) whatever the request's language."""

from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

from portal.paths import is_machine_path


class PortalLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request):
        if is_machine_path(request.path):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
            return
        super().process_request(request)

    def process_response(self, request, response):
        if is_machine_path(request.path):
            return response
        return super().process_response(request, response)
