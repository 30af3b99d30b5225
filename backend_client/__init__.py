"""Dr. Assistant backend client: Qt-free services and stores.

Nothing here connects to a store, starts a thread or reads configuration at import time.
"""
