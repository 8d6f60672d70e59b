"""The network's shared standards (一套标准，全国共通): what every node applies alike.

The member exchanges and their codes, the product descriptor and its vocabularies, the naming rule, the
product code, the compliance checklist, GB/T 2260 regions, the USCC, the participant and demand standards,
and Chinese segmentation. Plain rules: no models, HTTP or Celery, and no import of any app of the project
(only `core`), so the API, the importer and the federation's apply path call the same code.
"""
