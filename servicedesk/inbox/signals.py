"""What the mailbox tells the apps above it. It never imports its listeners (complaints)."""

from django.dispatch import Signal

# Sent after a read of the mailbox when emails are waiting to be acted on (new or left from an
# earlier read whose listener failed), so a failed listener is caught up at the next read.
# No arguments. Receivers act on ``InboundMail.objects.waiting()`` and must be idempotent.
mail_waiting = Signal()
