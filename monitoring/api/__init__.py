"""The flags resource of the REST API (routed in `config.api_urls`)."""
