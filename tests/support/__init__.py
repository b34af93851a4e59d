"""Helpers the tests share. conftest files hold fixtures only; what a test module
imports comes from here (or from tests/factories.py and tests/links.py)."""
