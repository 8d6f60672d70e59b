"""The served OpenAPI document (`GET /api/schema/`)."""

from __future__ import annotations

import threading

from django.utils import translation
from drf_spectacular.views import SpectacularAPIView
from rest_framework.response import Response


class SchemaView(SpectacularAPIView):
    """`GET /api/schema/`: the OpenAPI document, generated once per process, version and language. It is the
    same for every caller (served public), and drf-spectacular's generator is not safe in two threads at once:
    three clients loading it together got a 500 from one of the gunicorn threads."""

    _lock = threading.Lock()
    _documents: dict[tuple, dict] = {}

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, translation.get_language())
        with self._lock:
            document = self._documents.get(key)
            if document is None:
                generator = self.generator_class(
                    urlconf=self.urlconf, api_version=version, patterns=self.patterns
                )
                document = generator.get_schema(request=request, public=self.serve_public)
                self._documents[key] = document
        filename = self._get_filename(request, version)
        return Response(data=document, headers={"Content-Disposition": f'inline; filename="{filename}"'})
