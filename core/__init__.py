"""The toolkit every app shares: errors, API and web page base classes, SQL helpers, lookups.

It imports no app of the product: `licenses` ← `shipments` ← `monitoring` build on it.
"""
