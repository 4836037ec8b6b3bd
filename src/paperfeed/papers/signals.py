"""What the papers app tells the apps above it, without importing them."""

from django.dispatch import Signal

# Sent after papers were loaded or ingested (by a command or a load); the task queue's app answers by asking for
# upkeep: embedding the new papers for search by meaning, then refitting recommendations (background/apps.py).
papers_loaded = Signal()
