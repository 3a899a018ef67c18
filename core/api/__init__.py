"""What every part of the REST API shares: the error body, strict JSON, permissions by action,
keyset pagination, throttling, token authentication and the OpenAPI schema.

Resources live with the apps that own them (`licenses.api`, `shipments.api`); `config.api_urls`
puts them under `/api/v1/`.
"""
