from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = "Participants 市场主体"

    def ready(self):
        from participants import receivers, replication  # noqa: F401 - registers the record types and receivers
