from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q


class RegistryUserManager(UserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        extra_fields.setdefault("role", User.Role.ADMIN)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A person using this node.

    Operators belong to exactly one exchange and manage only its records; admins (superusers) run the node.
    """

    class Role(models.TextChoices):
        ADMIN = "admin", "管理员 Admin"
        OPERATOR = "operator", "交易所运营人员 Exchange operator"
        PARTICIPANT = "participant", "市场主体用户 Participant user"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.OPERATOR)
    exchange = models.ForeignKey(
        "exchanges.Exchange", on_delete=models.PROTECT, null=True, blank=True, related_name="operators"
    )

    participant_id = models.CharField(
        max_length=18,
        blank=True,
        default="",
        help_text="For participant users: the participant (registered at this node) they act for.",
    )
    token_generation = models.PositiveIntegerField(
        default=0,
        help_text="Raised when the password changes or the registration is suspended or revoked: the home "
        "node refuses access tokens of an earlier generation.",
    )

    objects = RegistryUserManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="operator_has_exchange",
                condition=~Q(role="operator") | Q(exchange__isnull=False),
            ),
            models.CheckConstraint(
                name="participant_user_has_participant",
                condition=~Q(role="participant") | ~Q(participant_id=""),
            ),
        ]

    @property
    def is_operator(self) -> bool:
        return self.role == self.Role.OPERATOR and self.exchange_id is not None


class ApiToken(models.Model):
    """An API token. Only its SHA-256 is stored: a leaked database does not leak usable tokens."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=64, default="default")
    prefix = models.CharField(max_length=12, help_text="First characters of the token, to recognise it.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class RefreshToken(models.Model):
    """A participant user's refresh token (home node only): exchanged at home for a new access token.
    Only its SHA-256 is stored; each use rotates it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="refresh_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    # When the login this token descends from happened: refreshing renews a session up to
    # PARTICIPANT_SESSION_MAX after it, not for ever.
    session_started_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh of {self.user}"
