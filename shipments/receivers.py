"""Shipments follow the applications that cover them (connected in ShipmentsConfig.ready)."""
