"""Interoperability with catalogs outside the network (docs/interop.md): a product as a CKAN package, an
exchange as a CKAN organization, and CKAN's read actions over this node's listed products. Mapping and reads
only, no HTTP: `api/views/ckan.py` serves them at `/api/3/action/`."""
