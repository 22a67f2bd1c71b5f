from portal.users.models import Role, User

__all__ = ["Role", "User"]
