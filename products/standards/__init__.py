"""The common standard every node applies alike: descriptor, vocabularies, naming, product codes, compliance.

Plain domain rules: no Django models, DRF or Celery here, so the API, the bulk importer and the federation
apply path all call the same code.
"""
