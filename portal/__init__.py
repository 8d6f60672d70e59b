"""The portal: the node's web pages for people (docs/portal.md), served by the same Django process as the
API. Pages call the same services and selectors as the API's views and validate input with its serializers."""
