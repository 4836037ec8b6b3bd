"""What the papers app tells the apps above it, without importing them."""

from django.dispatch import Signal

# Sent after papers were loaded or ingested (by a command or a load); the task queue's app answers by asking for
# upkeep: embedding the new papers for search by meaning, then refitting recommendations (background/apps.py).
papers_loaded = Signal()

# Sent when something new needs embedding or refitting that is not a paper (a member's imported library entries):
# the same upkeep answers.
upkeep_wanted = Signal()
