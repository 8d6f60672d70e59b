"""The portal's page views: one module per page or group of pages. A view reads the request, calls the
selectors and services the API's views call (never the ORM), and renders a template."""
