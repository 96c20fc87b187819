"""Survey invitations, a package of the feedback app: from the day's visit list to a finished survey.

- ``contacts``: normalising and hashing a patient's email or phone; suppression and frequency checks.
- ``sending``: timing rules and creating invitations with their first message.
- ``delivery``: handing due messages to the outbox (which sends every message once), reading
  back what it did, the minute sweep.
- ``privacy``: opting out, the retention purge, access and erasure requests.
- ``integrations``: tokens for the practice-management system's visits API.
- ``imports``: CSV visit lists, checked before anything is imported.
- ``views``, ``forms``, ``urls`` (namespace ``invitations``), ``root_urls`` (the API and opt-out at
  their public addresses), ``metrics``, ``demo``.

The services are re-exported here: ``from feedback import invitations; invitations.message_send(...)``.
"""

from feedback.invitations.contacts import (
    Contact,
    MessageStatus,
    contact_hash,
    contact_invitations,
    contact_is_suppressed,
    contact_recently_invited,
    normalise_email,
    normalise_phone,
)
from feedback.invitations.delivery import (
    REPUBLISH_AFTER,
    SWEEP_BATCH,
    Rendered,
    SweepReport,
    invitations_sweep,
    message_hand_over,
    message_render,
    message_send,
    messages_read_back,
    messages_withdraw,
)
from feedback.invitations.integrations import (
    INTEGRATION_TOKEN_PREFIX,
    integration_token_authenticate,
    integration_token_create,
    integration_token_revoke,
)
from feedback.invitations.privacy import (
    UNCONFIRMED_IMPORT_KEPT,
    ContactRecord,
    contact_erase,
    contact_export,
    contact_find,
    contact_suppress,
    invitation_for_link,
    invitation_opt_out,
    invitations_purge,
)
from feedback.invitations.sending import (
    OPTED_OUT,
    Outcome,
    Prepared,
    Visit,
    choose_channel,
    first_message_due,
    in_quiet_hours,
    invitation_create,
    invitation_prepare,
    invitation_rules_update,
    outside_quiet_hours,
    practice_zone,
)

__all__ = [
    "INTEGRATION_TOKEN_PREFIX",
    "OPTED_OUT",
    "REPUBLISH_AFTER",
    "SWEEP_BATCH",
    "UNCONFIRMED_IMPORT_KEPT",
    "Contact",
    "ContactRecord",
    "MessageStatus",
    "Outcome",
    "Prepared",
    "Rendered",
    "SweepReport",
    "Visit",
    "choose_channel",
    "contact_erase",
    "contact_export",
    "contact_find",
    "contact_hash",
    "contact_invitations",
    "contact_is_suppressed",
    "contact_recently_invited",
    "contact_suppress",
    "first_message_due",
    "in_quiet_hours",
    "integration_token_authenticate",
    "integration_token_create",
    "integration_token_revoke",
    "invitation_create",
    "invitation_for_link",
    "invitation_opt_out",
    "invitation_prepare",
    "invitation_rules_update",
    "invitations_purge",
    "invitations_sweep",
    "message_hand_over",
    "message_render",
    "message_send",
    "messages_read_back",
    "messages_withdraw",
    "normalise_email",
    "normalise_phone",
    "outside_quiet_hours",
    "practice_zone",
]
