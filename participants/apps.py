from django.apps import AppConfig


class ParticipantsConfig(AppConfig):
    name = "participants"
    verbose_name = "Participants 市场主体"

    def ready(self):
        from participants import receivers, replicas  # noqa: F401 - declares the record types, connects receivers
