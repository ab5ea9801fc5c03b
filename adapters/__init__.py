"""polyfn's provider adapters, installed as ``polyfn.adapters``."""
