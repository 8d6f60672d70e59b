"""What participants tell the apps above them."""

from django.dispatch import Signal

# Registrations of these companies changed here (registered, verified, suspended... at home, or applied from
# a peer), inside the transaction: `participant_ids`. Products of these providers follow their standing.
registrations_changed = Signal()
