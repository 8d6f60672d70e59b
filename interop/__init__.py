"""Interoperability with catalogs outside the network (docs/interop.md): a product as a CKAN package, an
exchange as a CKAN organization, and CKAN's read actions over this node's listed products (served by
`api/views/ckan.py` at `/api/3/action/`); harvesting another CKAN site or DCAT catalog into draft products
(`harvest*.py`, `manage.py harvest`), whose only HTTP is reading that source."""
