"""The embedded default: real PostgreSQL, MongoDB and Redis servers under the data dir."""

from backend_client.local_stack.lease import LeaseInfo, StackLease
from backend_client.local_stack.stack import LocalStack, StackEndpoints, StackError, StackInUse

__all__ = ["LeaseInfo", "LocalStack", "StackEndpoints", "StackError", "StackInUse",
           "StackLease"]
