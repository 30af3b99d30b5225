"""User accounts: password policy and hashing, and the account service."""
