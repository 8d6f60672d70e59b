"""The caller behind a participant access token, at any node (no local user row is needed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParticipantPrincipal:
    participant_id: str
    home: str
    username: str
    roles: tuple[str, ...]
    services: tuple[str, ...]
    legal_name: str
    status: str

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False
    is_staff = False
    role = "participant"
    exchange_id = None
    is_operator = False

    @property
    def pk(self) -> str:  # throttling identity
        return f"participant:{self.home}:{self.username}"

    @property
    def id(self) -> str:
        return self.pk

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def __str__(self) -> str:
        return f"{self.username}@{self.home} ({self.participant_id})"
