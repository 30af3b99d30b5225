"""The embedded default: real PostgreSQL, MongoDB and Redis servers under the data dir."""

from backend_client.local_stack.stack import LocalStack, StackEndpoints, StackError

__all__ = ["LocalStack", "StackEndpoints", "StackError"]
