"""Signals feedback sends to other apps. Feedback never imports its listeners (recovery)."""

from django.dispatch import Signal

# Sent once a patient or staff response has been stored and analysed (after commit).
# Keyword arguments:
#   response_id: int   — feedback.Response primary key
#   is_negative: bool  — the survey's negative rules matched (FFT poor/very poor, NPS <= 6, ...)
# Receivers must be idempotent: the signal may be delivered more than once for one response.
response_submitted = Signal()

# Sent (after commit) when a manager corrects the themes of a response's comment.
# Keyword arguments: response_id: int.
response_themes_changed = Signal()
