"""The REST API of the licenses app: thin serializers and viewsets over its services and
selectors (routed in `config.api_urls`)."""
