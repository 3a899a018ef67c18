"""The REST API of the shipments app: consignees, shipments and their moves, flags."""
