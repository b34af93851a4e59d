"""Site-wide presentation shared by every app (not a Django app: no models)."""
